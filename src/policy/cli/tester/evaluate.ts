// Evaluating one compiled test through @open-policy-agent/opa-wasm, with the hooks the runner
// needs: `internal.test_case` calls (sub-results of table tests) and coverage hits are recorded
// per evaluation. Shared by the worker (eval-worker.ts) and the in-thread fallback.
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { parseEvalError, printBuiltin, type EvalError } from '../../../rego/index.js';
import { hostBuiltins } from '../../builtins.js';
import { COVER_BUILTIN } from '../coverage.js';
import { TEST_CASE_BUILTIN } from './discover.js';

export interface EvaluatorInit {
  wasm: Uint8Array;
  data: object;
  strictBuiltinErrors: boolean;
  coverage: boolean;
  /** The module was compiled with `trace`: record its trace events and trace() notes. */
  trace?: boolean;
}

export interface EvalRequest {
  entrypoint: string;
  /** Benchmark: repeat the evaluation for about this long, as Go's testing.Benchmark does. */
  benchNs?: number;
}

export interface EvalReply {
  /** The test's value; undefined when the entrypoint is undefined. */
  value?: unknown;
  defined: boolean;
  error?: EvalError;
  durationNs: number;
  /** Arguments of every `internal.test_case` call, in evaluation order. */
  testCases: unknown[][];
  /** Coverage hits: file -> rows. */
  covered: Array<[string, number[]]>;
  /** What print() wrote, one line per call (OPA's print hook). */
  output?: string;
  /** Trace events, in order: [code, values] (see rego/trace.ts); code -1 is a trace() note. */
  trace?: Array<[number, unknown]>;
  bench?: { N: number; T: number };
}

export class TestEvaluation {
  private testCases: unknown[][] = [];
  private output = '';
  private events: Array<[number, unknown]> = [];
  private readonly hits = new Map<string, Set<number>>();

  private constructor(private readonly policy: LoadedPolicy) {}

  static async load(init: EvaluatorInit): Promise<TestEvaluation> {
    let self: TestEvaluation | undefined;
    const hooks: Record<string, (...args: unknown[]) => unknown> = {
      ...printBuiltin((line) => {
        if (self) self.output += line + '\n';
      }),
      [TEST_CASE_BUILTIN]: (args: unknown) => {
        self?.testCases.push(Array.isArray(args) ? args : [args]);
        return true;
      },
    };
    if (init.trace) {
      hooks['internal.bastion_trace'] = (code: unknown, values: unknown) => {
        if (self && typeof code === 'number') self.events.push([code, values]);
        return true;
      };
      hooks.trace = (note: unknown) => {
        if (self) self.events.push([-1, note]);
        return true;
      };
    }
    if (init.coverage) {
      hooks[COVER_BUILTIN] = (file: unknown, row: unknown) => {
        if (self && typeof file === 'string' && file !== '' && typeof row === 'number') {
          let s = self.hits.get(file);
          if (!s) self.hits.set(file, (s = new Set()));
          s.add(row);
        }
        return true;
      };
    }
    const policy = await loadPolicy(init.wasm, undefined, { ...(await hostBuiltins(init.strictBuiltinErrors)), ...hooks });
    policy.setData(init.data);
    self = new TestEvaluation(policy);
    return self;
  }

  private once(entrypoint: string): { value?: unknown; defined: boolean; error?: EvalReply['error'] } {
    try {
      const rs = this.policy.evaluate(undefined, entrypoint) as unknown;
      if (Array.isArray(rs) && rs.length > 0) return { value: (rs[0] as { result?: unknown }).result, defined: true };
      return { defined: false };
    } catch (e) {
      return { defined: false, error: parseEvalError(e) };
    }
  }

  run(req: EvalRequest): EvalReply {
    this.testCases = [];
    this.output = '';
    this.events = [];
    this.hits.clear();
    const t0 = process.hrtime.bigint();
    const r = this.once(req.entrypoint);
    const durationNs = Number(process.hrtime.bigint() - t0);
    const reply: EvalReply = { ...r, durationNs, testCases: this.testCases, covered: [...this.hits].map(([f, rows]) => [f, [...rows]]) };
    if (this.output) reply.output = this.output;
    if (this.events.length > 0) reply.trace = this.events;
    if (req.benchNs !== undefined && !r.error && r.defined) reply.bench = this.bench(req.entrypoint, req.benchNs);
    return reply;
  }

  /** Go's testing.Benchmark ramp: N=1, then predicted N (x1.2, at most x100) until benchtime. */
  private bench(entrypoint: string, goalNs: number): { N: number; T: number } {
    const runN = (n: number): number => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) this.policy.evaluate(undefined, entrypoint);
      return Number(process.hrtime.bigint() - t0);
    };
    let n = 1;
    let t = runN(n);
    while (t < goalNs && n < 1e9) {
      const last = n;
      const prev = Math.max(t, 1);
      let next = Math.floor((goalNs * last) / prev);
      next += Math.floor(next / 5);
      next = Math.min(next, 100 * last);
      next = Math.max(next, last + 1);
      next = Math.min(next, 1e9);
      n = next;
      t = runN(n);
    }
    this.testCases = [];
    return { N: n, T: t };
  }
}
