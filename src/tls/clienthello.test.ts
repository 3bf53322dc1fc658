// SNI peeking on real ClientHello bytes (captured from Node's and OpenSSL's clients on 127.0.0.1).
import { describe, it, expect } from 'vitest';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { spawn } from 'node:child_process';
import { peekClientHello } from './clienthello.js';
import { listen, close } from './testkit.js';

/** The first bytes a client sends, once a whole first record has arrived. */
async function capture(connect: (port: number) => () => void): Promise<Buffer> {
  let stop = () => {};
  const got = new Promise<Buffer>((resolve) => {
    const server = net.createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          s.destroy();
          stop();
          void close(server).then(() => resolve(buf));
        }
      });
      s.on('error', () => {});
    });
    void listen(server).then((port) => {
      stop = connect(port);
    });
  });
  return got;
}

const nodeHello = (servername?: string) =>
  capture((port) => {
    const c = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
    c.on('error', () => {});
    return () => c.destroy();
  });

/** Splits the handshake payload of a one-record hello into records of `size` bytes. */
function reframe(hello: Buffer, size: number): Buffer {
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const part = body.subarray(i, i + size);
    out.push(Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part);
  }
  return Buffer.concat(out);
}

describe('peekClientHello', () => {
  it('finds the server name in Node’s ClientHello, and its absence', async () => {
    expect(peekClientHello(await nodeHello('sip.atlanta.example'))).toEqual({ state: 'hello', sni: 'sip.atlanta.example' });
    expect(peekClientHello(await nodeHello(undefined))).toEqual({ state: 'hello' });
  });

  it('finds it in OpenSSL s_client’s ClientHello', async () => {
    const hello = await capture((port) => {
      const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'biloxi.example'], { stdio: ['pipe', 'ignore', 'ignore'] });
      p.on('error', () => {});
      return () => p.kill();
    });
    expect(peekClientHello(hello)).toEqual({ state: 'hello', sni: 'biloxi.example' });
  });

  it('needs more until the whole hello is there, byte by byte and across records', async () => {
    const hello = await nodeHello('pbx.biloxi.example');
    for (const bytes of [hello, reframe(hello, 100), reframe(hello, 7)]) {
      for (let n = 0; n < bytes.length; n++) expect(peekClientHello(bytes.subarray(0, n)).state).toBe('need-more');
      expect(peekClientHello(bytes)).toEqual({ state: 'hello', sni: 'pbx.biloxi.example' });
    }
  });

  it('says not-hello for garbage, other record types, and malformed hellos', async () => {
    expect(peekClientHello(Buffer.from('OPTIONS sip:x SIP/2.0\r\n')).state).toBe('not-hello');
    expect(peekClientHello(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])).state).toBe('not-hello'); // an alert
    expect(peekClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])).state).toBe('not-hello'); // ServerHello
    const hello = Buffer.from(await nodeHello('x.example'));
    // Claim a longer extensions block than the message holds.
    const bad = Buffer.from(hello);
    bad[5 + 4 + 2 + 32] = 0xff; // session id length far too long
    expect(peekClientHello(bad).state).toBe('not-hello');
  });

  it('ignores a server name that is not a host name', async () => {
    const hello = Buffer.from(await nodeHello('aaaa.example'));
    const at = hello.indexOf('aaaa.example');
    hello[at] = 0x00;
    expect(peekClientHello(hello)).toEqual({ state: 'hello' });
  });
});
