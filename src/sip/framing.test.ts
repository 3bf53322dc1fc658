import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { StreamFramer, parseDatagram, PONG, startStreamGuard, type FrameEvent } from './framing.js';

const msg = (cl: number | string | null, body = '', extra = ''): Buffer =>
  Buffer.from(
    'OPTIONS sip:bob@biloxi.example SIP/2.0\r\nVia: SIP/2.0/TCP a.example;branch=z9hG4bK1\r\nTo: <sip:bob@biloxi.example>\r\n' +
      'From: <sip:alice@atlanta.example>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n' + extra +
      (cl === null ? '' : `Content-Length: ${cl}\r\n`) + '\r\n' + body,
  );

const types = (evs: FrameEvent[]): string[] => evs.map((e) => (e.type === 'error' ? `error:${e.error.status}${e.error.fatal ? ':fatal' : ''}` : e.type));

describe('StreamFramer', () => {
  it('frames back-to-back messages by Content-Length', () => {
    const f = new StreamFramer();
    const evs = f.push(Buffer.concat([msg(5, 'hello'), msg(0), msg(3, 'abc')]));
    expect(types(evs)).toEqual(['message', 'message', 'message']);
    expect(evs[0]!.type === 'message' && evs[0]!.msg.body.toString()).toBe('hello');
    expect(f.pending).toBe(0);
  });

  it('waits for the body when Content-Length says more is coming', () => {
    const f = new StreamFramer();
    expect(f.push(msg(10, 'hello'))).toEqual([]);
    expect(f.pending).toBeGreaterThan(0);
    expect(types(f.push(Buffer.from('world')))).toEqual(['message']);
  });

  it('answers RFC 5626 double-CRLF pings and recognises pongs, also when split', () => {
    const f = new StreamFramer();
    expect(types(f.push(Buffer.from('\r\n\r\n')))).toEqual(['ping']);
    expect(types(f.push(Buffer.from('\r\n')))).toEqual(['pong']);
    expect(types(f.push(Buffer.from('\r\n')))).toEqual(['ping']);
    expect(types(f.push(Buffer.concat([Buffer.from('\r\n\r\n'), msg(0)])))).toEqual(['ping', 'message']);
  });

  it('keeps going after a malformed but well-framed message (non-fatal 400 with a partial parse)', () => {
    const f = new StreamFramer();
    const bad = Buffer.from(msg(0).toString().replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'));
    const evs = f.push(Buffer.concat([bad, msg(0)]));
    expect(types(evs)).toEqual(['error:400', 'message']);
    const e = evs[0]!;
    expect(e.type === 'error' && e.partial?.callId).toBe('c1');
  });

  it('closes on Content-Length lies it cannot frame', () => {
    expect(types(new StreamFramer().push(msg('-5')))).toEqual(['error:400:fatal']);
    expect(types(new StreamFramer().push(msg('12', 'x', 'Content-Length: 13\r\n')))).toEqual(['error:400:fatal']);
    expect(types(new StreamFramer().push(msg(10_000_000)))).toEqual(['error:413:fatal']);
    expect(types(new StreamFramer({ limits: { maxMessageBytes: 1000 } }).push(msg(900)))).toEqual(['error:513:fatal']);
  });

  it('closes when a header section never ends (header flood / no CRLFCRLF)', () => {
    const f = new StreamFramer({ limits: { maxHeaderBytes: 4096 } });
    let evs: FrameEvent[] = [];
    for (let i = 0; i < 200 && evs.length === 0; i++) evs = f.push(Buffer.from('X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'));
    expect(types(evs)).toEqual(['error:513:fatal']);
    expect(f.push(msg(0))).toEqual([]); // closed: ignores further input
  });

  it('reports header-count floods as a 400', () => {
    const f = new StreamFramer();
    expect(types(f.push(msg(0, '', 'X-A: 1\r\n'.repeat(300))))).toEqual(['error:400']);
  });

  it('slowloris: flags a partial message pending too long and an idle connection', () => {
    let now = 1000;
    const f = new StreamFramer({ now: () => now });
    f.push(msg(0).subarray(0, 20));
    now += 4000;
    expect(f.checkTimeouts({ partialMessageTimeoutMs: 5000 })).toBeNull();
    now += 1000;
    expect(f.checkTimeouts({ partialMessageTimeoutMs: 5000 })).toBe('partial');
    const g = new StreamFramer({ now: () => now });
    g.push(msg(0));
    now += 30_000;
    expect(g.checkTimeouts({ partialMessageTimeoutMs: 5000, idleTimeoutMs: 30_000 })).toBe('idle');
  });
});

describe('parseDatagram', () => {
  it('treats CRLF-only datagrams as keep-alives', () => {
    expect(parseDatagram(Buffer.from('\r\n\r\n')).type).toBe('keepalive');
  });
  it('returns typed errors and never throws', () => {
    const r = parseDatagram(msg(100, 'short'));
    expect(r.type === 'error' && r.error.status).toBe(400);
    expect(parseDatagram(Buffer.from([0xff, 0x00, 0x13])).type).toBe('error');
    expect(parseDatagram(Buffer.alloc(70_000, 0x41)).type === 'error').toBe(true);
  });
  it('uses the rest of the datagram as body when Content-Length is absent', () => {
    const r = parseDatagram(msg(null, 'v=0\r\n'));
    expect(r.type === 'message' && r.msg.body.toString()).toBe('v=0\r\n');
  });
});

describe('framing over a real TCP socket', () => {
  it('frames messages trickled byte by byte, pongs pings, and the guard closes a slowloris peer', async () => {
    const received: string[] = [];
    let guardFired: string | null = null;
    const server = net.createServer((sock) => {
      const f = new StreamFramer();
      const stop = startStreamGuard(f, { partialMessageTimeoutMs: 300, intervalMs: 50 }, (kind) => {
        guardFired = kind;
        sock.destroy();
      });
      sock.on('data', (d) => {
        for (const ev of f.push(d)) {
          if (ev.type === 'ping') sock.write(PONG);
          if (ev.type === 'message') received.push(ev.msg.method);
        }
      });
      sock.on('close', stop);
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', r));
    const pong = new Promise<Buffer>((r) => client.once('data', r));
    client.write('\r\n\r\n');
    expect((await pong).toString()).toBe('\r\n');
    const m = msg(5, 'hello');
    for (let i = 0; i < m.length; i++) client.write(m.subarray(i, i + 1));
    client.write(msg(0).subarray(0, 30)); // then stall mid-message
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    client.on('error', () => undefined);
    await closed;
    expect(received).toEqual(['OPTIONS']);
    expect(guardFired).toBe('partial');
    await new Promise<void>((r) => server.close(() => r()));
  });
});
