// Per-source kernel queues (udp-flows.ts) on real sockets of 127.0.0.0/8: a source's datagrams
// reach the gateway through its own socket once it has one, a flooder filling its own buffer
// loses only its own datagrams, the number of sockets is bounded, and a port in use is still
// refused.
import { afterEach, describe, expect, it } from 'vitest';
import * as dgram from 'node:dgram';
import { UdpFlowSockets, bindSharedUdp } from './udp-flows.js';

const sizes = { recvBufferSize: 1 << 16, sendBufferSize: 1 << 16 };
const udp = (address: string): Promise<dgram.Socket> =>
  new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, address, () => resolve(s));
  });
const until = async (cond: () => boolean, what: string, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('UDP flow sockets', () => {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });

  it('a source gets its own socket; its datagrams and no one else\'s arrive there', async () => {
    const shared = await bindSharedUdp('udp4', 0, '127.0.0.1', sizes);
    open.push(shared);
    const port = shared.address().port;
    const viaShared: string[] = [];
    const viaOwn: string[] = [];
    shared.on('message', (b) => viaShared.push(b.toString()));
    const flows = new UdpFlowSockets({ address: '127.0.0.1', port, type: 'udp4' }, (b) => viaOwn.push(b.toString()), { max: 4, perSecond: 100, idleMs: 60_000 });
    open.push(flows);
    const a = await udp('127.0.0.21');
    const b = await udp('127.0.0.22');
    open.push(a, b);
    a.send('a-0', port, '127.0.0.1');
    await until(() => viaShared.length === 1, 'the first datagram');
    flows.seen('127.0.0.21', a.address().port);
    await until(() => flows.size === 1, 'the flow socket');
    a.send('a-1', port, '127.0.0.1');
    b.send('b-0', port, '127.0.0.1');
    await until(() => viaOwn.length === 1 && viaShared.length === 2, 'a-1 and b-0');
    expect(viaOwn).toEqual(['a-1']);
    expect(viaShared).toEqual(['a-0', 'b-0']);
  });

  it('a flooder fills only its own buffer: another source loses nothing', async () => {
    const shared = await bindSharedUdp('udp4', 0, '127.0.0.1', sizes);
    open.push(shared);
    const port = shared.address().port;
    const got: string[] = [];
    shared.on('message', (b) => got.push(b.toString()));
    let flooded = 0;
    const flows = new UdpFlowSockets({ address: '127.0.0.1', port, type: 'udp4' }, (b) => (b.toString() === 'flood' ? flooded++ : got.push(b.toString())), { max: 4, perSecond: 100, idleMs: 60_000 });
    open.push(flows);
    const flooder = await udp('127.0.0.23');
    const peer = await udp('127.0.0.24');
    open.push(flooder, peer);
    flows.seen('127.0.0.23', flooder.address().port);
    await until(() => flows.size === 1, 'the flooder\'s socket');
    // 20,000 datagrams sent while this thread does not read: far beyond any socket buffer
    const blob = Buffer.from('flood');
    for (let i = 0; i < 20_000; i++) flooder.send(blob, port, '127.0.0.1');
    for (let i = 0; i < 50; i++) peer.send(`p-${i}`, port, '127.0.0.1');
    await until(() => got.length === 50, 'the other source\'s 50 datagrams');
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `p-${i}`));
    await until(() => flooded > 0, 'the flood');
  });

  it('bounded: at most `max` sockets (the idlest goes), at most `perSecond` opened a second', async () => {
    const shared = await bindSharedUdp('udp4', 0, '127.0.0.1', sizes);
    open.push(shared);
    const port = shared.address().port;
    const flows = new UdpFlowSockets({ address: '127.0.0.1', port, type: 'udp4' }, () => {}, { max: 2, perSecond: 3, idleMs: 60_000 });
    open.push(flows);
    for (let i = 0; i < 10; i++) flows.seen('127.0.0.25', 40_000 + i);
    await until(() => flows.size === 2, 'two sockets');
    await new Promise((r) => setTimeout(r, 100));
    expect(flows.size).toBe(2);
  });

  it('a port in use is refused as before', async () => {
    const holder = await udp('127.0.0.1');
    open.push(holder);
    await expect(bindSharedUdp('udp4', holder.address().port, '127.0.0.1', sizes)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const shared = await bindSharedUdp('udp4', 0, '127.0.0.1', sizes);
    open.push(shared);
    await expect(bindSharedUdp('udp4', shared.address().port, '127.0.0.1', sizes)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
