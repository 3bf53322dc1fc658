// From an evaluation's result set (the JSON text the module dumps) to the decision applied: the
// entrypoint must give exactly one result, a schema-valid decision document; anything else fails
// closed with a reason. Policies give few distinct decisions, so the outcome is kept per result
// text: a repeated result skips the JSON parse and the schema validation (both pure functions of
// the text). Cached decisions are frozen: callers share them.
import { checkDecision, normalizeDecision, type Decision, type FailureKind } from './decision.js';

export type Interpreted =
  | { ok: true; decision: Decision; /** JSON.stringify(decision): the decision log's form */ json: string }
  | { ok: false; kind: FailureKind; message: string };

const LIMIT = 1024;

export class ResultInterpreter {
  private readonly cache = new Map<string, Interpreted>();

  constructor(private readonly entrypoint: string) {}

  interpret(resultSet: string): Interpreted {
    let r = this.cache.get(resultSet);
    if (r === undefined) {
      r = this.fresh(resultSet);
      if (this.cache.size >= LIMIT) this.cache.clear();
      this.cache.set(resultSet, r);
    }
    return r;
  }

  private fresh(text: string): Interpreted {
    let rs: unknown;
    try {
      rs = JSON.parse(text);
    } catch (e) {
      return { ok: false, kind: 'error', message: `result is not JSON: ${(e as Error).message}` };
    }
    if (!Array.isArray(rs) || rs.length === 0) return { ok: false, kind: 'undefined', message: `data.${this.entrypoint.replace(/\//g, '.')} is undefined` };
    if (rs.length > 1) return { ok: false, kind: 'error', message: 'entrypoint returned more than one result' };
    const value = (rs[0] as { result?: unknown } | null)?.result;
    if (value === undefined) return { ok: false, kind: 'undefined', message: 'decision is undefined' };
    const problem = checkDecision(value);
    if (problem) return { ok: false, kind: 'invalid', message: `decision does not match decision.schema.json: ${problem}` };
    const decision = deepFreeze(normalizeDecision(value as Decision));
    return { ok: true, decision, json: JSON.stringify(decision) };
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
