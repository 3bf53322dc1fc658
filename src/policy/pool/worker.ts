// An evaluation worker: takes inputs from its request ring, evaluates them on the policy
// generation each names (loaded over the control port before any input names it), and writes
// each decision (and, for a plain pino decision log, the finished log line) to its result ring,
// in order. Between inputs it sleeps in Atomics.wait. It never runs its event loop: everything
// here is synchronous (loadPolicySync, host builtins included), which is also why the pool can
// abandon a stuck evaluation only by terminating the thread.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import * as sdk from '@open-policy-agent/opa-wasm';
import { createHostBuiltins, evalErrorText, parseEvalError, printBuiltin } from '../../rego/index.js';
import { checkDecision } from '../decision.js';
import { decisionLine } from '../decision-log.js';
import { nextDecisionId } from '../encoded-input.js';
import { Evaluator } from '../evaluator.js';
import { ResultInterpreter, type Interpreted } from '../interpret.js';
import { Ring } from './ring.js';
import { BUSY_SEQ, BUSY_SINCE, CONTROL, FAILURE_KINDS, F_LINE, F_SLOT, LINE_HEAD, REQ_BYTES, RES_BYTES, type Control, type ControlReply } from './protocol.js';

export interface WorkerData {
  requests: SharedArrayBuffer;
  results: SharedArrayBuffer;
  busy: SharedArrayBuffer;
  port: MessagePort;
  /** Date.now() of the pool's start: busy times are ms after it */
  epoch: number;
}

interface Generation {
  evaluator: Evaluator;
  interpreter: ResultInterpreter;
  path: string;
  revision: string;
  source: string;
  budgetNs: number;
  failClosedJson: string;
}

const wd = workerData as WorkerData;
const req = new Ring(wd.requests);
const res = new Ring(wd.results);
const reqBuf = Buffer.from(wd.requests);
const resBuf = Buffer.from(wd.results);
const busy = new Int32Array(wd.busy);
const port = wd.port;
// (print() output is dropped here: the engine logs it only when it evaluates in its own thread)
const builtins = { ...createHostBuiltins({ strict: true }), ...printBuiltin(() => {}) } as Record<string, (...args: unknown[]) => unknown>;
const generations = new Map<number, Generation>();
const tails: Uint8Array[] = [];
const chindings: string[] = [];
const EMPTY = new Uint8Array(0);
// (the SDK's ES module entry re-exports loadPolicy only; loadPolicySync is on its default export)
const loadPolicySync = (sdk as unknown as { default: { loadPolicySync(wasm: WebAssembly.Module, memory: undefined, builtins: object): sdk.LoadedPolicy } }).default.loadPolicySync;

function reply(m: ControlReply): void {
  port.postMessage(m);
}

function control(): boolean {
  const m = receiveMessageOnPort(port)?.message as Control | undefined;
  if (!m) return true;
  if (m.type === 'stop') return false;
  if (m.type === 'ping') {
    reply({ type: 'pong' });
    return true;
  }
  if (m.type === 'drop') {
    generations.delete(m.gen);
    return true;
  }
  try {
    const policy = loadPolicySync(m.module, undefined, builtins);
    policy.setData(m.data as object);
    // one throwaway decision: lazy compilation and the schema validator are paid now
    try {
      checkDecision((policy.evaluate({}, m.entrypoint) as Array<{ result?: unknown }>)[0]?.result ?? { allow: false });
    } catch {
      // its outcome does not matter
    }
    generations.set(m.gen, {
      evaluator: new Evaluator(policy, m.entrypoint),
      interpreter: new ResultInterpreter(m.entrypoint),
      path: m.entrypoint,
      revision: m.revision,
      source: m.source,
      budgetNs: m.budgetNs,
      failClosedJson: m.failClosedJson,
    });
    reply({ type: 'loaded', gen: m.gen });
  } catch (e) {
    reply({ type: 'load-failed', gen: m.gen, error: e instanceof Error ? e.message : String(e) });
  }
  return true;
}

function evaluate(o: number): void {
  const w = o >> 2;
  const i32 = req.i32;
  const seq = i32[w + 1]!;
  const gen = i32[w + 2]!;
  const slot = i32[w + 3]!;
  const flags = i32[w + 4]!;
  const status = i32[w + 5]!;
  let p = o + REQ_BYTES;
  const field = (n: number) => {
    const a = p;
    p += n;
    return a;
  };
  const headAt = field(i32[w + 6]!);
  const msgAt = field(i32[w + 7]!);
  const tailLen = i32[w + 8]!;
  const tailAt = field(tailLen);
  const chLen = i32[w + 9]!;
  const chAt = field(chLen);
  const methodLen = i32[w + 10]!;
  const methodAt = field(methodLen);
  const ruriLen = i32[w + 11]!;
  const ruriAt = field(ruriLen);
  const callLen = i32[w + 12]!;
  const callAt = field(callLen);
  const dirLen = i32[w + 13]!;
  const dirAt = field(dirLen);

  let g = generations.get(gen);
  if (g && generations.size > 1) for (const k of generations.keys()) if (k < gen) generations.delete(k); // inputs come in generation order
  if (flags & F_SLOT) {
    const old = tails[slot];
    if (old) for (const x of generations.values()) x.evaluator.forget(old);
    tails[slot] = new Uint8Array(reqBuf.subarray(tailAt, tailAt + tailLen));
    chindings[slot] = reqBuf.toString('utf8', chAt, chAt + chLen);
  }
  const parts = { head: reqBuf.subarray(headAt, headAt + i32[w + 6]!), message: reqBuf.subarray(msgAt, msgAt + i32[w + 7]!), tail: slot >= 0 ? (tails[slot] ?? EMPTY) : EMPTY };

  Atomics.store(busy, BUSY_SINCE, (Date.now() - wd.epoch) | 0);
  Atomics.store(busy, BUSY_SEQ, seq);
  const started = process.hrtime.bigint();
  let out: Interpreted;
  if (!g) out = { ok: false, kind: 'no_policy', message: 'no policy loaded' };
  else {
    try {
      out = g.interpreter.interpret(g.evaluator.evaluate(parts));
    } catch (e) {
      out = { ok: false, kind: 'error', message: evalErrorText(parseEvalError(e)) };
    }
  }
  const eval_ns = Number(process.hrtime.bigint() - started);
  Atomics.store(busy, BUSY_SEQ, 0);
  if (g && out.ok && eval_ns > g.budgetNs) out = { ok: false, kind: 'timeout', message: `evaluation took ${(eval_ns / 1e6).toFixed(1)} ms, over the ${g.budgetNs / 1e6} ms budget` };

  const decision_id = nextDecisionId();
  const json = out.ok ? out.json : (g?.failClosedJson ?? '{"allow":false,"reject":{"status":500,"reason":"Policy Error"}}');
  const failure = out.ok ? undefined : { kind: out.kind, message: out.message };
  let line = '';
  if (flags & F_LINE && g) {
    line = decisionLine(
      LINE_HEAD,
      chindings[slot] ?? '',
      { decision_id, path: g.path, revision: g.revision, source: g.source, decision: undefined as never, failure, eval_ns },
      {
        direction: dirLen ? reqBuf.toString('latin1', dirAt, dirAt + dirLen) : undefined,
        method: methodLen ? reqBuf.toString('utf8', methodAt, methodAt + methodLen) : undefined,
        status: status >= 0 ? status : undefined,
        request_uri: ruriLen ? reqBuf.toString('utf8', ruriAt, ruriAt + ruriLen) : undefined,
        call_id: callLen ? reqBuf.toString('utf8', callAt, callAt + callLen) : undefined,
      },
      json,
    );
  }
  const fmsg = failure?.message ?? '';
  const max = RES_BYTES + json.length * 3 + line.length * 3 + decision_id.length + fmsg.length * 3;
  let r = res.reserve(max);
  while (r < 0) {
    // the event loop has not taken the last results yet: wait for room (it frees as it reads)
    Atomics.wait(busy, BUSY_SEQ, 0, 1);
    r = res.reserve(max);
  }
  const ri = r >> 2;
  let q = r + RES_BYTES;
  const put = (s: string, enc: BufferEncoding) => {
    const n = resBuf.write(s, q, enc);
    q += n;
    return n;
  };
  res.i32[ri] = seq;
  res.i32[ri + 1] = out.ok ? 0 : FAILURE_KINDS.indexOf(out.kind) + 1;
  res.i32[ri + 2] = put(json, 'utf8');
  res.i32[ri + 3] = put(line, 'utf8');
  res.i32[ri + 4] = put(decision_id, 'latin1');
  res.i32[ri + 5] = put(fmsg, 'utf8');
  res.f64[(r + 24) >> 3] = eval_ns;
  res.commit(q - r);
}

for (;;) {
  const o = req.peek();
  if (o < 0) {
    req.waitForData();
    continue;
  }
  const kind = req.i32[o >> 2];
  if (kind === CONTROL) {
    req.release();
    if (!control()) break;
    continue;
  }
  evaluate(o);
  req.release();
}
port.close();
