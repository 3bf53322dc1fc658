// The evaluation pool: policy decisions made in worker threads, so that the event-loop thread
// (sockets, TLS, SIP parsing, transactions) keeps its core, and so that an evaluation can really
// be abandoned: a worker stuck past the budget is terminated, its message fails closed, and a new
// worker takes over the rest of its queue.
//
// - Inputs go to a worker through a SharedArrayBuffer ring (ring.ts, records in protocol.ts): the
//   small head, the message JSON and, once per connection, the connection's tail (the identity
//   document, kept by the worker in a numbered slot and resident in its module's heap). Decisions
//   come back through a second ring, each with its finished decision-log line when the log is
//   plain pino; this thread writes the line to the log's stream, in order.
// - Order: every message of one Call-ID goes to the same worker (a hash of the Call-ID), and a
//   worker answers in the order it was given, so decisions of one Call-ID come back in hand-over
//   order (the proxy relies on that: a CANCEL or an ACK must not overtake its INVITE).
// - Policies: the engine compiles and loads; the pool is one of its replicas (engine.ts). Each
//   snapshot is a numbered generation, loaded by every worker before the engine switches to it;
//   an input names the generation in force when it was handed over, so a decision is made wholly
//   by one revision and a reload reaches all workers at once.
// - A response may reuse a decision without reaching a worker when the policy declares response
//   decisions per connection (response-reuse.ts); that happens in this thread, in the engine.
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { Decision } from '../decision.js';
import type { PolicyArtifact, PolicyEngine, PolicyReplica, DecisionResult, Snapshot } from '../engine.js';
import type { EncodedInput, InputScope } from '../encoded-input.js';
import { nextDecisionId as nextId } from '../encoded-input.js';
import { startModuleWorker } from '../worker-start.js';
import { Ring } from './ring.js';
import { BUSY_SEQ, BUSY_SINCE, CONTROL, EVAL, FAILURE_KINDS, F_LINE, F_SLOT, REQ_BYTES, RES_BYTES, type Control, type ControlReply } from './protocol.js';
import type { WorkerData } from './worker.js';

export interface EvalPoolOptions {
  /** evaluation workers (at least 1) */
  size: number;
  /** data bytes of each ring (a power of two; default 1 MiB) */
  ringBytes?: number;
  /** how long messages wait for a worker that is being restarted before they fail closed (default 5 s) */
  restartWaitMs?: number;
  /** how long a worker may take to start and load the policy (default 60 s) */
  startTimeoutMs?: number;
}

export interface EvalPoolStats {
  /** decisions made by workers */
  evaluated: number;
  /** response decisions reused (policy-declared), no worker involved */
  reused: number;
  /** evaluations abandoned past the budget (their messages failed closed) */
  abandoned: number;
  /** workers terminated because an evaluation stayed stuck, and replaced */
  replaced: number;
  /** workers that exited unexpectedly */
  crashed: number;
  /** workers started, first ones included */
  started: number;
  /** messages failed closed because no worker could take them in time */
  unserved: number;
}

export class PoolStartError extends Error {
  readonly code = 'POOL_START';
}

interface Pending {
  seq: number;
  input: EncodedInput;
  done: (r: DecisionResult) => void;
  snap: Snapshot;
  gen: number;
  target: LineTarget | undefined;
  /** when it was handed over (ms, Date.now) */
  at: number;
  /** decided, waiting for the messages handed over before it */
  result?: DecisionResult;
  line?: string;
  json?: string;
  /** its decision-log line is written already (a reused decision) */
  logged?: boolean;
  /** answered fail-closed while its evaluation was still running */
  abandoned?: boolean;
}

/** A first-in first-out queue without Array#shift's copying. */
class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  /** Empties the queue, giving what it held in order. */
  take(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }
}

type LineTarget = NonNullable<ReturnType<PolicyEngine['lineTarget']>>;

const SLOTS = 1024;
/** the loads-map key of a ping's reply */
const PING = -1;
const DECISION_CACHE = 1024;

/** One worker and its rings; replaced as a whole when the worker dies or is abandoned. */
class Lane {
  worker: Worker | undefined;
  req!: Ring;
  res!: Ring;
  reqBuf!: Buffer;
  resBuf!: Buffer;
  busy!: Int32Array;
  port: MessagePort | undefined;
  /** every message handed over to this lane and not answered yet, in order */
  queue = new Fifo<Pending>();
  /** those written into the worker's ring, in ring order: its results come in this order */
  written = new Fifo<Pending>();
  /** those waiting for room in the ring, or for a worker (down), in order */
  toWrite = new Fifo<Pending>();
  slots = new Map<InputScope, number>();
  freeSlot = 0;
  loads = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  /** bumps on every replacement: callbacks of an older worker are ignored */
  epoch = 0;
  down = false;
  /** its result ring's waitAsync is pending */
  armed = false;
  /** a wake of the worker is queued (end of the current callback) */
  wakeQueued = false;
  readonly wakeWorker = (): void => {
    this.wakeQueued = false;
    this.req.wake();
  };
  restarts = 0;
  spawnedAt = 0;
  lastError = '';

  get pending(): number {
    return this.queue.length;
  }
}

export class EvalPool implements PolicyReplica {
  readonly stats: EvalPoolStats = { evaluated: 0, reused: 0, abandoned: 0, replaced: 0, crashed: 0, started: 0, unserved: 0 };
  private readonly lanes: Lane[] = [];
  private readonly epoch = Date.now();
  private readonly modules = new Map<number, { module: WebAssembly.Module; artifact: PolicyArtifact }>();
  private committed = 0;
  private genSeq = 0;
  private seq = 0;
  private readonly snapOfGen = new Map<number, Snapshot>();
  private readonly decisions = new Map<string, Decision>();
  private readonly targets = new WeakMap<InputScope, { target: LineTarget | undefined; logger: unknown; input: unknown; mask: unknown; sample: unknown }>();
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private starting = true;
  private polling = false;
  private readonly budgetMs: number;
  private readonly restartWaitMs: number;
  /** a worker still evaluating one input after this long is replaced */
  private readonly killAfterMs: number;

  private constructor(
    private readonly engine: PolicyEngine,
    private readonly opts: EvalPoolOptions,
  ) {
    this.budgetMs = engine.evalTimeoutMs;
    this.restartWaitMs = opts.restartWaitMs ?? 5000;
    this.killAfterMs = Math.max(2 * this.budgetMs, this.budgetMs + 250);
  }

  /**
   * Starts `size` workers on the engine's policy. Rejects (PoolStartError) when workers cannot
   * start here or cannot load the policy: callers then evaluate in their own thread.
   */
  static async start(engine: PolicyEngine, opts: EvalPoolOptions): Promise<EvalPool> {
    if (engine.hasCustomBuiltins) throw new PoolStartError('custom builtins are functions of this thread: evaluation workers cannot call them');
    const pool = new EvalPool(engine, opts);
    for (let i = 0; i < Math.max(1, opts.size); i++) pool.lanes.push(new Lane());
    for (const lane of pool.lanes) pool.spawn(lane);
    try {
      // every worker up and running (a no-op generation round trip), then the policy in force
      await pool.withStartTimeout(Promise.all(pool.lanes.map((l) => pool.ping(l))));
      await pool.withStartTimeout(engine.replicate(pool));
    } catch (e) {
      await pool.close();
      throw e instanceof PoolStartError ? e : new PoolStartError(`evaluation workers cannot start: ${e instanceof Error ? e.message : String(e)}`);
    }
    pool.starting = false;
    pool.watchdog = setInterval(() => pool.watch(), Math.max(5, Math.min(50, pool.budgetMs / 4)));
    pool.watchdog.unref();
    return pool;
  }

  get size(): number {
    return this.lanes.length;
  }

  /** Messages handed over and not decided yet. */
  get pending(): number {
    return this.lanes.reduce((n, l) => n + l.pending, 0);
  }

  // ---- deciding ------------------------------------------------------------------------------

  /**
   * The Decider: `done` runs later, or at once for a reused decision with nothing ahead of it;
   * always in hand-over order among the messages of one Call-ID (all of them go to one lane, and
   * a lane answers in order).
   */
  decide(input: EncodedInput, done: (r: DecisionResult) => void): void {
    const snap = this.engine.snapshot;
    const gen = this.committed;
    if (!snap || gen === 0 || this.closed) return done(this.engine.decide(input)); // fails closed: no policy
    const lane = this.lanes.length === 1 ? this.lanes[0]! : this.lanes[hash(input.log.call_id ?? '') % this.lanes.length]!;
    const seq = (this.seq = (this.seq + 1) | 0 || 1);
    if (snap.reuseResponses) {
      const r = this.engine.reuseResponse(input, snap);
      if (r) {
        this.stats.reused++;
        if (lane.queue.length === 0) return done(r);
        lane.queue.push({ seq, input, done, snap, gen, target: undefined, at: 0, result: r, logged: true });
        return;
      }
    }
    const e: Pending = { seq, input, done, snap, gen, target: this.targetFor(input), at: Date.now() };
    lane.queue.push(e);
    if (lane.down || lane.toWrite.length > 0 || !this.write(lane, e)) lane.toWrite.push(e);
    this.schedulePoll();
  }

  /**
   * Where the worker's decision line for this connection goes, or undefined: the line is written
   * here (by the engine). Looked up again when the log settings changed (a reload): a worker that
   * holds the connection's old fields (a mask) gets the new ones with its next input.
   */
  private targetFor(input: EncodedInput): LineTarget | undefined {
    const scope = input.scope;
    if (!scope) return undefined;
    const log = this.engine.options.decisionLog;
    let c = this.targets.get(scope);
    if (c === undefined || c.logger !== log?.logger || c.input !== log?.input || c.mask !== log?.mask || c.sample !== log?.sample) {
      const t = this.engine.lineTarget(input.log.from);
      if (c !== undefined && c.target?.chindings !== t?.chindings) for (const lane of this.lanes) lane.slots.delete(scope);
      c = { target: t, logger: log?.logger, input: log?.input, mask: log?.mask, sample: log?.sample };
      this.targets.set(scope, c);
    }
    return c.target;
  }

  /** Writes the request into the lane's ring; false when the ring has no room now. */
  private write(lane: Lane, e: Pending): boolean {
    const input = e.input;
    const f = input.log;
    const scope = input.scope;
    let slot = lane.slots.get(scope!) ?? -1;
    let flags = e.target ? F_LINE : 0;
    const fresh = scope !== undefined && slot < 0;
    const msg = input.message;
    const tail = fresh ? input.tail : undefined;
    const ch = fresh ? (e.target?.chindings ?? '') : '';
    const method = f.method ?? '';
    const ruri = f.request_uri ?? '';
    const callId = f.call_id ?? '';
    const dir = f.direction ?? '';
    const max = REQ_BYTES + input.head.length + msg.length * 3 + (tail?.length ?? 0) + (ch.length + method.length + ruri.length + callId.length) * 3 + dir.length;
    const o = lane.req.reserve(max);
    if (o < 0) return false;
    if (fresh) {
      slot = this.assignSlot(lane, scope);
      flags |= F_SLOT;
    }
    const i32 = lane.req.i32;
    const w = o >> 2;
    const b = lane.reqBuf;
    let p = o + REQ_BYTES;
    b.set(input.head, p);
    p += input.head.length;
    const msgLen = b.write(msg, p, 'utf8');
    p += msgLen;
    let tailLen = 0;
    if (tail) {
      b.set(tail, p);
      p += (tailLen = tail.length);
    }
    const chLen = ch ? b.write(ch, p, 'utf8') : 0;
    p += chLen;
    const mLen = method ? b.write(method, p, 'utf8') : 0;
    p += mLen;
    const rLen = ruri ? b.write(ruri, p, 'utf8') : 0;
    p += rLen;
    const cLen = callId ? b.write(callId, p, 'utf8') : 0;
    p += cLen;
    const dLen = dir ? b.write(dir, p, 'latin1') : 0;
    p += dLen;
    i32[w] = EVAL;
    i32[w + 1] = e.seq;
    i32[w + 2] = e.gen;
    i32[w + 3] = slot;
    i32[w + 4] = flags;
    i32[w + 5] = f.status ?? -1;
    i32[w + 6] = input.head.length;
    i32[w + 7] = msgLen;
    i32[w + 8] = tailLen;
    i32[w + 9] = chLen;
    i32[w + 10] = mLen;
    i32[w + 11] = rLen;
    i32[w + 12] = cLen;
    i32[w + 13] = dLen;
    lane.written.push(e);
    // the worker is woken once for the inputs handed over in one go (one I/O callback's messages)
    lane.req.commit(p - o, false);
    if (!lane.wakeQueued) {
      lane.wakeQueued = true;
      queueMicrotask(lane.wakeWorker);
    }
    return true;
  }

  private assignSlot(lane: Lane, scope: InputScope): number {
    let slot: number;
    if (lane.freeSlot < SLOTS) slot = lane.freeSlot++;
    else {
      // the oldest connection's slot (it is sent again if it comes back)
      const [oldest, s] = lane.slots.entries().next().value as [InputScope, number];
      lane.slots.delete(oldest);
      slot = s;
    }
    lane.slots.set(scope, slot);
    return slot;
  }

  private control(lane: Lane, m: Control): void {
    lane.port!.postMessage(m);
    const o = lane.req.reserve(8);
    if (o < 0) throw new Error('evaluation worker ring full'); // control is rare and tiny: the ring is never that full
    lane.req.i32[o >> 2] = CONTROL;
    lane.req.commit(8);
  }

  // ---- results -------------------------------------------------------------------------------

  // Picking results up. The cheap way is when this thread is awake anyway: after the I/O callbacks
  // of a loop iteration (setImmediate), where most decisions handed over during them are ready.
  // Only when some are still out does a lane arm its result ring's waitAsync, so that the worker's
  // next result wakes this thread (a wake-up costs this thread more than a decision's records).

  private schedulePoll(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    setImmediate(this.pollNow);
  }

  private readonly pollNow = (): void => {
    this.polling = false;
    for (const lane of this.lanes) {
      if (lane.down || !lane.worker) continue;
      this.drain(lane);
      if (lane.pending > 0 && !lane.armed) this.arm(lane);
    }
  };

  private arm(lane: Lane): void {
    const epoch = lane.epoch;
    const p = lane.res.dataAsync();
    if (!p) {
      // results arrived meanwhile: take them on the next poll
      this.schedulePoll();
      return;
    }
    lane.armed = true;
    void p.then(() => {
      if (lane.epoch !== epoch) return;
      lane.armed = false;
      lane.res.awake();
      this.drain(lane);
      if (lane.pending > 0) this.schedulePoll();
    });
  }

  private drain(lane: Lane): void {
    const res = lane.res;
    const b = lane.resBuf;
    for (;;) {
      const o = res.peek();
      if (o < 0) break;
      const w = o >> 2;
      const i32 = res.i32;
      const seq = i32[w]!;
      const outcome = i32[w + 1]!;
      let p = o + RES_BYTES;
      const json = b.toString('utf8', p, (p += i32[w + 2]!));
      const line = i32[w + 3]! > 0 ? b.toString('utf8', p, (p += i32[w + 3]!)) : '';
      const decision_id = b.toString('latin1', p, (p += i32[w + 4]!));
      const fmsg = i32[w + 5]! > 0 ? b.toString('utf8', p, (p += i32[w + 5]!)) : '';
      const eval_ns = res.f64[(o + 24) >> 3]!;
      res.release();
      const e = lane.written.peek();
      if (!e || e.seq !== seq) continue; // answered already (abandoned): nothing waits for it
      lane.written.shift();
      this.stats.evaluated++;
      const failure = outcome === 0 ? undefined : { kind: FAILURE_KINDS[outcome - 1]!, message: fmsg };
      const result: DecisionResult = { decision_id, decision: failure ? this.engine.failClosed() : this.decisionOf(json), eval_ns, revision: e.snap.info.revision };
      if (failure) result.failure = failure;
      e.result = result;
      e.line = line;
      e.json = failure ? undefined : json;
    }
    this.release(lane);
    if (lane.toWrite.length > 0 && !lane.down) this.flush(lane);
  }

  /** Answers the decided messages at the head of the lane's queue, in order. */
  private release(lane: Lane): void {
    for (let e = lane.queue.peek(); e?.result; e = lane.queue.peek()) {
      lane.queue.shift();
      this.finish(e, e.result, e.line ?? '', e.json);
    }
    this.flushLines();
  }

  // Decision lines of one release go to the log's stream in one write: a stream that appends to a
  // string buffer (pino's sonic-boom) measures that buffer on every write, so one write per line
  // would cost as much again as the lines.
  private lines = '';
  private linesTo: LineTarget['stream'] | undefined;

  private flushLines(): void {
    if (!this.linesTo) return;
    const stream = this.linesTo;
    const text = this.lines;
    this.linesTo = undefined;
    this.lines = '';
    try {
      stream.write(text);
    } catch {
      // logging never changes a decision
    }
  }

  /** The decision of a worker's JSON: parsed once per distinct text, frozen, shared. */
  private decisionOf(json: string): Decision {
    let d = this.decisions.get(json);
    if (!d) {
      d = deepFreeze(JSON.parse(json) as Decision);
      if (this.decisions.size >= DECISION_CACHE) this.decisions.clear();
      this.decisions.set(json, d);
    }
    return d;
  }

  private finish(e: Pending, result: DecisionResult, line: string, json: string | undefined): void {
    if (line) {
      const t = e.target!;
      if (this.linesTo !== t.stream) this.flushLines();
      if (t.batch) {
        this.linesTo = t.stream;
        this.lines += line;
      } else writeLine(t.stream, line);
    } else if (!e.logged) {
      this.flushLines(); // (in order)
      this.engine.log(result, e.input, e.input, json);
    }
    if (result.failure?.kind === 'timeout') this.overBudgetError(result, e.abandoned);
    if (this.engine.shadow && !e.logged) this.engine.compareShadow(e.input, result, e.input);
    if (json !== undefined && e.snap.reuseResponses && e.input.log.status !== undefined) this.engine.keepResponse(e.input, e.snap, result, json);
    try {
      e.done(result);
    } catch {
      // the caller's problem; the other decisions still go out
    }
  }

  private overBudgetError(result: DecisionResult, abandoned = false): void {
    const logger = this.engine.options.logger ?? this.engine.options.decisionLog?.logger;
    try {
      logger?.error(
        { decision_id: result.decision_id, eval_ms: Number((result.eval_ns / 1e6).toFixed(1)), budget_ms: this.budgetMs, revision: result.revision, path: this.engine.entrypoint },
        abandoned ? 'policy evaluation over budget; evaluation abandoned, message rejected' : 'policy evaluation over budget; message rejected',
      );
    } catch {
      // logging never changes a decision
    }
  }

  /** Moves waiting requests into the ring as room allows. */
  private flush(lane: Lane): void {
    for (let e = lane.toWrite.peek(); e && this.write(lane, e); e = lane.toWrite.peek()) lane.toWrite.shift();
  }

  // ---- workers ---------------------------------------------------------------------------------

  private spawn(lane: Lane): void {
    const capacity = this.opts.ringBytes ?? 1 << 20;
    const requests = Ring.create(capacity);
    const results = Ring.create(capacity);
    const busy = new SharedArrayBuffer(16);
    const { port1, port2 } = new MessageChannel();
    lane.epoch++;
    lane.req = new Ring(requests);
    lane.res = new Ring(results);
    lane.reqBuf = Buffer.from(requests);
    lane.resBuf = Buffer.from(results);
    lane.busy = new Int32Array(busy);
    lane.port = port1;
    lane.slots.clear();
    lane.freeSlot = 0;
    lane.down = false;
    lane.armed = false;
    lane.spawnedAt = Date.now();
    const data: WorkerData = { requests, results, busy, port: port2, epoch: this.epoch };
    const epoch = lane.epoch;
    const worker = startModuleWorker(new URL('./worker.js', import.meta.url), { workerData: data, transferList: [port2] });
    lane.worker = worker;
    this.stats.started++;
    worker.unref();
    port1.unref();
    port1.on('message', (m: ControlReply) => {
      if (lane.epoch !== epoch) return;
      const key = m.type === 'pong' ? PING : m.gen;
      const l = lane.loads.get(key);
      if (!l) return;
      lane.loads.delete(key);
      if (m.type === 'load-failed') l.reject(new Error(m.error));
      else l.resolve();
    });
    worker.on('error', (err) => {
      if (lane.epoch === epoch) lane.lastError = err.message;
    });
    worker.once('exit', (code) => {
      if (lane.epoch !== epoch || this.closed) return;
      if (this.starting) {
        const why = new Error(`evaluation worker exited with ${code}${lane.lastError ? `: ${lane.lastError}` : ''}`);
        for (const l of lane.loads.values()) l.reject(why);
        lane.loads.clear();
        lane.down = true;
      } else this.crashed(lane, code);
    });
    this.arm(lane); // control replies come by the port; results of the first inputs wake this thread
    // the generation in force first: every input written after it names it
    if (this.committed !== 0) this.loadInto(lane, this.committed).catch(() => {});
  }

  /** Loads generation `gen` into the lane's worker. */
  private loadInto(lane: Lane, gen: number): Promise<void> {
    const m = this.modules.get(gen);
    if (!m) return Promise.reject(new Error(`generation ${gen} is gone`));
    return new Promise<void>((resolve, reject) => {
      lane.loads.set(gen, { resolve, reject });
      const a = m.artifact;
      this.control(lane, {
        type: 'load',
        gen,
        module: m.module,
        data: a.data,
        entrypoint: a.info.entrypoint,
        revision: a.info.revision,
        source: a.info.source,
        budgetNs: this.budgetMs * 1e6,
        failClosedJson: JSON.stringify(this.engine.failClosed()),
      });
    });
  }

  /** A worker answers at all (started, its loop running). */
  private ping(lane: Lane): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      lane.loads.set(PING, { resolve, reject });
      this.control(lane, { type: 'ping' });
    });
  }

  private withStartTimeout<T>(p: Promise<T>): Promise<T> {
    const ms = this.opts.startTimeoutMs ?? 60_000;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new PoolStartError(`evaluation workers did not start within ${ms} ms`)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(t));
  }

  /** The replica side (engine.replicate): every worker loads the generation before it goes live. */
  async prepare(artifact: PolicyArtifact): Promise<() => void> {
    const gen = ++this.genSeq;
    const module = await WebAssembly.compile(artifact.wasm as Uint8Array<ArrayBuffer>);
    this.modules.set(gen, { module, artifact });
    try {
      await Promise.all(this.lanes.map((l) => (l.down ? Promise.resolve() : this.loadInto(l, gen))));
    } catch (e) {
      this.modules.delete(gen);
      for (const l of this.lanes) if (!l.down && l.worker) this.control(l, { type: 'drop', gen });
      throw e;
    }
    return () => {
      const snap = this.engine.snapshot;
      this.committed = gen;
      if (snap) this.snapOfGen.set(gen, snap);
      for (const g of [...this.modules.keys()]) if (g < gen) this.modules.delete(g);
      for (const g of [...this.snapOfGen.keys()]) if (g < gen) this.snapOfGen.delete(g);
    };
  }

  /**
   * Checks for evaluations past the budget, and for messages waiting too long for a worker. An
   * evaluation past the budget is abandoned: its message fails closed at once. Its worker is
   * replaced only if it is still at it a while later (a loaded machine can stall a healthy
   * evaluation beyond the budget; a worker costs a policy load to replace).
   */
  private watch(): void {
    const now = Date.now();
    for (const lane of this.lanes) {
      if (lane.down) {
        while (lane.toWrite.length > 0 && now - lane.toWrite.peek()!.at > this.restartWaitMs) this.unserved(lane, lane.toWrite.shift()!, now);
        continue;
      }
      const seq = Atomics.load(lane.busy, BUSY_SEQ);
      if (seq === 0) continue;
      const elapsed = ((now - this.epoch - Atomics.load(lane.busy, BUSY_SINCE)) | 0) >>> 0;
      if (elapsed <= this.budgetMs) continue;
      this.drain(lane);
      if (Atomics.load(lane.busy, BUSY_SEQ) !== seq) continue; // it finished meanwhile
      const head = lane.written.peek();
      if (head?.seq === seq) this.abandon(lane, head, elapsed);
      if (elapsed > this.killAfterMs) this.replace(lane);
    }
  }

  /** Answers a stuck evaluation's message: fail closed (its late result, if any, is ignored). */
  private abandon(lane: Lane, e: Pending, elapsedMs: number): void {
    this.stats.abandoned++;
    lane.written.shift();
    const result: DecisionResult = {
      decision_id: nextId(),
      decision: this.engine.failClosed(),
      eval_ns: elapsedMs * 1e6,
      revision: e.snap.info.revision,
      failure: { kind: 'timeout', message: `evaluation exceeded the ${this.budgetMs} ms budget; abandoned` },
    };
    e.abandoned = true;
    e.result = result;
    this.release(lane);
  }

  /** A worker still stuck: terminated; a new one takes over its queue, in order. */
  private replace(lane: Lane): void {
    this.stats.replaced++;
    const logger = this.engine.options.logger ?? this.engine.options.decisionLog?.logger;
    const waiting = this.retire(lane, 'evaluation worker replaced');
    logger?.error({ waiting, budget_ms: this.budgetMs }, 'policy: evaluation worker stuck past the budget; terminated and replaced');
    this.spawn(lane);
    this.flush(lane);
  }

  /** A worker that exited by itself: what it was evaluating fails closed; the rest waits for its replacement. */
  private crashed(lane: Lane, code: number): void {
    this.stats.crashed++;
    const seq = Atomics.load(lane.busy, BUSY_SEQ);
    const why = `evaluation worker exited with ${code}${lane.lastError ? `: ${lane.lastError}` : ''}`;
    const stuck = seq !== 0 && lane.written.peek()?.seq === seq ? lane.written.shift() : undefined;
    const waiting = this.retire(lane, why);
    if (stuck) {
      stuck.result = { decision_id: nextId(), decision: this.engine.failClosed(), eval_ns: 0, revision: stuck.snap.info.revision, failure: { kind: 'error', message: why } };
      this.release(lane);
    }
    const logger = this.engine.options.logger ?? this.engine.options.decisionLog?.logger;
    logger?.error({ code, error: lane.lastError || undefined, waiting }, 'policy: evaluation worker exited; starting another');
    lane.down = true;
    if (Date.now() - lane.spawnedAt > 60_000) lane.restarts = 0; // it had been running fine: restart at once
    const delay = Math.min(5000, 100 * 2 ** Math.min(6, lane.restarts++));
    setTimeout(() => {
      if (this.closed) return;
      this.spawn(lane);
      this.flush(lane);
    }, delay).unref();
  }

  /**
   * Ends the lane's worker: results it finished are taken; what it had not answered goes back to
   * the front of the lane's write queue, in order. Returns how many wait.
   */
  private retire(lane: Lane, why = 'evaluation worker replaced'): number {
    this.drain(lane);
    lane.epoch++;
    for (const l of lane.loads.values()) l.reject(new Error(why));
    lane.loads.clear();
    const w = lane.worker;
    lane.worker = undefined;
    if (w) void w.terminate();
    lane.port?.close();
    const again = [...lane.written.take(), ...lane.toWrite.take()];
    for (const e of again) lane.toWrite.push(e);
    return again.length;
  }

  private unserved(lane: Lane, e: Pending, now: number): void {
    this.stats.unserved++;
    e.result = { decision_id: nextId(), decision: this.engine.failClosed(), eval_ns: (now - e.at) * 1e6, revision: e.snap.info.revision, failure: { kind: 'error', message: 'no evaluation worker available' } };
    this.release(lane);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.engine.unreplicate(this);
    await Promise.all(
      this.lanes.map(async (lane) => {
        lane.epoch++;
        const w = lane.worker;
        lane.worker = undefined;
        lane.port?.close();
        if (w) await w.terminate();
      }),
    );
  }
}

function writeLine(stream: LineTarget['stream'], line: string): void {
  try {
    stream.write(line);
  } catch {
    // logging never changes a decision
  }
}

/** FNV-1a of a string: which worker a Call-ID goes to. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
