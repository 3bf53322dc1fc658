// The per-message fast paths of the transport layer, over real loopback sockets: writes of one
// tick leave as one batch, an established pooled flow is found without a promise, and an IP
// next hop resolves without a lookup.
import { afterEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import pino from 'pino';
import { Transports } from './transports.js';
import { StreamFlow, type FlowHandler } from './flow.js';
import { DnsResolver3263 } from './nexthop.js';
import { parseUri, type SipUri } from '../sip/uri.js';

const logger = pino({ level: 'silent' });
const handler: FlowHandler = { onMessage: () => {}, onBadInput: () => {} };
const tick = () => new Promise((r) => setImmediate(r));

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c(); // last registered, first undone
});

/** A TCP server on 127.0.0.1 that collects what it receives. */
async function sink(): Promise<{ port: number; received: () => string; sockets: net.Socket[] }> {
  let data = '';
  const sockets: net.Socket[] = [];
  const srv = net.createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => (data += d.toString()));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise((r) => srv.close(r)));
  cleanup.push(() => sockets.forEach((s) => s.destroy()));
  return { port: (srv.address() as net.AddressInfo).port, received: () => data, sockets };
}

describe('StreamFlow.send', () => {
  it('corks the socket for the rest of the tick and writes every message, in order, when the tick ends', async () => {
    const s = await sink();
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const c = net.connect(s.port, '127.0.0.1', () => resolve(c));
      c.once('error', reject);
    });
    cleanup.push(() => socket.destroy());
    const flow = new StreamFlow(socket, 'tcp', handler, { logger });
    flow.send(Buffer.from('one|'));
    flow.send(Buffer.from('two|'));
    flow.send(Buffer.from('three|'));
    expect(socket.writableCorked).toBe(1); // held back within the tick (once, not per message)
    await tick();
    expect(socket.writableCorked).toBe(0);
    for (let i = 0; i < 50 && s.received().length < 14; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.received()).toBe('one|two|three|');
    // a later tick batches again
    flow.send(Buffer.from('four|'));
    expect(socket.writableCorked).toBe(1);
    await tick();
    expect(socket.writableCorked).toBe(0);
  });

  it('refuses to write on a closed flow', async () => {
    const s = await sink();
    const socket = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const flow = new StreamFlow(socket, 'tcp', handler, { logger });
    flow.close();
    expect(() => flow.send(Buffer.from('x'))).toThrow(/closed/);
  });
});

describe('Transports.connectedFlow', () => {
  it('finds the pooled flow once connect() established it, and forgets it when it closes', async () => {
    const s = await sink();
    const t = new Transports({ handler, logger });
    cleanup.push(() => t.close());
    const target = { transport: 'tcp' as const, host: '127.0.0.1', port: s.port };
    expect(t.connectedFlow(target)).toBeUndefined(); // nothing yet: the caller must connect()
    const flow = await t.connect(target);
    expect(t.connectedFlow(target)).toBe(flow);
    expect(t.connectedFlow({ ...target, expectedDomain: 'other.example' })).toBeUndefined(); // another pool key
    expect(await t.connect(target)).toBe(flow); // one connection per key
    flow.close();
    await new Promise((r) => (flow as StreamFlow).socket.once('close', r));
    expect(t.connectedFlow(target)).toBeUndefined();
  });

  it('never hands out a pooled connection that is closing: the next request gets a new one', async () => {
    const s = await sink();
    const t = new Transports({ handler, logger });
    cleanup.push(() => t.close());
    const target = { transport: 'tcp' as const, host: '127.0.0.1', port: s.port };
    // closing once what was written is sent: ended, not yet closed
    const first = await t.connect(target);
    first.close({ afterWrites: true });
    expect(first.closed).toBe(true);
    const second = await t.connect(target);
    expect(second).not.toBe(first);
    expect(second.closed).toBe(false);
    expect(t.connectedFlow(target)).toBe(second);
    // dropped through the admin API: out of the pool at once, before its 'close' event
    expect(t.dropConnection(second.id)).toBe(true);
    expect(t.connectedFlow(target)).toBeUndefined();
    const third = await t.connect(target);
    expect([third === first, third === second, third.closed]).toEqual([false, false, false]);
    third.send(Buffer.from('after the drop|'));
    for (let i = 0; i < 50 && !s.received().includes('after the drop|'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.received()).toContain('after the drop|');
  });

  it('never answers for UDP (datagram flows are not pooled)', () => {
    const t = new Transports({ handler, logger });
    expect(t.connectedFlow({ transport: 'udp', host: '127.0.0.1', port: 5060 })).toBeUndefined();
  });
});

describe('DnsResolver3263.resolveNow', () => {
  const r = new DnsResolver3263(['127.0.0.1:1']); // never asked: a lookup would fail
  const uri = (s: string) => parseUri(s, 'route') as SipUri;

  it('resolves IP literal hosts without a lookup, like resolve()', async () => {
    expect(r.resolveNow(uri('sip:127.0.0.1:5071;transport=tls'))).toEqual([{ transport: 'tls', host: '127.0.0.1', port: 5071 }]);
    expect(r.resolveNow(uri('sips:127.0.0.1'))).toEqual([{ transport: 'tls', host: '127.0.0.1', port: 5061 }]);
    expect(r.resolveNow(uri('sip:[::1]:5070'))).toEqual([{ transport: 'udp', host: '::1', port: 5070 }]);
    expect(await r.resolve(uri('sip:127.0.0.1:5071;transport=tls'))).toEqual(r.resolveNow(uri('sip:127.0.0.1:5071;transport=tls')));
  });

  it('leaves names to the asynchronous RFC 3263 path', () => {
    expect(r.resolveNow(uri('sip:biloxi.example'))).toBeUndefined();
    expect(r.resolveNow(uri('sips:sip.biloxi.example:5061'))).toBeUndefined();
  });
});
