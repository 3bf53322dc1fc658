// Walking the AST (OPA's v1/ast/visit.go and varvisitor.go): the var visitor with its skip
// parameters, generic term/expression/body walks, and the questions answered by walking
// (IsGround, IsConstant, ContainsRefs, ContainsClosures).
import { isComprehension, isEvery, isSome, isTermExpr } from './nodes.js';
import type { Body, Every, Expr, Head, Rule, SomeDecl, Term, Value, With } from './types.js';

/** Anything the walkers accept. */
export type Node = Term | Value | Expr | Body | With | Head | Rule | SomeDecl | Every | Term[];

// ---------------------------------------------------------------- the var visitor

/** OPA's VarVisitorParams. */
export interface VarVisitorParams {
  skipRefHead?: boolean;
  skipRefCallHead?: boolean;
  skipClosures?: boolean;
  skipWithTarget?: boolean;
  skipSets?: boolean;
  skipObjectKeys?: boolean;
}

/** OPA's SafetyCheckVisitorParams. */
export const SAFETY_PARAMS: VarVisitorParams = { skipRefCallHead: true, skipClosures: true };

/** Collects vars like OPA's VarVisitor. `x` may be a term, value, expr, body, with, head or rule. */
export function varsOf(x: Node | undefined, params: VarVisitorParams = {}, into: Set<string> = new Set()): Set<string> {
  if (x === undefined) return into;
  const walkTerm = (t: Term) => walkValue(t.value);
  const walkRef = (ref: Term[]) => {
    for (const t of params.skipRefHead ? ref.slice(1) : ref) walkTerm(t);
  };
  const walkBody = (b: Body) => b.forEach(walkExpr);
  const walkWith = (w: With) => {
    if (params.skipWithTarget) return walkTerm(w.value);
    if (params.skipRefCallHead) {
      if (w.target.value.type === 'ref') w.target.value.value.slice(1).forEach(walkTerm);
      if (w.value.value.type === 'ref') w.value.value.value.slice(1).forEach(walkTerm);
      else walkTerm(w.value);
      return;
    }
    walkTerm(w.target);
    walkTerm(w.value);
  };
  const walkExpr = (e: Expr) => {
    const ts = e.terms;
    if (Array.isArray(ts)) {
      if (params.skipRefCallHead && ts[0].value.type === 'ref') {
        ts[0].value.value.slice(1).forEach(walkTerm);
        ts.slice(1).forEach(walkTerm);
      } else ts.forEach(walkTerm);
    } else if ((ts as SomeDecl).type === 'some') {
      (ts as SomeDecl).symbols.forEach(walkTerm);
    } else if ((ts as Every).type === 'every') {
      const ev = ts as Every;
      if (params.skipClosures) walkTerm(ev.domain);
      else {
        if (ev.key) walkTerm(ev.key);
        walkTerm(ev.value);
        walkTerm(ev.domain);
        walkBody(ev.body);
      }
    } else walkTerm(ts as Term);
    e.with.forEach(walkWith);
  };
  const walkValue = (v: Value): void => {
    switch (v.type) {
      case 'var':
        into.add(v.value);
        return;
      case 'ref':
        return walkRef(v.value);
      case 'array':
        return v.value.forEach(walkTerm);
      case 'set':
        if (params.skipSets) return;
        return v.value.forEach(walkTerm);
      case 'object':
        for (const [k, x] of v.value) {
          if (!params.skipObjectKeys) walkTerm(k);
          walkTerm(x);
        }
        return;
      case 'call':
        if (params.skipRefCallHead && v.value[0].value.type === 'ref') {
          v.value[0].value.value.slice(1).forEach(walkTerm);
          v.value.slice(1).forEach(walkTerm);
        } else v.value.forEach(walkTerm);
        return;
      case 'arraycomprehension':
      case 'setcomprehension':
        if (params.skipClosures) return;
        walkTerm(v.term);
        return walkBody(v.body);
      case 'objectcomprehension':
        if (params.skipClosures) return;
        walkTerm(v.key);
        walkTerm(v.value);
        return walkBody(v.body);
      case 'templatestring':
        if (params.skipClosures) return;
        for (const p of v.parts) if (p.kind === 'expr') walkExpr(p.expr);
        return;
      default:
        return;
    }
  };
  const walkHead = (h: Head) => {
    walkRef(h.reference);
    (h.args ?? []).forEach(walkTerm);
    if (h.value) walkTerm(h.value);
  };
  const d: Dispatch = {
    term: walkTerm,
    value: walkValue,
    expr: walkExpr,
    body: walkBody,
    with: walkWith,
    head: walkHead,
    rule: (r) => {
      walkHead(r.head);
      walkBody(r.body);
      if (r.else) dispatch(r.else, { ...d, rule: () => {} });
    },
  };
  dispatch(x, d);
  return into;
}

interface Dispatch {
  term(t: Term): void;
  value(v: Value): void;
  expr(e: Expr): void;
  body(b: Body): void;
  with(w: With): void;
  rule(r: Rule): void;
  head(h: Head): void;
}

function dispatch(x: Node, d: Dispatch): void {
  if (Array.isArray(x)) {
    if (x.length === 0) return;
    if ('value' in (x[0] as object) && !('index' in (x[0] as object))) (x as Term[]).forEach(d.term);
    else d.body(x as Body);
    return;
  }
  const o = x as unknown as Record<string, unknown>;
  if ('index' in o && 'negated' in o) return d.expr(x as Expr);
  if ('head' in o && 'body' in o) return d.rule(x as Rule);
  if ('reference' in o && 'assign' in o) return d.head(x as Head);
  if ('target' in o && 'value' in o && !('type' in o)) return d.with(x as With);
  if ('value' in o && !('type' in o)) return d.term(x as Term);
  if ((o.type as string) === 'some') return (x as SomeDecl).symbols.forEach(d.term);
  if ((o.type as string) === 'every') return d.expr({ index: 0, negated: false, terms: x as Every, with: [] });
  return d.value(x as Value);
}

// ---------------------------------------------------------------- generic walkers

/**
 * Visits every term (pre-order); `f` returning true stops descent into that term. Descends
 * into comprehensions, `some` declarations, `every` bodies, `with` targets and values and
 * template-string parts, like OPA's WalkTerms.
 */
export function walkTerms(x: Node, f: (t: Term) => boolean | void): void {
  const term = (t: Term) => {
    if (f(t)) return;
    value(t.value);
  };
  const value = (v: Value) => {
    switch (v.type) {
      case 'ref':
      case 'array':
      case 'set':
      case 'call':
        return v.value.forEach(term);
      case 'object':
        return v.value.forEach(([k, x]) => {
          term(k);
          term(x);
        });
      case 'arraycomprehension':
      case 'setcomprehension':
        term(v.term);
        return body(v.body);
      case 'objectcomprehension':
        term(v.key);
        term(v.value);
        return body(v.body);
      case 'templatestring':
        return v.parts.forEach((p) => p.kind === 'expr' && expr(p.expr));
    }
  };
  const expr = (e: Expr) => {
    const ts = e.terms;
    if (Array.isArray(ts)) ts.forEach(term);
    else if ((ts as SomeDecl).type === 'some') (ts as SomeDecl).symbols.forEach(term);
    else if ((ts as Every).type === 'every') {
      const ev = ts as Every;
      if (ev.key) term(ev.key);
      term(ev.value);
      term(ev.domain);
      body(ev.body);
    } else term(ts as Term);
    for (const w of e.with) {
      term(w.target);
      term(w.value);
    }
  };
  const body = (b: Body) => b.forEach(expr);
  const head = (h: Head) => {
    h.reference.forEach(term);
    (h.args ?? []).forEach(term);
    if (h.key) term(h.key);
    if (h.value) term(h.value);
  };
  dispatch(x, {
    term,
    value,
    expr,
    body,
    with: (w) => {
      term(w.target);
      term(w.value);
    },
    rule: (r) => {
      head(r.head);
      body(r.body);
      if (r.else) walkTerms(r.else, f);
    },
    head,
  });
}

/** True if `pred` holds for some var of `x`, visiting every var as OPA's WalkVars does. */
export function someVar(x: Node, pred: (name: string) => boolean): boolean {
  let found = false;
  walkTerms(x, (t) => {
    if (found) return true;
    if (t.value.type === 'var' && pred(t.value.value)) found = true;
    return found;
  });
  return found;
}

/** The bodies of the closures directly inside a term (comprehensions, template-string parts). */
function closureBodies(t: Term): Body | undefined {
  const v = t.value;
  if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') return v.body;
  if (v.type === 'templatestring') return v.parts.flatMap((p) => (p.kind === 'expr' ? [p.expr] : []));
  return undefined;
}

/** Visits every expression, including those nested in comprehensions, every and templates. */
export function walkExprs(x: Node, f: (e: Expr) => boolean | void): void {
  const seen = (e: Expr) => {
    if (f(e)) return;
    if (isEvery(e)) e.terms.body.forEach(seen);
    const walkIn = (t: Term) =>
      walkTerms(t, (tt) => {
        const b = closureBodies(tt);
        if (!b) return false;
        b.forEach(seen);
        return true;
      });
    if (Array.isArray(e.terms)) e.terms.forEach(walkIn);
    else if (isTermExpr(e)) walkIn(e.terms);
    else if (isSome(e)) e.terms.symbols.forEach(walkIn);
    else if (isEvery(e)) walkIn(e.terms.domain);
    e.with.forEach((w) => {
      walkIn(w.target);
      walkIn(w.value);
    });
  };
  if (Array.isArray(x) && (x.length === 0 || 'index' in (x[0] as object))) return (x as Body).forEach(seen);
  const o = x as unknown as Record<string, unknown>;
  if ('index' in o && 'negated' in o) return seen(x as Expr);
  const comprehensionsIn = (t: Term | Node) =>
    walkTerms(t as Node, (tt) => {
      const v = tt.value;
      if (!isComprehension(v)) return false;
      (v as { body: Body }).body.forEach(seen);
      return true;
    });
  if ('head' in o && 'body' in o) {
    for (let r: Rule | undefined = x as Rule; r; r = r.else) {
      const h = r.head;
      for (const t of [...h.reference, ...(h.args ?? []), ...(h.key ? [h.key] : []), ...(h.value ? [h.value] : [])]) comprehensionsIn(t);
      r.body.forEach(seen);
    }
    return;
  }
  comprehensionsIn(x);
}

/** Visits every body: the given one and all nested closure bodies (OPA's WalkBodies). */
export function walkBodies(x: Node, f: (b: Body) => boolean | void): void {
  const visitBody = (b: Body) => {
    if (f(b)) return;
    for (const e of b) {
      if (isEvery(e)) {
        visitTermsOf(e.terms.domain);
        visitBody(e.terms.body);
        continue;
      }
      const ts = Array.isArray(e.terms) ? e.terms : isTermExpr(e) ? [e.terms] : isSome(e) ? e.terms.symbols : [];
      ts.forEach(visitTermsOf);
      e.with.forEach((w) => visitTermsOf(w.value));
    }
  };
  const visitTermsOf = (t: Term | Node) =>
    walkTerms(t as Node, (tt) => {
      const v = tt.value;
      if (!isComprehension(v)) return false;
      visitBody((v as { body: Body }).body);
      return true;
    });
  if (Array.isArray(x) && (x.length === 0 || 'index' in (x[0] as object))) return visitBody(x as Body);
  visitTermsOf(x);
}

// ---------------------------------------------------------------- questions answered by walking

/**
 * OPA's Value.IsGround: no vars. A ref ignores its head (`data.x` is ground), a call its
 * operator's head; an expression inside a comprehension body ignores its operator.
 */
export function isGround(v: Value): boolean {
  switch (v.type) {
    case 'var':
      return false;
    case 'ref':
      return refIsGround(v.value);
    case 'array':
    case 'set':
    case 'call':
      return v.value.every((t) => isGround(t.value));
    case 'object':
      return v.value.every(([k, x]) => isGround(k.value) && isGround(x.value));
    case 'arraycomprehension':
    case 'setcomprehension':
      return isGround(v.term.value) && v.body.every(exprIsGround);
    case 'objectcomprehension':
      return isGround(v.key.value) && isGround(v.value.value) && v.body.every(exprIsGround);
    case 'templatestring':
      return v.parts.every((p) => p.kind === 'text' || exprIsGround(p.expr));
    default:
      return true;
  }
}

/** OPA's Ref.IsGround (the head is ignored). */
export function refIsGround(ref: Term[]): boolean {
  for (let i = 1; i < ref.length; i++) if (!isGround(ref[i]!.value)) return false;
  return true;
}

/** OPA's Expr.IsGround: a call's operands (not its operator), a term; `some` and `every` count as ground. */
export function exprIsGround(e: Expr): boolean {
  if (Array.isArray(e.terms)) return e.terms.slice(1).every((t) => isGround(t.value));
  if (isTermExpr(e)) return isGround(e.terms.value);
  return true;
}

/** OPA's IsConstant: no vars, refs, calls or comprehensions anywhere (template strings need evaluation too). */
export function isConstant(v: Value): boolean {
  switch (v.type) {
    case 'null':
    case 'boolean':
    case 'number':
    case 'string':
      return true;
    case 'array':
    case 'set':
      return v.value.every((t) => isConstant(t.value));
    case 'object':
      return v.value.every(([k, x]) => isConstant(k.value) && isConstant(x.value));
    default:
      return false;
  }
}

/** OPA's ContainsClosures: a comprehension, an `every` (or a template string) anywhere in x. */
export function containsClosures(x: Node): boolean {
  let found = false;
  walkTerms(x, (t) => {
    if (found) return true;
    if (isComprehension(t.value) || t.value.type === 'templatestring') found = true;
    return found;
  });
  if (!found && !Array.isArray(x) && 'index' in (x as object) && isEvery(x as Expr)) found = true;
  return found;
}

/** OPA's ContainsRefs. */
export function containsRefs(t: Node): boolean {
  let found = false;
  walkTerms(t, (x) => {
    if (found) return true;
    if (x.value.type === 'ref') found = true;
    return found;
  });
  return found;
}

/** OPA's requiresEval: ContainsRefs || ContainsComprehensions. */
export function requiresEval(t: Term | undefined): boolean {
  if (!t) return false;
  let found = false;
  walkTerms(t, (x) => {
    if (found) return true;
    if (x.value.type === 'ref' || isComprehension(x.value)) found = true;
    return found;
  });
  return found;
}
