// A single-producer, single-consumer queue of variable-size records in a SharedArrayBuffer: how
// the gateway's event-loop thread hands policy inputs to an evaluation worker and gets decisions
// back without a postMessage (and its structured clone and event dispatch) per message.
//
// Layout: control words, then a power-of-two data area. A record is a 4-byte length and its
// payload, padded to 4 bytes; a record never straddles the end of the area (a length of -1 there
// means "continue at the start"). The write and read positions run freely as int32 byte counts;
// the producer publishes a record by storing the write position (Atomics: everything written
// before it is visible to the consumer that loads it), the consumer frees space by storing the
// read position.
//
// Waking: a consumer about to sleep raises WAITING, then sleeps on the write position
// (Atomics.wait on a worker, Atomics.waitAsync on the event-loop thread); a producer that sees
// WAITING after publishing calls Atomics.notify. Both sides use sequentially consistent atomics,
// so either the producer sees WAITING or the consumer sees the new write position: no lost
// wake-up, and no notify (a futex syscall) while the consumer is busy.

const W = 0; // write position (int32 index into the control words)
const WAITING = 16; // consumer asleep or about to be (64 bytes away from W: another cache line)
const R = 32; // read position
const CONTROL_BYTES = 192;
const WRAP = -1;

/** Atomics.waitAsync (V8, Node >= 16; not in TypeScript's ES2022 lib). */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

export class RingFullError extends Error {
  readonly code = 'RING_FULL';
}

export class Ring {
  readonly sab: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  private readonly ctl: Int32Array;
  private readonly cap: number;
  private readonly mask: number;
  /** producer: where the reserved record starts (data offset) and the write position after the pad */
  private resOff = 0;
  private resPos = 0;
  /** consumer: the read position of the record being read, and its payload length */
  private readPos = 0;
  private curLen = 0;
  private curPos = 0;

  /** A ring of `capacity` data bytes (a power of two, at least 4 KiB). */
  static create(capacity: number): SharedArrayBuffer {
    if (capacity < 4096 || (capacity & (capacity - 1)) !== 0) throw new RangeError('ring capacity must be a power of two >= 4096');
    return new SharedArrayBuffer(CONTROL_BYTES + capacity);
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.cap = sab.byteLength - CONTROL_BYTES;
    this.mask = this.cap - 1;
    this.ctl = new Int32Array(sab, 0, CONTROL_BYTES >> 2);
    this.u8 = new Uint8Array(sab);
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab, 0, sab.byteLength >> 3);
    this.readPos = Atomics.load(this.ctl, R);
  }

  /** The largest payload a record may have. */
  get maxRecord(): number {
    return (this.cap >> 1) - 8;
  }

  // ---- producer ----------------------------------------------------------------------------

  /**
   * Room for a record of at most `maxLen` payload bytes: the byte offset (in u8/i32/f64 terms, a
   * multiple of 8) where the payload goes, or -1 when the ring has no room now. Nothing is
   * visible to the consumer before commit().
   */
  reserve(maxLen: number): number {
    if (maxLen > this.maxRecord) throw new RangeError(`record of ${maxLen} bytes exceeds the ring's ${this.maxRecord}`);
    const need = 8 + align8(maxLen);
    let pos = Atomics.load(this.ctl, W);
    const used = (pos - Atomics.load(this.ctl, R)) >>> 0;
    let off = pos & this.mask;
    let pad = 0;
    if (off + need > this.cap) pad = this.cap - off;
    if (used + pad + need > this.cap) return -1;
    if (pad > 0) {
      this.i32[(CONTROL_BYTES + off) >> 2] = WRAP;
      pos = (pos + pad) | 0;
      off = 0;
    }
    this.resOff = CONTROL_BYTES + off;
    this.resPos = pos;
    // payloads start 8 bytes in so that doubles in them can be aligned
    return this.resOff + 8;
  }

  /**
   * Publishes the reserved record with `len` payload bytes (at most what was reserved), and wakes
   * a sleeping consumer unless `wake` is false (the producer then calls wake() after a batch).
   */
  commit(len: number, wake = true): void {
    this.i32[this.resOff >> 2] = len;
    Atomics.store(this.ctl, W, (this.resPos + 8 + align8(len)) | 0);
    if (wake) this.wake();
  }

  /** Wakes the consumer if it sleeps (a futex call: worth saving when records come in batches). */
  wake(): void {
    if (Atomics.load(this.ctl, WAITING) !== 0) Atomics.notify(this.ctl, W, 1);
  }

  // ---- consumer ----------------------------------------------------------------------------

  /** The payload offset of the next record, or -1 when there is none; its length is `length`. */
  peek(): number {
    let pos = this.readPos;
    if (pos === Atomics.load(this.ctl, W)) return -1;
    let off = pos & this.mask;
    let len = this.i32[(CONTROL_BYTES + off) >> 2]!;
    if (len === WRAP) {
      pos = (pos + (this.cap - off)) | 0;
      off = 0;
      len = this.i32[CONTROL_BYTES >> 2]!;
    }
    this.curPos = pos;
    this.curLen = len;
    return CONTROL_BYTES + off + 8;
  }

  /** Payload length of the record peek() returned. */
  get length(): number {
    return this.curLen;
  }

  /** Done with the record peek() returned; its space goes back to the producer. */
  release(): void {
    this.readPos = (this.curPos + 8 + align8(this.curLen)) | 0;
    Atomics.store(this.ctl, R, this.readPos);
  }

  /** Nothing to read now. */
  get empty(): boolean {
    return this.readPos === Atomics.load(this.ctl, W);
  }

  /** Blocks (a worker) until a record is there or `timeoutMs` passed. */
  waitForData(timeoutMs = Infinity): void {
    Atomics.store(this.ctl, WAITING, 1);
    Atomics.wait(this.ctl, W, this.readPos, timeoutMs);
    Atomics.store(this.ctl, WAITING, 0);
  }

  /**
   * The event-loop thread's wait: undefined when a record is there already, else a promise that
   * settles once the producer published one.
   */
  dataAsync(): Promise<unknown> | undefined {
    Atomics.store(this.ctl, WAITING, 1);
    const r = waitAsync(this.ctl, W, this.readPos);
    if (!r.async) {
      Atomics.store(this.ctl, WAITING, 0);
      return undefined;
    }
    return r.value;
  }

  /** After dataAsync()'s promise settled: the consumer is awake. */
  awake(): void {
    Atomics.store(this.ctl, WAITING, 0);
  }

  /** Wakes a consumer blocked in waitForData() even with nothing to read (shutdown). */
  interrupt(): void {
    Atomics.notify(this.ctl, W);
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
