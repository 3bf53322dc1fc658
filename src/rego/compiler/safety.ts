// Safety analysis and body reordering (compile.go reorderBodyForSafety, outputVarsFor*,
// unify.go, checkSafetyRuleHeads/Bodies, safetyErrorSlice).
import type { Body, Every, Expr, Location, RegoError, Rule, Term, Value } from '../ast/types.js';
import {
  RESERVED_VARS,
  SAFETY_PARAMS,
  compareLocations,
  isEquality,
  isEvery,
  isGenerated,
  isGround,
  isTermExpr,
  varToString,
  validEqAssignArgCount,
  varsOf,
  walkTerms,
} from '../ast/index.js';
import { UNSAFE_VAR_ERR, error, type CompileContext } from './context.js';

export type Arity = (ref: Term[]) => number;

const union = (a: Set<string>, b: Iterable<string>) => {
  for (const x of b) a.add(x);
  return a;
};
const diff = (a: Set<string>, b: Set<string>) => new Set([...a].filter((x) => !b.has(x)));
const intersect = (a: Set<string>, b: Set<string>) => new Set([...a].filter((x) => b.has(x)));
const setEq = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

// ------------------------------------------------------------------ unify.go

function isRefSafe(ref: Term[], safe: Set<string>): boolean {
  const head = ref[0].value;
  if (head.type === 'var') return safe.has(head.value);
  if (head.type === 'call') return isCallSafe(head, safe);
  return [...varsOf(ref[0], SAFETY_PARAMS)].every((v) => safe.has(v));
}

function isCallSafe(call: Value, safe: Set<string>): boolean {
  return [...varsOf(call, SAFETY_PARAMS)].every((v) => safe.has(v));
}

const markAllParams = { skipRefHead: true, skipObjectKeys: true, skipClosures: true };

export function unify(safe: Set<string>, a: Term, b: Term): Set<string> {
  const unified = new Set<string>();
  const unknown = new Map<string, Set<string>>();
  const isSafe = (x: string) => safe.has(x) || unified.has(x);
  const markSafe = (x: string): void => {
    unified.add(x);
    const deps = unknown.get(x);
    unknown.delete(x);
    if (deps) for (const v of deps) markSafe(v);
    for (const [v, d] of [...unknown]) {
      if (d.has(x)) {
        d.delete(x);
        if (d.size === 0) markSafe(v);
      }
    }
  };
  const markUnknown = (a: string, b: string) => {
    const s = unknown.get(a);
    if (s) s.add(b);
    else unknown.set(a, new Set([b]));
  };
  const markAllSafe = (x: Value) => {
    for (const v of varsOf(x, markAllParams)) markSafe(v);
  };
  const unifyAll = (a: string, b: Value) => {
    if (isSafe(a)) markAllSafe(b);
    else {
      const uns = [...varsOf(b, markAllParams)].filter((v) => !safe.has(v) && !unified.has(v));
      if (uns.length === 0) markSafe(a);
      else uns.forEach((v) => markUnknown(a, v));
    }
  };
  const go = (at: Term, bt: Term): void => {
    const a = at.value;
    const b = bt.value;
    switch (a.type) {
      case 'var':
        switch (b.type) {
          case 'var':
            if (isSafe(b.value)) markSafe(a.value);
            else if (isSafe(a.value)) markSafe(b.value);
            else {
              markUnknown(a.value, b.value);
              markUnknown(b.value, a.value);
            }
            return;
          case 'array':
          case 'object':
            return unifyAll(a.value, b);
          case 'ref':
            if (isRefSafe(b.value, safe)) markSafe(a.value);
            return;
          case 'call':
            if (isCallSafe(b, safe)) markSafe(a.value);
            return;
          default:
            return markSafe(a.value);
        }
      case 'ref':
        if (isRefSafe(a.value, safe)) {
          if (b.type === 'var') markSafe(b.value);
          else if (b.type === 'array' || b.type === 'object') markAllSafe(b);
        }
        return;
      case 'call':
        if (isCallSafe(a, safe)) {
          if (b.type === 'var') markSafe(b.value);
          else if (b.type === 'array' || b.type === 'object') markAllSafe(b);
        }
        return;
      case 'arraycomprehension':
        if (b.type === 'var') markSafe(b.value);
        else if (b.type === 'array') markAllSafe(b);
        return;
      case 'objectcomprehension':
        if (b.type === 'var') markSafe(b.value);
        else if (b.type === 'object') markAllSafe(b);
        return;
      case 'setcomprehension':
        if (b.type === 'var') markSafe(b.value);
        return;
      case 'array':
        switch (b.type) {
          case 'var':
            return unifyAll(b.value, a);
          case 'arraycomprehension':
          case 'objectcomprehension':
          case 'setcomprehension':
            return markAllSafe(a);
          case 'ref':
            if (isRefSafe(b.value, safe)) markAllSafe(a);
            return;
          case 'call':
            if (isCallSafe(b, safe)) markAllSafe(a);
            return;
          case 'array':
            if (a.value.length === b.value.length) a.value.forEach((x, i) => go(x, b.value[i]));
            return;
        }
        return;
      case 'object':
        switch (b.type) {
          case 'var':
            return unifyAll(b.value, a);
          case 'ref':
            if (isRefSafe(b.value, safe)) markAllSafe(a);
            return;
          case 'call':
            if (isCallSafe(b, safe)) markAllSafe(a);
            return;
          case 'object':
            if (a.value.length === b.value.length) {
              for (const [k, v] of a.value) {
                const other = b.value.find(([k2]) => JSON.stringify(stripLoc(k2.value)) === JSON.stringify(stripLoc(k.value)));
                if (other) go(v, other[1]);
              }
            }
            return;
        }
        return;
      default:
        if (b.type === 'var') markSafe(b.value);
    }
  };
  go(a, b);
  return unified;
}

function stripLoc(v: Value): unknown {
  return JSON.parse(JSON.stringify(v, (k, x) => (k === 'location' ? undefined : x)));
}

// ------------------------------------------------------------------ output vars

function outputVarsForTerms(x: Expr | Term, safe: Set<string>): Set<string> {
  const output = new Set<string>();
  walkTerms(x, (t) => {
    const v = t.value;
    switch (v.type) {
      case 'setcomprehension':
      case 'arraycomprehension':
      case 'objectcomprehension':
      case 'templatestring':
        return true;
      case 'ref':
        if (!isRefSafe(v.value, safe)) return true;
        if (!isGround(v)) varsOf(v, { skipRefHead: true }, output);
        return false;
    }
    return false;
  });
  return output;
}

export function outputVarsForExprEq(expr: Expr, safe: Set<string>): Set<string> {
  if (!validEqAssignArgCount(expr)) return new Set(safe);
  const terms = expr.terms as Term[];
  const output = outputVarsForTerms(expr, safe);
  union(output, safe);
  union(output, unify(output, terms[1], terms[2]));
  return diff(output, safe);
}

function outputVarsForExprCall(expr: Expr, arity: number, safe: Set<string>, terms: Term[]): Set<string> {
  const output = outputVarsForTerms(expr, safe);
  const numInputTerms = arity + 1;
  if (numInputTerms >= terms.length) return output;
  const params = { skipClosures: true, skipSets: true, skipObjectKeys: true, skipRefHead: true };
  const inputs = new Set<string>();
  terms.slice(0, numInputTerms).forEach((t) => varsOf(t.value, params, inputs));
  for (const v of inputs) if (!output.has(v) && !safe.has(v)) return new Set();
  terms.slice(numInputTerms).forEach((t) => varsOf(t.value, params, output));
  return output;
}

export function outputVarsForExpr(expr: Expr, arity: Arity, safe: Set<string>): Set<string> {
  if (expr.negated) return new Set();
  for (const w of expr.with) {
    for (const v of varsOf(w, SAFETY_PARAMS)) if (!safe.has(v)) return new Set();
  }
  if (isTermExpr(expr)) {
    if (expr.terms.value.type === 'templatestring') return new Set();
    return outputVarsForTerms(expr, safe);
  }
  if (Array.isArray(expr.terms)) {
    if (isEquality(expr)) return outputVarsForExprEq(expr, safe);
    const op = expr.terms[0].value;
    if (op.type !== 'ref') return new Set();
    const ar = arity(op.value);
    if (ar < 0) return new Set();
    return outputVarsForExprCall(expr, ar, safe, expr.terms);
  }
  if (isEvery(expr)) return outputVarsForTerms(expr.terms.domain, safe);
  return new Set();
}

export function outputVarsForBody(body: Body, arity: Arity, safe: Set<string>): Set<string> {
  const o = new Set(safe);
  for (const e of body) union(o, outputVarsForExpr(e, arity, o));
  return diff(o, safe);
}

// ------------------------------------------------------------------ reordering

export type UnsafeVars = Map<Expr, Set<string>>;

/** Vars inside closures (comprehensions: all vars; every: its body's vars) of an expression. */
function varsInClosures(e: Expr): Set<string> {
  const out = new Set<string>();
  if (isEvery(e)) {
    varsOf(e.terms.body, {}, out);
    return out;
  }
  const visitTerm = (t: Term) =>
    walkTerms(t, (x) => {
      const v = x.value;
      if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') {
        varsOf(v, {}, out);
        return true;
      }
      return false;
    });
  if (Array.isArray(e.terms)) e.terms.forEach(visitTerm);
  else if (isTermExpr(e)) visitTerm(e.terms);
  e.with.forEach((w) => {
    visitTerm(w.target);
    visitTerm(w.value);
  });
  return out;
}

export function reorderBodyForSafety(arity: Arity, globals: Set<string>, body: Body): { body: Body; unsafe: UnsafeVars } {
  const bodyVars = varsOf(body, SAFETY_PARAMS);
  const safe = intersect(bodyVars, globals);
  const unsafe: UnsafeVars = new Map();
  for (const e of body) {
    for (const v of varsOf(e, SAFETY_PARAMS)) {
      if (!safe.has(v)) {
        const s = unsafe.get(e) ?? new Set<string>();
        s.add(v);
        unsafe.set(e, s);
      }
    }
  }
  const reordered: Body = [];
  const inReordered = new Set<Expr>();
  for (;;) {
    const n = reordered.length;
    for (const e of body) {
      if (inReordered.has(e)) continue;
      const ovs = outputVarsForExpr(e, arity, safe);
      const cv = diff(intersect(varsInClosures(e), bodyVars), globals);
      const ob = outputVarsForBody(reordered, arity, safe);
      const uv = diff(cv, ob);
      if (uv.size > 0) {
        if (setEq(uv, ovs)) continue; // "closure-self"
        unsafe.set(e, uv);
      }
      const mine = unsafe.get(e);
      if (mine) for (const v of [...mine]) if (ovs.has(v) || safe.has(v)) mine.delete(v);
      if (!mine || mine.size === 0) {
        unsafe.delete(e);
        reordered.push(e);
        inReordered.add(e);
        union(safe, ovs);
      }
    }
    if (reordered.length === n) break;
  }

  // Closures: reorder their bodies with the vars of preceding expressions as globals.
  const g = new Set(globals);
  reordered.forEach((e, i) => {
    if (i > 0) varsOf(reordered[i - 1], SAFETY_PARAMS, g);
    reorderClosures(arity, e, g, unsafe);
  });
  reordered.forEach((e, i) => (e.index = i));
  return { body: reordered, unsafe };
}

function reorderClosures(arity: Arity, current: Expr, globals: Set<string>, unsafe: UnsafeVars): void {
  const addUnsafe = (v: string) => {
    const s = unsafe.get(current) ?? new Set<string>();
    s.add(v);
    unsafe.set(current, s);
  };
  const reorderComprehension = (tv: Set<string>, body: Body): Body => {
    const bv = varsOf(body, SAFETY_PARAMS);
    union(bv, globals);
    for (const v of tv) if (!bv.has(v)) addUnsafe(v);
    const r = reorderBodyForSafety(arity, globals, body);
    if (r.unsafe.size === 0) return r.body;
    r.unsafe.forEach((vs, e) => {
      const s = unsafe.get(e) ?? new Set<string>();
      union(s, vs);
      unsafe.set(e, s);
    });
    return body;
  };
  const visitTerm = (t: Term) =>
    walkTerms(t, (x) => {
      const v = x.value;
      if (v.type === 'arraycomprehension' || v.type === 'setcomprehension') {
        v.body = reorderComprehension(varsOf(v.term), v.body);
        return true;
      }
      if (v.type === 'objectcomprehension') {
        const tv = varsOf(v.key);
        varsOf(v.value, {}, tv);
        v.body = reorderComprehension(tv, v.body);
        return true;
      }
      return false;
    });
  if (isEvery(current)) {
    const ev: Every = current.terms;
    if (ev.key) varsOf(ev.key, {}, globals);
    varsOf(ev.value, {}, globals);
    ev.body = reorderComprehension(new Set(), ev.body);
    return;
  }
  if (Array.isArray(current.terms)) current.terms.forEach(visitTerm);
  else if (isTermExpr(current)) visitTerm(current.terms);
  current.with.forEach((w) => {
    visitTerm(w.target);
    visitTerm(w.value);
  });
}

const futureKeywords = new Set(['in', 'every', 'contains', 'if']);

/** OPA's safetyErrorSlice: one error per unsafe user var, else `expression is unsafe`. */
export function safetyErrors(unsafe: UnsafeVars, rewritten: Map<string, string>): RegoError[] {
  if (unsafe.size === 0) return [];
  const locs = new Map<string, Location | undefined>();
  const has = new Set<string>();
  for (const [expr, vars] of unsafe) {
    for (const v of vars) {
      if (!has.has(v) || compareLocations(locs.get(v), expr.location) > 0) {
        locs.set(v, expr.location);
        has.add(v);
      }
    }
  }
  const pairs = [...has].map((v) => ({ v, loc: locs.get(v) })).sort((a, b) => compareLocations(a.loc, b.loc) || (a.v < b.v ? -1 : 1));
  const out: RegoError[] = [];
  for (const { v: v0, loc } of pairs) {
    const v = rewritten.get(v0) ?? v0;
    if (isGenerated(v)) continue;
    if (futureKeywords.has(v)) {
      out.push(error(UNSAFE_VAR_ERR, `var ${v} is unsafe (hint: \`import future.keywords.${v}\` to import a future keyword)`, loc));
      continue;
    }
    out.push(error(UNSAFE_VAR_ERR, `var ${varToString(v)} is unsafe`, loc));
  }
  if (out.length > 0) return out;
  const exprs = [...unsafe].sort((a, b) => compareLocations(a[0].location, b[0].location));
  const seen = new Set<string>();
  for (const [expr, vars] of exprs) {
    const before = seen.size;
    for (const v of vars) if (isGenerated(v)) seen.add(v);
    if (seen.size > before) out.push(error(UNSAFE_VAR_ERR, 'expression is unsafe', expr.location));
  }
  return out;
}

function headVars(rule: Rule): Set<string> {
  const out = new Set<string>();
  if (rule.head.key) varsOf(rule.head.key, {}, out);
  if (rule.head.value) varsOf(rule.head.value, {}, out);
  rule.head.reference.slice(1).forEach((t) => varsOf(t, {}, out));
  return out;
}

export function checkSafetyRuleHeads(c: CompileContext, headMayHaveVars: (r: Rule) => boolean): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) {
        if (!headMayHaveVars(r)) continue;
        const safe = varsOf(r.body, SAFETY_PARAMS);
        (r.head.args ?? []).forEach((a) => varsOf(a.value, {}, safe));
        const unsafeVars = [...headVars(r)].filter((v) => !safe.has(v)).sort();
        for (const v0 of unsafeVars) {
          const v = c.rewrittenVars.get(v0) ?? v0;
          if (isGenerated(v)) continue;
          if (!c.err(error(UNSAFE_VAR_ERR, `var ${varToString(v)} is unsafe`, r.location))) return;
        }
      }
    }
  }
}

export function checkSafetyRuleBodies(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) {
        const safe = new Set(RESERVED_VARS);
        (r.head.args ?? []).forEach((a) => varsOf(a.value, {}, safe));
        const res = reorderBodyForSafety(c.getArity, safe, r.body);
        const errs = safetyErrors(res.unsafe, c.rewrittenVars);
        if (errs.length > 0) c.err(...errs);
        else r.body = res.body;
      }
    }
  }
}
