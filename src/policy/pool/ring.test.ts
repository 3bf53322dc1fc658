// The SharedArrayBuffer ring: records of any size up to half the ring, wrapping around its end,
// refusing what does not fit until the consumer frees room; and across threads, an echo worker
// (sleeping in Atomics.wait, woken by commit) returning 20,000 records of varying sizes intact
// and in order while this thread waits with Atomics.waitAsync.
import { describe, expect, it } from 'vitest';
import { Ring } from './ring.js';
import { startModuleWorker } from '../worker-start.js';

function fill(ring: Ring, at: number, n: number, seed: number): void {
  for (let i = 0; i < n; i++) ring.u8[at + i] = (seed * 31 + i) & 0xff;
}
function check(ring: Ring, at: number, n: number, seed: number): boolean {
  for (let i = 0; i < n; i++) if (ring.u8[at + i] !== ((seed * 31 + i) & 0xff)) return false;
  return true;
}

describe('Ring', () => {
  it('passes records in order, wraps around the end, and refuses a record with no room', () => {
    const sab = Ring.create(4096);
    const producer = new Ring(sab);
    const consumer = new Ring(sab);
    expect(consumer.peek()).toBe(-1);
    let written = 0;
    let read = 0;
    const sizes = [0, 1, 7, 8, 9, 100, 1000, 2040, 333];
    for (let round = 0; round < 200; round++) {
      // write until full
      for (;;) {
        const n = sizes[written % sizes.length]!;
        const o = producer.reserve(n);
        if (o < 0) break;
        expect(o % 8).toBe(0);
        fill(producer, o, n, written);
        producer.commit(n);
        written++;
      }
      // read some (not all: the next round writes around what is left)
      for (let k = 0; k < 3 && !consumer.empty; k++) {
        const o = consumer.peek();
        const n = sizes[read % sizes.length]!;
        expect(consumer.length).toBe(n);
        expect(check(consumer, o, n, read)).toBe(true);
        consumer.release();
        read++;
      }
    }
    expect(written).toBeGreaterThan(500);
    expect(() => producer.reserve(producer.maxRecord + 1)).toThrow(RangeError);
  });

  it('carries 20,000 records to a worker thread and back, intact and in order', async () => {
    const requests = Ring.create(1 << 16);
    const results = Ring.create(1 << 16);
    const out = new Ring(requests);
    const back = new Ring(results);
    const worker = startModuleWorker(new URL('./testing/echo-worker.js', import.meta.url), { workerData: { requests, results } });
    const total = 20_000;
    const size = (k: number) => (k * 7919) % 3000 + 1;
    let sent = 0;
    let got = 0;
    const send = () => {
      while (sent < total) {
        const n = size(sent);
        const o = out.reserve(n);
        if (o < 0) return;
        fill(out, o, n, sent);
        out.commit(n);
        sent++;
      }
      if (sent === total) {
        out.reserve(0);
        out.commit(0); // the end
        sent++;
      }
    };
    send();
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      const take = () => {
        for (;;) {
          const o = back.peek();
          if (o < 0) break;
          const n = back.length;
          if (n === 0) return resolve();
          if (n !== size(got) || !check(back, o, n, got)) return reject(new Error(`record ${got} damaged`));
          back.release();
          got++;
        }
        send();
        const p = back.dataAsync();
        if (p) void p.then(() => (back.awake(), take()));
        else setImmediate(take);
      };
      take();
    });
    expect(got).toBe(total);
    await worker.terminate();
  }, 60_000);
});
