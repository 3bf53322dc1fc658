// Per-source kernel queues for a UDP listener. Under a flood, what limits the gateway is not
// the limit check (a table lookup) but reading: every datagram costs a system call and Node's
// receive path (an allocation, a Buffer, an event) whatever we then do with it, and a flooder on
// one machine sends faster than one thread reads. The listening socket's buffer fills, and the
// kernel drops the datagrams of every peer alike: the legitimate peer's requests are lost with
// the flood's (measured: a Node socket that does nothing with what it reads gets ~40 % of one
// flooder's datagrams on a busy 2-core machine).
//
// So each UDP source (address and port) that is not blocked by its limits gets a socket of its
// own: bound to the listener's address and port and connected to the source, it receives that
// source's datagrams in a buffer of its own (Linux prefers the connected socket, the most
// specific match). A flooder then fills only its own buffer, and the kernel drops only its
// datagrams; every other peer's requests wait in their own buffers, read at every turn of the
// event loop. Responses still leave from the listening socket (same address and port).
//
// Cost: one file descriptor and one socket per source, bounded (`max`, the oldest idle first),
// created at most `perSecond` a second, closed after `idleMs` without a datagram. The listening
// socket needs SO_REUSEADDR for this (so does each flow socket); start() first binds without it,
// so that a port already in use is still refused (EADDRINUSE) as before.
import * as dgram from 'node:dgram';
import { BucketTable } from '../limits/index.js';

export interface UdpFlowOptions {
  /** flow sockets at most (file descriptors) */
  max: number;
  /** new flow sockets per second at most (a source rotating ports must not make us open sockets at its pace) */
  perSecond: number;
  /** a flow socket without a datagram this long is closed */
  idleMs: number;
}

export const DEFAULT_UDP_FLOWS: Readonly<UdpFlowOptions> = Object.freeze({ max: 256, perSecond: 50, idleMs: 60_000 });

interface FlowSocket {
  sock: dgram.Socket;
  lastAt: number;
}

export class UdpFlowSockets {
  private readonly flows = new Map<string, FlowSocket>();
  private readonly opening = new Set<string>();
  private readonly creations: BucketTable;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly listener: { address: string; port: number; type: 'udp4' | 'udp6' },
    private readonly onMessage: (buf: Buffer, rinfo: dgram.RemoteInfo) => void,
    private readonly opts: UdpFlowOptions = DEFAULT_UDP_FLOWS,
  ) {
    this.creations = new BucketTable({ rate: opts.perSecond, burst: opts.perSecond });
    this.sweeper = setInterval(() => this.sweep(), Math.min(opts.idleMs, 10_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.flows.size;
  }

  /** A datagram from `address`:`port` arrived on the listening socket and passed the limits: give the source its own socket. */
  seen(address: string, port: number): void {
    const key = `${address}|${port}`;
    if (this.closed || this.flows.has(key) || this.opening.has(key)) return;
    const now = performance.now();
    if (!this.creations.take('', now)) return;
    if (this.flows.size + this.opening.size >= this.opts.max && !this.evictIdlest()) return;
    this.opening.add(key);
    const sock = dgram.createSocket({ type: this.listener.type, reuseAddr: true });
    const fail = () => {
      this.opening.delete(key);
      sock.close();
    };
    sock.once('error', fail);
    sock.bind(this.listener.port, this.listener.address, () => {
      sock.connect(port, address, (err?: Error) => {
        if (err || this.closed) return fail();
        sock.off('error', fail);
        sock.on('error', () => {}); // e.g. ECONNREFUSED reported on a connected socket
        this.opening.delete(key);
        const f: FlowSocket = { sock, lastAt: performance.now() };
        this.flows.set(key, f);
        sock.on('message', (buf, rinfo) => {
          f.lastAt = performance.now();
          this.onMessage(buf, rinfo);
        });
      });
    });
  }

  private evictIdlest(): boolean {
    let oldest: [string, FlowSocket] | undefined;
    for (const e of this.flows) if (!oldest || e[1].lastAt < oldest[1].lastAt) oldest = e;
    if (!oldest) return false;
    this.drop(oldest[0], oldest[1]);
    return true;
  }

  private drop(key: string, f: FlowSocket): void {
    this.flows.delete(key);
    try {
      f.sock.close();
    } catch {
      // closed already
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const [k, f] of this.flows) if (now - f.lastAt > this.opts.idleMs) this.drop(k, f);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const [k, f] of this.flows) this.drop(k, f);
  }
}

/**
 * Binds a UDP listening socket that flow sockets can share its port with (SO_REUSEADDR), after
 * checking that no other socket holds the port (a plain bind first): a port in use is refused
 * as without flow sockets.
 */
export async function bindSharedUdp(type: 'udp4' | 'udp6', port: number, address: string, sizes: { recvBufferSize: number; sendBufferSize: number }): Promise<dgram.Socket> {
  const bind = (s: dgram.Socket, p: number) =>
    new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(p, address, () => {
        s.off('error', reject);
        resolve();
      });
    });
  const probe = dgram.createSocket({ type });
  await bind(probe, port);
  const chosen = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  const sock = dgram.createSocket({ type, reuseAddr: true, ...sizes });
  await bind(sock, chosen);
  return sock;
}
