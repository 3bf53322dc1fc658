// Fair queueing of datagrams between reading and processing. Reading a datagram and checking its
// peer's limit costs a few microseconds; processing it (parse, policy, transaction, answer) costs
// a thousand times more. Under a flood that fits within its peer's rate limit but not within the
// CPU the gateway gets (a shared or small machine), processing in arrival order lets the
// flooder's admitted requests take all the CPU: the socket stops being read, the kernel drops
// datagrams of every peer alike.
//
// Instead the gateway reads every datagram as it comes, queues the admitted ones per source
// address, and processes them round-robin across sources in short slices between reads. A peer
// sending a handful of requests is served on time however busy another peer keeps the gateway;
// a source whose queue is full loses its newest datagram (counted). While the socket has more
// to read (a full batch arrived since the last slice) a slice processes one datagram: reading
// comes first, processing gets the CPU reading leaves.

export interface FairQueueOptions {
  /** datagrams queued per source address (beyond: dropped) */
  maxPerSource: number;
  /** datagrams queued in all */
  maxTotal: number;
  /** processing time per slice (ms) when the socket is not backlogged */
  sliceMs: number;
  /** processing time per slice (ms) while reading is backlogged (0: one datagram) */
  busySliceMs: number;
  /** datagrams read since the last slice that mean "backlogged" (libuv reads up to 32 per wake-up) */
  busyBatch: number;
  /** monotonic ms (tests) */
  now?: () => number;
}

export const DEFAULT_FAIR_QUEUE: Readonly<FairQueueOptions> = Object.freeze({ maxPerSource: 256, maxTotal: 20_000, sliceMs: 4, busySliceMs: 0, busyBatch: 32 });

export class FairQueue<T> {
  /** per source, in round-robin order (a Map iterates in insertion order) */
  private readonly queues = new Map<string, T[]>();
  private size = 0;
  private sinceSlice = 0;
  private scheduled = false;
  private readonly now: () => number;
  /** datagrams dropped because their source's queue (or the whole queue) was full */
  dropped = 0;

  constructor(
    private readonly process: (item: T) => void,
    private readonly opts: FairQueueOptions = DEFAULT_FAIR_QUEUE,
    private readonly onDrop?: (source: string) => void,
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  get length(): number {
    return this.size;
  }

  /** Queues `item` of `source`; false when it was dropped (queue full). */
  push(source: string, item: T): boolean {
    this.sinceSlice++;
    let q = this.queues.get(source);
    if ((q !== undefined && q.length >= this.opts.maxPerSource) || this.size >= this.opts.maxTotal) {
      this.dropped++;
      this.onDrop?.(source);
      return false;
    }
    // a source gets its queue only with an item in it: the slices take an item from every queue
    if (q === undefined) {
      q = [];
      this.queues.set(source, q);
    }
    q.push(item);
    this.size++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(drain, this);
    }
    return true;
  }

  /**
   * @internal One slice. Backlogged (a full batch read since the last slice): one datagram, so
   * that reading keeps up and processing gets what reading leaves. Otherwise: datagrams until the
   * slice's time is used up. Either way round-robin across sources: the source served goes to
   * the back of the line.
   */
  slice(): void {
    this.scheduled = false;
    const busy = this.sinceSlice >= this.opts.busyBatch;
    const budget = busy ? this.opts.busySliceMs : this.opts.sliceMs;
    this.sinceSlice = 0;
    const t0 = this.now();
    do {
      const next = this.queues.entries().next();
      if (next.done) break;
      const [source, q] = next.value;
      const item = q.shift()!;
      this.queues.delete(source);
      if (q.length > 0) this.queues.set(source, q);
      this.size--;
      try {
        this.process(item);
      } catch {
        // the processor handles its own errors; a throw must not stall the queue
      }
    } while (this.size > 0 && this.now() - t0 < budget);
    if (this.size > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(drain, this);
    }
  }

  clear(): void {
    this.queues.clear();
    this.size = 0;
  }
}

function drain(q: { slice(): void }): void {
  q.slice();
}
