// The type checker (OPA's v1/ast/check.go), run by the CheckTypes stage on rules in dependency
// order and by the query compiler on each query. It infers types of local variables (from
// unification, builtin and function results, refs), of rules (complete: the value's type;
// partial set: set of the key's type; partial object / ref heads: nested objects; functions:
// a function type) and of comprehensions, and reports OPA's rego_type_error messages:
//   `<f>: invalid argument(s)` / `too many arguments` / `too few arguments` (have/want lines),
//   `undefined function <f>`, `match error` (left/right), `undefined ref: <ref>`,
//   `<f>: arity mismatch` for `with` replacements.
// `input` and unknown parts of `data` have type `any`, and `any` unifies with everything, so
// only what is certain to fail is rejected (no schemas are used).
import type { Body, Expr, Location, RegoError, Rule, Term, Value } from '../ast/types.js';
import {
  compareLocations,
  compareValues,
  isCall,
  isConstant,
  isEvery,
  isSome,
  isGround,
  refIsGround,
  refToString,
  termToString,
  valueToString,
  walkTerms,
} from '../ast/index.js';
import { TYPE_ERR, error, type CompileContext } from './context.js';
import type { Graph } from './graph.js';
import { ruleRef } from './ruletree.js';
import { RuleSchemas } from './schema-annotations.js';
import { TypeEnv, TypeNode, selectConstant } from './typeenv.js';
import {
  A,
  S,
  funcArgsString,
  isNil,
  keys,
  obj,
  or,
  select,
  set,
  typeToString,
  values,
  type FunctionType,
  type RegoType,
  type T,
} from './typesys.js';

const EQUALITY: FunctionType = { kind: 'function', args: [A, A], result: { kind: 'boolean' } };

interface TypeError extends RegoError {
  /** OPA's typeErrorCause.nilType(): the error may be a consequence of an earlier one. */
  nilType?: boolean;
}

function typeError(message: string, lines: string[], location: Location | undefined, nilType: boolean, details: unknown): TypeError {
  const e: TypeError = error(TYPE_ERR, message + lines.map((l) => '\n\t' + l).join(''), location);
  e.details = details;
  if (nilType) e.nilType = true;
  return e;
}

function formatArgs(ts: T[]): string {
  return '(' + ts.map(typeToString).join(', ') + ')';
}

function argError(location: Location | undefined, name: string, msg: string, have: T[], want: string): TypeError {
  return typeError(`${name}: ${msg}`, [`have: ${formatArgs(have)}`, `want: ${want}`], location, have.some(isNil), {
    have: formatArgs(have),
    want,
  });
}

function termLocation(t: Term | undefined, fallback: Location | undefined): Location | undefined {
  return t?.location ?? fallback;
}

// ---------------------------------------------------------------- unification (unifies, unify1, unify2)

export function unifies(a: T, b: T): boolean {
  if (!a || !b) return false;
  if (a.kind === 'any' && unifiesAny(a, b)) return true;
  if (b.kind === 'any' && unifiesAny(b, a)) return true;
  if (a.kind === 'any' || b.kind === 'any') return false;
  switch (a.kind) {
    case 'null':
    case 'boolean':
    case 'number':
    case 'string':
      return b.kind === a.kind;
    case 'array':
      return b.kind === 'array' && unifiesArraysStatic(a, b) && unifiesArraysStatic(b, a) && (!a.dynamic || !b.dynamic || unifies(a.dynamic, b.dynamic));
    case 'object':
      return (
        b.kind === 'object' &&
        unifiesObjectsStatic(a, b) &&
        unifiesObjectsStatic(b, a) &&
        (!a.dynamic?.value || !b.dynamic?.value || unifies(a.dynamic.value, b.dynamic.value))
      );
    case 'set':
      return b.kind === 'set' && unifies(values(a), values(b));
    case 'function':
      if (b.kind !== 'function' || a.args.length !== b.args.length) return false;
      return a.args.every((x, i) => unifies(x, b.args[i]));
  }
}

function unifiesAny(a: Extract<RegoType, { kind: 'any' }>, b: RegoType): boolean {
  if (b.kind === 'function') return false;
  const of = a.of ?? [];
  return of.length === 0 || of.some((m) => unifies(m, b));
}

function unifiesArraysStatic(a: Extract<RegoType, { kind: 'array' }>, b: RegoType): boolean {
  const st = a.static ?? [];
  for (let i = 0; i < st.length; i++) if (!unifies(st[i], select(b, { type: 'number', value: String(i) }))) return false;
  return true;
}

function unifiesObjectsStatic(a: Extract<RegoType, { kind: 'object' }>, b: RegoType): boolean {
  for (const [k, v] of a.static ?? []) {
    const bv = select(b, k);
    if (!bv && a.open) continue; // a rule subtree's key may be undefined (see TypeEnv.extent)
    if (!unifies(v, bv)) return false;
  }
  return true;
}

function unify1(env: TypeEnv, term: Term, tpe: T, union: boolean): boolean {
  const v = term.value;
  switch (v.type) {
    case 'array':
    case 'object':
    case 'set': {
      if (tpe && tpe.kind === v.type) {
        if (v.type === 'array') return unify1Array(env, v.value, tpe as Extract<RegoType, { kind: 'array' }>, union);
        if (v.type === 'object') return unify1Object(env, v.value, tpe as Extract<RegoType, { kind: 'object' }>, union);
        const of = values(tpe);
        return v.value.every((e) => unify1(env, e, of, union));
      }
      if (tpe && tpe.kind === 'any') {
        if (!tpe.of || tpe.of.length === 0) {
          if (v.type === 'object')
            for (const [k, x] of v.value) {
              unify1(env, k, A, true);
              unify1(env, x, A, true);
            }
          else for (const e of v.value) unify1(env, e, A, true);
          return true;
        }
        let ok = false;
        for (const m of tpe.of) ok = unify1(env, term, m, true) || ok;
        return ok;
      }
      return false;
    }
    case 'ref':
    case 'arraycomprehension':
    case 'objectcomprehension':
    case 'setcomprehension':
      return unifies(env.getByValue(v), tpe);
    case 'var': {
      if (!union) {
        const exist = env.getByValue(v);
        if (exist) return unifies(exist, tpe);
        env.tree.putOne(v, tpe);
      } else {
        env.tree.putOne(v, or(env.getByValue(v), tpe));
      }
      return true;
    }
    case 'call':
    case 'templatestring':
      return true; // never reached after the rewriting stages; unknown means no error
    default:
      return unifies(env.getByValue(v), tpe);
  }
}

function unify1Array(env: TypeEnv, elems: Term[], tpe: Extract<RegoType, { kind: 'array' }>, union: boolean): boolean {
  const len = tpe.static?.length ?? 0;
  if (elems.length !== len && !tpe.dynamic) return false;
  for (let i = 0; i < elems.length; i++) {
    const t = i < len ? tpe.static![i] : tpe.dynamic;
    if (!unify1(env, elems[i], t, union)) return false;
  }
  return true;
}

function unify1Object(env: TypeEnv, pairs: Array<[Term, Term]>, tpe: Extract<RegoType, { kind: 'object' }>, union: boolean): boolean {
  if (pairs.length !== (tpe.static?.length ?? 0) && !tpe.dynamic?.value) return false;
  for (const [k, v] of pairs) {
    if (isConstant(k.value)) {
      const child = selectConstant(tpe, k.value);
      if (!child || !unify1(env, v, child, union)) return false;
    } else {
      unify1(env, v, A, union);
    }
  }
  return true;
}

function unify2(env: TypeEnv, a: Term, typeA: T, b: Term, typeB: T): boolean {
  const nilA = isNil(typeA);
  const nilB = isNil(typeB);
  if (nilA && !nilB) return unify1(env, a, typeB, false);
  if (nilB && !nilA) return unify1(env, b, typeA, false);
  if (!nilA && !nilB) return unifies(typeA, typeB);
  switch (a.value.type) {
    case 'array':
      return unify2Array(env, a, b);
    case 'object':
      return unify2Object(env, a, b);
    case 'var':
      switch (b.value.type) {
        case 'var':
          return unify1(env, a, A, false) && unify1(env, b, env.getByValue(a.value), false);
        case 'array':
          return unify2Array(env, b, a);
        case 'object':
          return unify2Object(env, b, a);
      }
  }
  return false;
}

function unify2Array(env: TypeEnv, a: Term, b: Term): boolean {
  const arr = (a.value as Extract<Value, { type: 'array' }>).value;
  if (b.value.type === 'array') {
    const bv = b.value.value;
    if (arr.length !== bv.length) return false;
    for (let i = 0; i < arr.length; i++) {
      if (!unify2(env, arr[i], env.getByValue(arr[i].value), bv[i], env.getByValue(bv[i].value))) return false;
    }
    return true;
  }
  if (b.value.type === 'var') return unify1(env, a, A, false) && unify1(env, b, env.getByValue(a.value), false);
  return false;
}

function unify2Object(env: TypeEnv, a: Term, b: Term): boolean {
  const o = (a.value as Extract<Value, { type: 'object' }>).value;
  if (b.value.type === 'object') {
    const bv = b.value.value;
    // OPA's Object.Intersect: pairs with equal keys.
    const common: Array<[Term, Term]> = [];
    for (const [k, v] of o) {
      const m = bv.find(([k2]) => compareValues(k.value, k2.value) === 0);
      if (m) common.push([v, m[1]]);
    }
    if (o.length !== bv.length || bv.length !== common.length) return false;
    for (const [x, y] of common) if (!unify2(env, x, env.getByValue(x.value), y, env.getByValue(y.value))) return false;
    return true;
  }
  if (b.value.type === 'var') return unify1(env, a, A, false) && unify1(env, b, env.getByValue(a.value), false);
  return false;
}

// ---------------------------------------------------------------- refs (refChecker)

type VarRewriter = (ref: Term[]) => Term[];

function rewriteVarsIn(v: Value, maps: Array<Map<string, string>>): Value {
  switch (v.type) {
    case 'var': {
      for (const m of maps) {
        const u = m.get(v.value);
        if (u !== undefined) return { type: 'var', value: u };
      }
      return v;
    }
    case 'ref':
    case 'array':
    case 'set':
    case 'call':
      return { ...v, value: v.value.map((t) => ({ ...t, value: rewriteVarsIn(t.value, maps) })) } as Value;
    case 'object':
      return { ...v, value: v.value.map(([k, x]) => [{ ...k, value: rewriteVarsIn(k.value, maps) }, { ...x, value: rewriteVarsIn(x.value, maps) }]) } as Value;
    default:
      return v;
  }
}

function varRewriter(...maps: Array<Map<string, string>>): VarRewriter {
  return (ref) => ref.map((t) => ({ ...t, value: rewriteVarsIn(t.value, maps) }));
}

function oneOfString(vs: Value[]): string {
  return '[' + vs.map(valueToString).join(' ') + ']';
}

function oneOfForNode(node: TypeNode): Value[] {
  return [...(node.children?.values() ?? [])].map((c) => c.key!).sort(compareValues);
}

function oneOfForType(tpe: T): Value[] {
  const out: Value[] = [];
  const rec = (t: T) => {
    if (t && t.kind === 'object') for (const [k] of t.static ?? []) out.push(k);
    else if (t && t.kind === 'any') for (const m of t.of ?? []) rec(m);
  };
  rec(tpe);
  const uniq: Value[] = [];
  for (const v of out) if (!uniq.some((u) => compareValues(u, v) === 0)) uniq.push(v);
  return uniq.sort(compareValues);
}

function refErrUnsupported(loc: Location | undefined, ref: Term[], pos: number, have: T): TypeError {
  const s = refToString(ref);
  const lines = [s, '^'.repeat(refToString(ref.slice(0, pos + 1)).length), `have: ${typeToString(have)}`];
  return typeError(`undefined ref: ${s}`, lines, loc, false, { ref: s, pos, have: typeToString(have) });
}

function refErrInvalid(loc: Location | undefined, ref: Term[], pos: number, have: T, want: T, oneOf: Value[]): TypeError {
  const s = refToString(ref);
  const pad = ' '.repeat(refToString(ref.slice(0, pos)).length + 1);
  const lines = [s, pad + '^'];
  lines.push(have ? `${pad}have (type): ${typeToString(have)}` : `${pad}have: ${termToString(ref[pos])}`);
  lines.push(oneOf.length ? `${pad}want (one of): ${oneOfString(oneOf)}` : `${pad}want (type): ${typeToString(want)}`);
  return typeError(`undefined ref: ${s}`, lines, loc, false, { ref: s, pos, have: have && typeToString(have), want: typeToString(want) });
}

class RefChecker {
  errs: TypeError[] = [];
  constructor(
    private readonly env: TypeEnv,
    private readonly rewrite: VarRewriter,
  ) {}

  /** OPA's refChecker.Visit over an expression: operands of calls, or the term. */
  expr(e: Expr): void {
    const terms = e.terms;
    if (Array.isArray(terms)) {
      for (let i = 1; i < terms.length; i++) this.term(terms[i]);
    } else if (isEvery(e)) {
      const ev = e.terms;
      // Not a call or term: OPA's generic visitor descends (key, value, domain, body, with).
      if (ev.key) this.term(ev.key);
      this.term(ev.value);
      this.term(ev.domain);
      for (const x of ev.body) this.expr(x);
      for (const w of e.with) {
        this.term(w.target);
        this.term(w.value);
      }
    } else if (isSome(e)) {
      for (const s of e.terms.symbols) this.term(s);
    } else {
      this.term(terms as Term);
    }
  }

  private term(t: Term): void {
    const v = t.value;
    switch (v.type) {
      case 'arraycomprehension':
      case 'setcomprehension':
      case 'objectcomprehension':
        return; // closures are checked on their own
      case 'ref': {
        const applyErr = this.checkApply(v.value);
        if (applyErr) {
          this.errs.push(applyErr);
          return;
        }
        const err = this.checkRef(this.env, this.env.tree, v.value, 0);
        if (err) this.errs.push(err);
        for (const x of v.value) this.term(x);
        return;
      }
      case 'array':
      case 'set':
      case 'call':
        for (const x of v.value) this.term(x);
        return;
      case 'object':
        for (const [k, x] of v.value) {
          this.term(k);
          this.term(x);
        }
        return;
      default:
        return;
    }
  }

  private checkApply(ref: Term[]): TypeError | undefined {
    const tpe = this.env.getByRef(ref);
    if (tpe && tpe.kind === 'function') return refErrUnsupported(ref[0].location, this.rewrite(ref), ref.length - 1, tpe);
    return undefined;
  }

  private checkRef(curr: TypeEnv, node: TypeNode, ref: Term[], idx: number): TypeError | undefined {
    if (idx === ref.length) return undefined;
    const head = ref[idx];
    if (idx === 1 || idx === 2) {
      if (head.value.type !== 'var' && head.value.type !== 'string') {
        const have = this.env.getByValue(head.value);
        return refErrInvalid(ref[0].location, this.rewrite(ref), idx, have, S, oneOfForNode(node));
      }
    }
    if (head.value.type === 'var' && idx !== 0) {
      const tpe = keys(this.env.extent(node));
      const exist = this.env.getByValue(head.value);
      if (exist) {
        if (!unifies(tpe, exist)) return refErrInvalid(ref[0].location, this.rewrite(ref), idx, exist, tpe, oneOfForNode(node));
      } else {
        this.env.tree.putOne(head.value, tpe);
      }
    }
    const child = head.value.type === 'ref' || head.value.type === 'call' ? undefined : node.child(head.value);
    if (!child) {
      if (curr.next) return this.checkRef(curr.next, curr.next.tree, ref, 0);
      const r0 = ref[0].value;
      if (r0.type === 'var' && (r0.value === 'data' || r0.value === 'input')) {
        if (idx !== 0) {
          for (const c of node.children?.values() ?? []) this.checkRef(curr, c, ref, idx + 1); // errors ignored (OPA)
          return undefined;
        }
        return this.checkRefLeaf(A, ref, 1);
      }
      return this.checkRefLeaf(A, ref, 0);
    }
    if (child.leaf()) return this.checkRefLeaf(child.value, ref, idx + 1);
    return this.checkRef(curr, child, ref, idx + 1);
  }

  private checkRefLeaf(tpe: T, ref: Term[], idx: number): TypeError | undefined {
    for (;;) {
      if (idx === ref.length) return undefined;
      const head = ref[idx];
      const ks = keys(tpe);
      if (!ks) return refErrUnsupported(ref[0].location, this.rewrite(ref), idx - 1, tpe);
      const v = head.value;
      switch (v.type) {
        case 'var': {
          const exist = this.env.getByValue(v);
          if (exist) {
            if (!unifies(exist, ks)) return refErrInvalid(ref[0].location, this.rewrite(ref), idx, exist, ks, oneOfForType(tpe));
          } else this.env.tree.putOne(v, ks);
          break;
        }
        case 'ref': {
          const exist = this.env.getByRef(v.value);
          if (exist && !unifies(exist, ks)) return refErrInvalid(ref[0].location, this.rewrite(ref), idx, exist, ks, oneOfForType(tpe));
          break;
        }
        case 'array':
        case 'object':
        case 'set':
          if (!unify1(this.env, head, ks, false)) return refErrInvalid(ref[0].location, this.rewrite(ref), idx, this.env.getByValue(v), ks, []);
          break;
        default: {
          const child = selectConstant(tpe, v);
          if (!child) return refErrInvalid(ref[0].location, this.rewrite(ref), idx, undefined, keys(tpe), oneOfForType(tpe));
          tpe = child;
          idx++;
          continue;
        }
      }
      tpe = values(tpe);
      idx++;
    }
  }
}

// ---------------------------------------------------------------- closures

/** OPA's WalkClosures: comprehensions in `e` (descending into those that checked cleanly). */
function walkClosures(e: Expr, f: (body: Body) => boolean): void {
  const term = (t: Term): void => {
    const v = t.value;
    switch (v.type) {
      case 'arraycomprehension':
      case 'setcomprehension':
        if (f(v.body)) return;
        term(v.term);
        v.body.forEach(expr);
        return;
      case 'objectcomprehension':
        if (f(v.body)) return;
        term(v.key);
        term(v.value);
        v.body.forEach(expr);
        return;
      case 'ref':
      case 'array':
      case 'set':
      case 'call':
        v.value.forEach(term);
        return;
      case 'object':
        for (const [k, x] of v.value) {
          term(k);
          term(x);
        }
        return;
      default:
        return;
    }
  };
  const expr = (x: Expr): void => {
    const ts = x.terms;
    if (Array.isArray(ts)) ts.forEach(term);
    else if (isEvery(x)) {
      const ev = x.terms;
      if (ev.key) term(ev.key);
      term(ev.value);
      term(ev.domain);
      ev.body.forEach(expr);
    } else if (isSome(x)) x.terms.symbols.forEach(term);
    else term(ts as Term);
    for (const w of x.with) {
      term(w.target);
      term(w.value);
    }
  };
  expr(e);
}

// ---------------------------------------------------------------- the checker

export class TypeChecker {
  errs: TypeError[] = [];
  constructor(private readonly rewrite: VarRewriter = (r) => r) {}

  private copy(): TypeChecker {
    return new TypeChecker(this.rewrite);
  }

  /** The root environment: builtin declarations; comprehension types are checked by copies. */
  static rootEnv(rewrite?: VarRewriter): TypeEnv {
    const tc = new TypeChecker(rewrite);
    return TypeEnv.root(tc.bodyChecker());
  }

  private bodyChecker() {
    return (env: TypeEnv, body: Body) => {
      const r = this.copy().checkBody(env, body);
      return { env: r.env, errors: r.errors.length };
    };
  }

  /** OPA's CheckBody: a new environment wrapping `env`, with the body's variables typed. */
  checkBody(env: TypeEnv, body: Body): { env: TypeEnv; errors: TypeError[] } {
    const errors: TypeError[] = [];
    env = env.wrap();
    for (const e of body) {
      const closureErrs = this.checkClosures(env, e);
      errors.push(...closureErrs);
      const rc = new RefChecker(env, this.rewrite);
      rc.expr(e);
      errors.push(...rc.errs);
      const err = this.checkExpr(env, e);
      if (err) {
        const skip = (closureErrs.length > 0 || rc.errs.length > 0) && !!err.nilType;
        if (!skip) errors.push(err);
      }
    }
    this.errs.push(...errors);
    return { env, errors };
  }

  private checkClosures(env: TypeEnv, e: Expr): TypeError[] {
    let result: TypeError[] = [];
    walkClosures(e, (body) => {
      const r = this.copy().checkBody(env, body);
      if (r.errors.length > 0) {
        result = r.errors;
        return true;
      }
      return false;
    });
    return result;
  }

  /** OPA's CheckTypes: rules in dependency order; their types are added under `data`. */
  checkRules(env: TypeEnv, sorted: Array<{ rule: Rule; path: Term[] }>): { env: TypeEnv; errors: TypeError[] } {
    env = env.wrap();
    for (const { rule, path } of sorted) this.checkRule(env, rule, path);
    this.errs.sort((a, b) => compareLocations(a.location, b.location) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
    return { env, errors: this.errs };
  }

  /** Types of `input`/`data` paths for one rule (schema annotations), applied before its body. */
  ruleSchemas?: (rule: Rule) => Array<{ path: Term[]; type: RegoType }>;

  private checkRule(env: TypeEnv, rule: Rule, path: Term[]): void {
    const wrapped = env.wrap();
    for (const { path: p, type } of this.ruleSchemas?.(rule) ?? []) wrapped.tree.put(p, type);
    const { env: cpy, errors } = this.checkBody(wrapped, rule.body);
    if (errors.length > 0) {
      env.tree.put(path, A);
      return;
    }
    let tpe: T;
    const head = rule.head;
    if (head.args && head.args.length > 0) {
      for (const arg of head.args) {
        // OPA's WalkVars: every var of the argument
        walkTerms(arg, (t) => {
          if (t.value.type === 'var' && !cpy.getByValue(t.value)) cpy.tree.putOne(t.value, A);
        });
      }
      const f: FunctionType = { kind: 'function', args: head.args.map((a) => cpy.getByValue(a.value)) };
      const r = head.value ? cpy.getByValue(head.value.value) : undefined;
      if (r) f.result = r;
      tpe = f;
    } else if (head.multiValue || (head.key !== undefined && head.value === undefined)) {
      const typeK = head.key ? cpy.getByValue(head.key.value) : undefined;
      if (typeK) tpe = set(typeK);
    } else {
      const typeV = head.value ? cpy.getByValue(head.value.value) : undefined;
      if (!refIsGround(path)) {
        let n = 1;
        while (n < path.length && isGround(path[n].value)) n++;
        tpe = nestedObject(cpy, path.slice(n), typeV);
        path = path.slice(0, n);
      } else if (typeV) tpe = typeV;
    }
    if (tpe) env.tree.insert(path, tpe, env);
  }

  private checkExpr(env: TypeEnv, e: Expr): TypeError | undefined {
    const werr = this.checkExprWith(env, e);
    if (werr) return werr;
    if (!isCall(e)) return undefined;
    const op = e.terms[0];
    if (op.value.type === 'ref' && op.value.value.length === 1 && op.value.value[0].value.type === 'var' && op.value.value[0].value.value === 'eq') {
      return checkExprEq(env, e);
    }
    return this.checkExprBuiltin(env, e);
  }

  private checkExprBuiltin(env: TypeEnv, e: Expr & { terms: Term[] }): TypeError | undefined {
    const op = e.terms[0];
    if (op.value.type !== 'ref') return undefined;
    const name = refToString(op.value.value);
    const tpe = env.getByRef(op.value.value);
    if (!tpe) return typeError(`undefined function ${name}`, [], e.location, false, undefined);
    if (tpe.kind === 'any') return undefined; // a function whose body had errors
    if (tpe.kind !== 'function') return typeError(`undefined function ${name}`, [], e.location, false, undefined);

    const fargs: T[] = [...tpe.args];
    if (tpe.result) fargs.push(tpe.result);
    const want = funcArgsString(tpe, true);
    const args = e.terms.slice(1);
    if (args.length > fargs.length && !tpe.variadic) return argError(e.location, name, 'too many arguments', args.map((a) => env.getByValue(a.value)), want);
    if (args.length < tpe.args.length) return argError(e.location, name, 'too few arguments', args.map((a) => env.getByValue(a.value)), want);
    for (let i = 0; i < args.length; i++) {
      const ft = i < fargs.length ? fargs[i] : tpe.variadic;
      if (!unify1(env, args[i], ft, false)) {
        return argError(e.location, name, 'invalid argument(s)', args.map((a) => env.getByValue(a.value)), want);
      }
    }
    return undefined;
  }

  private checkExprWith(env: TypeEnv, e: Expr): TypeError | undefined {
    for (const w of e.with) {
      const targetType = env.getByValue(w.target.value);
      const valueType = env.getByValue(w.value.value);
      if (targetType && targetType.kind === 'function' && valueType && valueType.kind === 'function') {
        if (!unifies(targetType, valueType)) {
          const name = termToString(w.target);
          return argError(w.location ?? termLocation(w.target, e.location), name, 'arity mismatch', valueType.args, funcArgsString(targetType, false));
        }
      }
    }
    return undefined;
  }
}

function checkExprEq(env: TypeEnv, e: Expr & { terms: Term[] }): TypeError | undefined {
  const args = e.terms.slice(1);
  const pre = args.map((a) => env.getByValue(a.value));
  const want = funcArgsString(EQUALITY, false);
  if (pre.length < 2) return argError(e.location, 'eq', 'too few arguments', pre, want);
  if (pre.length > 2) return argError(e.location, 'eq', 'too many arguments', pre, want);
  const [a, b] = args;
  const typeA = pre[0];
  const typeB = pre[1];
  if (!unify2(env, a, typeA, b, typeB)) {
    return typeError('match error', [`left  : ${typeToString(typeA)}`, `right : ${typeToString(typeB)}`], e.location, isNil(typeA) || isNil(typeB), {
      a: typeToString(typeA),
      b: typeToString(typeB),
    });
  }
  return undefined;
}

function nestedObject(env: TypeEnv, path: Term[], tpe: T): T {
  if (path.length === 0) return tpe;
  const typeV = nestedObject(env, path.slice(1), tpe);
  if (!typeV) return undefined;
  const typeK = env.getByValue(path[0].value);
  if (!typeK) return undefined;
  return obj(typeK, typeV);
}

// ---------------------------------------------------------------- compiler stages

/** The CheckTypes stage: rules in the dependency graph's order (OPA's Graph.Sort). */
export function checkTypes(c: CompileContext, g: Graph): void {
  const order = g.sort() ?? [];
  const seen = new Set<Rule>(order);
  const rules: Rule[] = [...order];
  // Rules outside the graph (none expected) are still checked, after the others.
  for (const { module } of c.sorted) for (const rule of module.rules) for (let r: Rule | undefined = rule; r; r = r.else) if (!seen.has(r)) rules.push(r);
  const tc = new TypeChecker(varRewriter(c.rewrittenVars));
  let root = TypeChecker.rootEnv(varRewriter(c.rewrittenVars));
  const schemas = c.schemas ? new RuleSchemas(c, c.schemas) : undefined;
  const originals = new Map<Rule, Rule>();
  if (schemas) {
    root = schemas.typeRoot(root);
    tc.ruleSchemas = (r) => schemas.forRule(originals.get(r) ?? r);
    c.err(...schemas.errors);
  }
  let result: { env: TypeEnv; errors: TypeError[] };
  try {
    result = tc.checkRules(
      root,
      rules.map((rule) => {
        const copy = { ...rule, else: undefined };
        originals.set(copy, rule);
        return { rule: copy, path: ruleRef(rule, c.moduleOf(rule)) };
      }),
    );
  } catch {
    // A fault of the checker itself must not reject a policy: evaluation still raises
    // eval_type_error for wrong operands, so skipping the static check is safe.
    return;
  }
  c.typeEnv = result.env;
  c.err(...result.errors.map(strip));
}

/** The query compiler's checkTypes: the query body against the rules' types. */
export function checkQueryTypes(c: CompileContext, body: Body, rewritten: Map<string, string>): RegoError[] {
  const rw = varRewriter(rewritten, c.rewrittenVars);
  let env = c.typeEnv;
  if (!env) {
    env = TypeChecker.rootEnv(rw);
    if (c.schemas) env = new RuleSchemas(c, c.schemas).typeRoot(env);
  }
  try {
    return new TypeChecker(rw).checkBody(env, body).errors.map(strip);
  } catch {
    return []; // as in checkTypes: a checker fault never rejects a query
  }
}

function strip(e: TypeError): RegoError {
  const { nilType: _n, ...rest } = e;
  return rest;
}

export { typeToString };
