// Free loopback ports for peers that cannot bind port 0 and report back (Kamailio, sipp).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/** A port free for both TCP and UDP on 127.0.0.1, never handed out twice in this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if (handedOut.has(port)) continue;
    if ((await tcpFree(port)) && (await udpFree(port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found');
}

/** The first of `n` consecutive ports free for TCP and UDP (a peer that derives ports from one, e.g. baresip's TLS on P+1). */
export async function freePortRun(n: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const run = Array.from({ length: n }, (_, i) => base + i);
    if (run.some((p) => handedOut.has(p))) continue;
    let free = true;
    for (const p of run) if (!((await tcpFree(p)) && (await udpFree(p)))) free = false;
    if (free) {
      for (const p of run) handedOut.add(p);
      return base;
    }
  }
  throw new Error(`no ${n} consecutive free loopback ports found`);
}
