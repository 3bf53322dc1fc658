// Test worker for ring.test.ts: reads records from one ring and writes each back, byte for byte,
// to the other, until a record of length 0. Sleeps in Atomics.wait when there is nothing to read.
import { workerData } from 'node:worker_threads';
import { Ring } from '../ring.js';

const input = new Ring(workerData.requests as SharedArrayBuffer);
const output = new Ring(workerData.results as SharedArrayBuffer);
const nap = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  const o = input.peek();
  if (o < 0) {
    input.waitForData();
    continue;
  }
  const n = input.length;
  let r = output.reserve(n);
  while (r < 0) {
    Atomics.wait(nap, 0, 0, 1); // the other side has not read yet
    r = output.reserve(n);
  }
  output.u8.set(input.u8.subarray(o, o + n), r);
  input.release();
  output.commit(n);
  if (n === 0) break;
}
