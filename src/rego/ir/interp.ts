// TEST-ONLY reference interpreter for IR policies, over plain JS values. It exists so the
// planner's output can be checked for meaning before (and independently of) the WASM back end,
// and so the back end can be differential-tested against it. Never used by the product:
// numbers are JS doubles and only the handful of builtins the planner's tests use exist.
import type { Block, Func, Operand, Policy, Stmt } from './types.js';

export type Val = null | boolean | number | string | Val[] | RObject | RSet;

export class RObject {
  readonly entries = new Map<string, [Val, Val]>();
  get(k: Val): Val | undefined {
    return this.entries.get(canon(k))?.[1];
  }
  set(k: Val, v: Val): void {
    this.entries.set(canon(k), [k, v]);
  }
  has(k: Val): boolean {
    return this.entries.has(canon(k));
  }
}

export class RSet {
  readonly items = new Map<string, Val>();
  add(v: Val): void {
    this.items.set(canon(v), v);
  }
  has(v: Val): boolean {
    return this.items.has(canon(v));
  }
}

export class EvalError extends Error {
  constructor(readonly code: string, message: string) {
    super(`${code}: ${message}`);
  }
}

/** A canonical string for a value: equal values (in Rego's sense) get equal strings. */
export function canon(v: Val): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return `n${v}`;
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v instanceof RObject) return `{${[...v.entries.keys()].sort().map((k) => `${k}:${canon(v.entries.get(k)![1])}`).join(',')}}`;
  return `<${[...v.items.keys()].sort().join(',')}>`;
}

export function fromJSON(x: unknown): Val {
  if (x === null || typeof x === 'boolean' || typeof x === 'number' || typeof x === 'string') return x;
  if (Array.isArray(x)) return x.map(fromJSON);
  const o = new RObject();
  for (const [k, v] of Object.entries(x as object)) o.set(k, fromJSON(v));
  return o;
}

/** JSON as OPA dumps it: sets become (sorted) arrays. */
export function toJSON(v: Val): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toJSON);
  if (v instanceof RObject) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v.entries.values()) out[typeof k === 'string' ? k : JSON.stringify(toJSON(k))] = toJSON(x);
    return out;
  }
  return [...v.items.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, x]) => toJSON(x));
}

function typeRank(v: Val): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  if (Array.isArray(v)) return 4;
  if (v instanceof RObject) return 5;
  return 6;
}

export function compare(a: Val, b: Val): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' || typeof a === 'string' || typeof a === 'boolean') return a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0;
  const ca = canon(a);
  const cb = canon(b);
  return ca < cb ? -1 : ca > cb ? 1 : 0;
}

function collectionLength(v: Val): number | undefined {
  if (typeof v === 'string') return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (v instanceof RObject) return v.entries.size;
  if (v instanceof RSet) return v.items.size;
  return undefined;
}

type Builtin = (...args: Val[]) => Val | undefined;

const num = (v: Val, name: string): number => {
  if (typeof v !== 'number') throw new EvalError('eval_type_error', `${name}: operand must be number`);
  return v;
};

export const BUILTINS: Record<string, Builtin> = {
  equal: (a, b) => canon(a) === canon(b),
  neq: (a, b) => canon(a) !== canon(b),
  lt: (a, b) => compare(a, b) < 0,
  gt: (a, b) => compare(a, b) > 0,
  lte: (a, b) => compare(a, b) <= 0,
  gte: (a, b) => compare(a, b) >= 0,
  plus: (a, b) => num(a, 'plus') + num(b, 'plus'),
  minus: (a, b) => {
    if (a instanceof RSet && b instanceof RSet) {
      const s = new RSet();
      for (const x of a.items.values()) if (!b.has(x)) s.add(x);
      return s;
    }
    return num(a, 'minus') - num(b, 'minus');
  },
  mul: (a, b) => num(a, 'mul') * num(b, 'mul'),
  div: (a, b) => {
    if (num(b, 'div') === 0) throw new EvalError('eval_builtin_error', 'div: divide by zero');
    return num(a, 'div') / (b as number);
  },
  rem: (a, b) => num(a, 'rem') % num(b, 'rem'),
  count: (a) => {
    const n = collectionLength(a);
    if (n === undefined) throw new EvalError('eval_type_error', 'count: operand 1 must be one of {array, object, set, string}');
    return n;
  },
  concat: (sep, xs) => {
    const items = Array.isArray(xs) ? xs : xs instanceof RSet ? [...xs.items.values()] : [];
    return items.map(String).join(String(sep));
  },
  'internal.member_2': (x, xs) => {
    if (Array.isArray(xs)) return xs.some((y) => canon(y) === canon(x));
    if (xs instanceof RSet) return xs.has(x);
    if (xs instanceof RObject) return [...xs.entries.values()].some(([, y]) => canon(y) === canon(x));
    return false;
  },
  'internal.member_3': (k, x, xs) => {
    if (Array.isArray(xs)) return typeof k === 'number' && canon(xs[k] ?? null) === canon(x) && k < xs.length;
    if (xs instanceof RObject) return xs.has(k) && canon(xs.get(k)!) === canon(x);
    return false;
  },
  and: (a, b) => {
    const s = new RSet();
    if (a instanceof RSet && b instanceof RSet) for (const x of a.items.values()) if (b.has(x)) s.add(x);
    return s;
  },
  or: (a, b) => {
    const s = new RSet();
    if (a instanceof RSet && b instanceof RSet) for (const x of [...a.items.values(), ...b.items.values()]) s.add(x);
    return s;
  },
};

class Return {
  constructor(readonly value: Val | undefined) {}
}

function upsert(base: Val | undefined, path: string[], value: Val): Val {
  if (path.length === 0) return value;
  const o = new RObject();
  if (base instanceof RObject) for (const [k, v] of base.entries.values()) o.set(k, v);
  o.set(path[0], upsert(base instanceof RObject ? base.get(path[0]) : undefined, path.slice(1), value));
  return o;
}

function merge(a: Val, b: Val): Val | undefined {
  if (!(a instanceof RObject) || !(b instanceof RObject)) return undefined;
  const o = new RObject();
  for (const [k, v] of a.entries.values()) o.set(k, v);
  for (const [k, v] of b.entries.values()) {
    const prev = o.get(k);
    if (prev === undefined) o.set(k, v);
    else {
      const m = merge(prev, v);
      if (m === undefined) return undefined;
      o.set(k, m);
    }
  }
  return o;
}

export interface InterpOptions {
  builtins?: Record<string, Builtin>;
  /** Guard against runaway recursion in a broken plan. */
  maxDepth?: number;
}

/** Evaluates plan `name` (or the first plan) and returns the result set as OPA's JSON. */
export function evalPlan(policy: Policy, input: unknown, data: unknown = {}, name?: string, opts: InterpOptions = {}): unknown[] {
  const plan = name === undefined ? policy.plans[0] : policy.plans.find((p) => p.name === name);
  if (!plan) throw new Error(`no plan ${name}`);
  const funcs = new Map(policy.funcs.map((f) => [f.name, f]));
  const builtins = { ...BUILTINS, ...opts.builtins };
  const maxDepth = opts.maxDepth ?? 500;
  const results: Val[] = [];
  let depth = 0;

  const str = (i: number) => policy.static.strings[i];

  const run = (blocks: Block[], locals: Array<Val | undefined>): void => {
    const operand = (o: Operand): Val | undefined => (o.type === 'local' ? locals[o.value] : o.type === 'bool' ? o.value : str(o.value));

    // -1: the block ran to its end; k >= 0: a statement broke out with index k.
    const block = (b: Block): number => {
      for (const s of b.stmts) {
        const r = stmt(s);
        if (r !== undefined) return r;
      }
      return -1;
    };
    const fail = 0;

    const stmt = (s: Stmt): number | undefined => {
      switch (s.type) {
        case 'ReturnLocalStmt':
          throw new Return(locals[s.source]);
        case 'CallStmt': {
          const args = s.args.map(operand);
          const f = funcs.get(s.func);
          let r: Val | undefined;
          if (f) r = call(f, args as Val[]); // input may be undefined: passed through
          else {
            if (args.some((a) => a === undefined)) return fail;
            const bi = builtins[s.func];
            if (!bi) throw new EvalError('eval_builtin_error', `builtin ${s.func} not in the test interpreter`);
            r = bi(...(args as Val[]));
          }
          if (r === undefined) return fail;
          locals[s.result] = r;
          return undefined;
        }
        case 'CallDynamicStmt': {
          const path = s.path.map(operand);
          const f = policy.funcs.find((fn) => fn.path && fn.path.length === path.length && fn.path.every((p, i) => p === path[i]));
          if (!f) return fail;
          const r = call(f, s.args.map((l) => locals[l]) as Val[]);
          if (r === undefined) return 2;
          locals[s.result] = r;
          return undefined;
        }
        case 'BlockStmt':
          for (const b of s.blocks) {
            const r = block(b);
            if (r > 0) return r - 1;
          }
          return undefined;
        case 'BreakStmt':
          return s.index;
        case 'DotStmt': {
          const src = operand(s.source);
          const key = operand(s.key);
          let v: Val | undefined;
          if (Array.isArray(src)) v = typeof key === 'number' && Number.isInteger(key) && key >= 0 ? src[key] : undefined;
          else if (src instanceof RObject) v = key === undefined ? undefined : src.get(key);
          else if (src instanceof RSet) v = key !== undefined && src.has(key) ? key : undefined;
          if (v === undefined) return fail;
          locals[s.target] = v;
          return undefined;
        }
        case 'LenStmt': {
          const n = collectionLength(operand(s.source) ?? null);
          if (n === undefined) return fail;
          locals[s.target] = n;
          return undefined;
        }
        case 'ScanStmt': {
          const src = locals[s.source];
          const pairs: Array<[Val, Val]> = Array.isArray(src)
            ? src.map((v, i) => [i, v])
            : src instanceof RObject
              ? [...src.entries.values()]
              : src instanceof RSet
                ? [...src.items.values()].map((v) => [v, v])
                : [];
          for (const [k, v] of pairs) {
            locals[s.key] = k;
            locals[s.value] = v;
            // As OPA's wasm compiles it: block { loop { block { body } } }, so breaks 0 and 1
            // both continue with the next element and 2+ leave the scan.
            const r = block(s.block);
            if (r > 1) return r - 2;
          }
          return undefined;
        }
        case 'NotStmt': {
          const r = block(s.block);
          if (r === -1) return fail;
          if (r > 0) return r - 1;
          return undefined;
        }
        case 'AssignIntStmt':
        case 'MakeNumberIntStmt':
          locals[s.target] = s.value;
          return undefined;
        case 'AssignVarStmt': {
          const v = operand(s.source);
          if (v === undefined) return fail;
          locals[s.target] = v;
          return undefined;
        }
        case 'AssignVarOnceStmt': {
          const v = operand(s.source);
          if (v === undefined) return fail;
          const prev = locals[s.target];
          if (prev !== undefined && canon(prev) !== canon(v)) {
            throw new EvalError('eval_conflict_error', 'complete rules must not produce multiple outputs');
          }
          locals[s.target] = v;
          return undefined;
        }
        case 'ResetLocalStmt':
          locals[s.target] = undefined;
          return undefined;
        case 'MakeNullStmt':
          locals[s.target] = null;
          return undefined;
        case 'MakeNumberRefStmt':
          locals[s.target] = Number(str(s.index));
          return undefined;
        case 'MakeArrayStmt':
          locals[s.target] = [];
          return undefined;
        case 'MakeObjectStmt':
          locals[s.target] = new RObject();
          return undefined;
        case 'MakeSetStmt':
          locals[s.target] = new RSet();
          return undefined;
        case 'EqualStmt':
        case 'NotEqualStmt': {
          const a = operand(s.a);
          const b = operand(s.b);
          if (a === undefined || b === undefined) return fail;
          const eq = canon(a) === canon(b);
          return (s.type === 'EqualStmt') === eq ? undefined : fail;
        }
        case 'IsArrayStmt':
          return Array.isArray(operand(s.source)) ? undefined : fail;
        case 'IsObjectStmt':
          return operand(s.source) instanceof RObject ? undefined : fail;
        case 'IsSetStmt':
          return operand(s.source) instanceof RSet ? undefined : fail;
        case 'IsDefinedStmt':
          return locals[s.source] !== undefined ? undefined : fail;
        case 'IsUndefinedStmt':
          return locals[s.source] === undefined ? undefined : fail;
        case 'ArrayAppendStmt': {
          const v = operand(s.value);
          if (v === undefined) return fail;
          (locals[s.array] as Val[]).push(v);
          return undefined;
        }
        case 'ObjectInsertStmt':
        case 'ObjectInsertOnceStmt': {
          const k = operand(s.key);
          const v = operand(s.value);
          if (k === undefined || v === undefined) return fail;
          const o = locals[s.object] as RObject;
          if (s.type === 'ObjectInsertOnceStmt') {
            const prev = o.get(k);
            if (prev !== undefined && canon(prev) !== canon(v)) throw new EvalError('eval_conflict_error', 'object keys must be unique');
          }
          o.set(k, v);
          return undefined;
        }
        case 'ObjectMergeStmt': {
          const m = merge(locals[s.a] as Val, locals[s.b] as Val);
          if (m === undefined) throw new EvalError('eval_conflict_error', 'object merge failed');
          locals[s.target] = m;
          return undefined;
        }
        case 'SetAddStmt': {
          const v = operand(s.value);
          if (v === undefined) return fail;
          (locals[s.set] as RSet).add(v);
          return undefined;
        }
        case 'WithStmt': {
          const v = operand(s.value);
          if (v === undefined) return fail;
          const saved = locals[s.local];
          locals[s.local] = upsert(saved, s.path.map(str), v);
          const r = block(s.block);
          locals[s.local] = saved;
          return r > 0 ? r - 1 : undefined;
        }
        case 'ResultSetAddStmt':
          results.push(locals[s.value] as Val);
          return undefined;
        case 'NopStmt':
          return undefined;
      }
    };

    for (const b of blocks) block(b);
  };

  const call = (f: Func, args: Val[]): Val | undefined => {
    if (++depth > maxDepth) throw new EvalError('eval_recursion_error', `max depth in ${f.name}`);
    const locals: Array<Val | undefined> = [];
    f.params.forEach((p, i) => (locals[p] = args[i]));
    try {
      run(f.blocks, locals);
      return undefined;
    } catch (e) {
      if (e instanceof Return) return e.value;
      throw e;
    } finally {
      depth--;
    }
  };

  const locals: Array<Val | undefined> = [input === undefined ? undefined : fromJSON(input), fromJSON(data)];
  run(plan.blocks, locals);
  return results.map(toJSON);
}
