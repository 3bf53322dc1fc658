// Helpers over the AST (src/rego/ast/types.ts) that OPA's Go `ast` package provides as
// methods: constructors, predicates, the var visitor with its skip parameters
// (v1/ast/varvisitor.go), generic walkers, equality/ordering and String() renderings used
// in error messages. Compiler stages mutate cloned modules in place, as OPA's do.
import { compareValues as astCompareValues } from '../ast/compare.js';
import type {
  Body,
  Every,
  Expr,
  Head,
  Location,
  Rule,
  SomeDecl,
  Term,
  Value,
  With,
} from '../ast/types.js';

// ---------------------------------------------------------------- constructors

export function varTerm(name: string, location?: Location): Term {
  return location ? { value: { type: 'var', value: name }, location } : { value: { type: 'var', value: name } };
}
export function stringTerm(s: string, location?: Location): Term {
  return location ? { value: { type: 'string', value: s }, location } : { value: { type: 'string', value: s } };
}
export function boolTerm(b: boolean, location?: Location): Term {
  return location ? { value: { type: 'boolean', value: b }, location } : { value: { type: 'boolean', value: b } };
}
export function refTerm(terms: Term[], location?: Location): Term {
  return location ? { value: { type: 'ref', value: terms }, location } : { value: { type: 'ref', value: terms } };
}
/** The operator term of a builtin/function call: `plus` is ref [var plus], `a.b` is [var a, string b]. */
export function operatorTerm(name: string, location?: Location): Term {
  const parts = name.split('.');
  return refTerm(
    parts.map((p, i) => (i === 0 ? varTerm(p, location) : stringTerm(p, location))),
    location,
  );
}
export function newExpr(terms: Term | Term[] | SomeDecl | Every, location?: Location): Expr {
  const e: Expr = { index: 0, negated: false, terms, with: [] };
  if (location) e.location = location;
  return e;
}
/** `a = b` (OPA's Equality.Expr). */
export function eqExpr(a: Term, b: Term, location?: Location): Expr {
  return newExpr([operatorTerm('eq', location), a, b], location);
}

export const RESERVED_VARS = new Set(['data', 'input']);

// ---------------------------------------------------------------- predicates

export function isVar(t: Term | undefined, name?: string): boolean {
  return !!t && t.value.type === 'var' && (name === undefined || t.value.value === name);
}
export function varName(t: Term): string {
  if (t.value.type !== 'var') throw new Error('not a var');
  return t.value.value;
}
export function isGenerated(v: string): boolean {
  return v.startsWith('__local');
}
export function isWildcard(v: string): boolean {
  return v.startsWith('$');
}
/** OPA's Var.String(): wildcards print as `_`. */
export function showVar(v: string): string {
  return isWildcard(v) ? '_' : v;
}
export function isScalar(v: Value): boolean {
  return v.type === 'null' || v.type === 'boolean' || v.type === 'number' || v.type === 'string';
}
export function isComprehension(v: Value): boolean {
  return v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension';
}
/** OPA's IsConstant: no vars, refs, calls or comprehensions anywhere. */
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
/** OPA's IsGround: no vars anywhere (refs and calls are ground if their parts are). */
export function isGround(v: Value): boolean {
  switch (v.type) {
    case 'var':
      return false;
    case 'ref': // OPA's Ref.IsGround ignores the head
      return v.value.slice(1).every((t) => isGround(t.value));
    case 'array':
    case 'set':
    case 'call':
      return v.value.every((t) => isGround(t.value));
    case 'object':
      return v.value.every(([k, x]) => isGround(k.value) && isGround(x.value));
    case 'arraycomprehension':
    case 'setcomprehension':
    case 'objectcomprehension':
    case 'templatestring':
      return false;
    default:
      return true;
  }
}

/** OPA's Ref.IsGround on a term list (head ignored). */
export function refIsGround(ref: Term[]): boolean {
  return ref.slice(1).every((t) => isGround(t.value));
}

export function isCall(e: Expr): e is Expr & { terms: Term[] } {
  return Array.isArray(e.terms);
}
export function isTermExpr(e: Expr): e is Expr & { terms: Term } {
  return !Array.isArray(e.terms) && 'value' in (e.terms as Term);
}
export function isSome(e: Expr): e is Expr & { terms: SomeDecl } {
  return !Array.isArray(e.terms) && (e.terms as SomeDecl).type === 'some';
}
export function isEvery(e: Expr): e is Expr & { terms: Every } {
  return !Array.isArray(e.terms) && (e.terms as Every).type === 'every';
}
export function operatorName(e: Expr): string | undefined {
  if (!isCall(e)) return undefined;
  const op = e.terms[0];
  return op.value.type === 'ref' ? refToString(op.value.value) : op.value.type === 'var' ? op.value.value : undefined;
}
export function operands(e: Expr): Term[] {
  return isCall(e) ? e.terms.slice(1) : [];
}
function isOp(e: Expr, name: string): boolean {
  if (!isCall(e)) return false;
  const op = e.terms[0].value;
  return op.type === 'ref' && op.value.length === 1 && op.value[0].value.type === 'var' && op.value[0].value.value === name;
}
export function isEquality(e: Expr): boolean {
  return isOp(e, "eq") && (e.terms as Term[]).length === 3;
}
export function isAssignment(e: Expr): boolean {
  return isOp(e, 'assign');
}
export function isOperator(e: Expr, name: string): boolean {
  return isOp(e, name);
}
/** OPA's validEqAssignArgCount. */
export function validEqAssignArgCount(e: Expr): boolean {
  return isCall(e) && e.terms.length === 3;
}

// ---------------------------------------------------------------- var visitor

export interface VarVisitorParams {
  skipRefHead?: boolean;
  skipRefCallHead?: boolean;
  skipClosures?: boolean;
  skipWithTarget?: boolean;
  skipSets?: boolean;
  skipObjectKeys?: boolean;
}
export const SAFETY_PARAMS: VarVisitorParams = { skipRefCallHead: true, skipClosures: true };

type Node = Term | Value | Expr | Body | With | Head | Rule | SomeDecl | Every | Term[];

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
  dispatch(x, { term: walkTerm, value: walkValue, expr: walkExpr, body: walkBody, with: walkWith, rule: (r) => {
    walkHead(r.head);
    walkBody(r.body);
    if (r.else) dispatch(r.else, { term: walkTerm, value: walkValue, expr: walkExpr, body: walkBody, with: walkWith, rule: () => {}, head: walkHead });
  }, head: walkHead });
  function walkHead(h: Head) {
    walkRef(h.reference);
    (h.args ?? []).forEach(walkTerm);
    if (h.value) walkTerm(h.value);
  }
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
 * into comprehensions, every bodies and template-string parts, like OPA's WalkTerms.
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
  function head(h: Head) {
    h.reference.forEach(term);
    (h.args ?? []).forEach(term);
    if (h.key) term(h.key);
    if (h.value) term(h.value);
  }
}

/** Visits every expression, including those nested in comprehensions, every and templates. */
export function walkExprs(x: Node, f: (e: Expr) => boolean | void): void {
  const seen = (e: Expr) => {
    if (f(e)) return;
    if (isEvery(e)) e.terms.body.forEach(seen);
    // Nested closures inside the expression's terms:
    const inner = (t: Term) => {
      const v = t.value;
      if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') {
        v.body.forEach(seen);
        return true;
      }
      if (v.type === 'templatestring') {
        v.parts.forEach((p) => p.kind === 'expr' && seen(p.expr));
        return true;
      }
      return false;
    };
    const walkIn = (t: Term) => walkTerms(t, inner);
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
  if ('head' in o && 'body' in o) {
    for (let r: Rule | undefined = x as Rule; r; r = r.else) {
      const h = r.head;
      for (const t of [...h.reference, ...(h.args ?? []), ...(h.key ? [h.key] : []), ...(h.value ? [h.value] : [])]) {
        walkTerms(t, (tt) => {
          const v = tt.value;
          if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') {
            v.body.forEach(seen);
            return true;
          }
          return false;
        });
      }
      r.body.forEach(seen);
    }
    return;
  }
  walkTerms(x, (t) => {
    const v = t.value;
    if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') {
      v.body.forEach(seen);
      return true;
    }
    return false;
  });
}

/** Visits every body: the given one and all nested closure bodies (OPA's WalkBodies). */
export function walkBodies(x: Node, f: (b: Body) => boolean | void): void {
  const body = (b: Body) => {
    if (f(b)) return;
    for (const e of b) {
      if (isEvery(e)) body(e.terms.body);
      walkTerms(e.terms as Term, () => false);
    }
  };
  // Simple approach: find bodies via term walk.
  if (Array.isArray(x) && (x.length === 0 || 'index' in (x[0] as object))) {
    visitBody(x as Body);
    return;
  }
  walkTerms(x, (t) => {
    const v = t.value;
    if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') {
      visitBody(v.body);
      return true;
    }
    return false;
  });
  function visitBody(b: Body) {
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
  }
  function visitTermsOf(t: Term) {
    walkTerms(t, (tt) => {
      const v = tt.value;
      if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') {
        visitBody(v.body);
        return true;
      }
      return false;
    });
  }
  void body;
}

/** True if the node contains a closure (comprehension, every, template string). */
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

/** OPA's ContainsRefs || ContainsComprehensions (requiresEval). */
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

export function containsRefs(t: Term): boolean {
  let found = false;
  walkTerms(t, (x) => {
    if (found) return true;
    if (x.value.type === 'ref') found = true;
    return found;
  });
  return found;
}

// ---------------------------------------------------------------- equality & order

/** OPA's total order on values (ast.Compare); one implementation, in src/rego/ast. */
export const compareValues = astCompareValues;

export function valueEqual(a: Value, b: Value): boolean {
  return astCompareValues(a, b) === 0;
}
export function termEqual(a: Term | undefined, b: Term | undefined): boolean {
  if (!a || !b) return a === b;
  return valueEqual(a.value, b.value);
}

/** A deep copy without locations (for structural comparison in tests and keys). */
export function stripLocations<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (k, v) => (k === 'location' ? undefined : v))) as T;
}

export function clone<T>(x: T): T {
  return structuredClone(x);
}

// ---------------------------------------------------------------- rendering (OPA's String())

const identRe = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function refToString(ref: Term[]): string {
  if (ref.length === 0) return '';
  let out = termToString(ref[0]);
  for (let i = 1; i < ref.length; i++) {
    const t = ref[i];
    if (t.value.type === 'string' && identRe.test(t.value.value)) out += '.' + t.value.value;
    else out += '[' + termToString(t) + ']';
  }
  return out;
}

export function termToString(t: Term): string {
  return valueToString(t.value);
}

export function valueToString(v: Value): string {
  switch (v.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(v.value);
    case 'number':
      return v.value;
    case 'string':
      return JSON.stringify(v.value);
    case 'var':
      return showVar(v.value);
    case 'ref':
      return refToString(v.value);
    case 'array':
      return '[' + v.value.map(termToString).join(', ') + ']';
    case 'set':
      return v.value.length === 0 ? 'set()' : '{' + v.value.map(termToString).join(', ') + '}';
    case 'object':
      return '{' + v.value.map(([k, x]) => `${termToString(k)}: ${termToString(x)}`).join(', ') + '}';
    case 'call':
      return termToString(v.value[0]) + '(' + v.value.slice(1).map(termToString).join(', ') + ')';
    case 'arraycomprehension':
      return `[${termToString(v.term)} | ${bodyToString(v.body)}]`;
    case 'setcomprehension':
      return `{${termToString(v.term)} | ${bodyToString(v.body)}}`;
    case 'objectcomprehension':
      return `{${termToString(v.key)}: ${termToString(v.value)} | ${bodyToString(v.body)}}`;
    case 'templatestring':
      return (
        '$"' +
        v.parts.map((p) => (p.kind === 'text' ? p.value.replace(/[{"\\]/g, (c) => '\\' + c) : '{' + exprToString(p.expr) + '}')).join('') +
        '"'
      );
  }
}

const infix: Record<string, string> = {
  eq: '=',
  assign: ':=',
  equal: '==',
  neq: '!=',
  lt: '<',
  lte: '<=',
  gt: '>',
  gte: '>=',
  plus: '+',
  minus: '-',
  mul: '*',
  div: '/',
  rem: '%',
  and: '&',
  or: '|',
};

export function exprToString(e: Expr): string {
  let s: string;
  if (isCall(e)) {
    const op = operatorName(e) ?? termToString(e.terms[0]);
    const args = e.terms.slice(1);
    if (infix[op] && args.length === 2) s = `${termToString(args[0])} ${infix[op]} ${termToString(args[1])}`;
    else if (infix[op] && args.length === 3 && op !== 'eq' && op !== 'assign' && op !== 'equal')
      s = `${termToString(args[0])} ${infix[op]} ${termToString(args[1])} = ${termToString(args[2])}`;
    else s = `${op}(${args.map(termToString).join(', ')})`;
  } else if (isSome(e)) {
    s = 'some ' + e.terms.symbols.map(termToString).join(', ');
  } else if (isEvery(e)) {
    const ev = e.terms;
    s = `every ${ev.key ? termToString(ev.key) + ', ' : ''}${termToString(ev.value)} in ${termToString(ev.domain)} { ${bodyToString(ev.body)} }`;
  } else s = termToString(e.terms as Term);
  if (e.negated) s = 'not ' + s;
  for (const w of e.with) s += ` with ${termToString(w.target)} as ${termToString(w.value)}`;
  return s;
}

export function bodyToString(b: Body): string {
  return b.map(exprToString).join('; ');
}

/** OPA's Location.String(): `file:row`, or `row:col` without a file. */
export function locationString(loc: Location | undefined): string {
  if (!loc) return '';
  if (loc.file) return `${loc.file}:${loc.row}`;
  return `${loc.row}:${loc.col}`;
}

/** OPA's Location.Compare: by file, then row, then col; missing locations sort first. */
export function compareLocations(a: Location | undefined, b: Location | undefined): number {
  if (!a && !b) return 0;
  if (!a) return -1;
  if (!b) return 1;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.row !== b.row) return a.row - b.row;
  return a.col - b.col;
}

/** Re-numbers expression indices after a body was rebuilt (OPA's Body.Append sets Index). */
export function reindex(body: Body): Body {
  body.forEach((e, i) => (e.index = i));
  return body;
}
