// Constructors for AST nodes (OPA's VarTerm, StringTerm, RefTerm, NewExpr, Equality.Expr, ...).
import type { Every, Expr, Location, SomeDecl, Term } from './types.js';

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

/** A deep copy (OPA's Copy()). */
export function clone<T>(x: T): T {
  return structuredClone(x);
}

/** A deep copy without locations (for structural comparison in tests and keys). */
export function stripLocations<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'location' ? undefined : v))) as T;
}

/** Re-numbers expression indices after a body was rebuilt (OPA's Body.Append sets Index). */
export function reindex<B extends Expr[]>(body: B): B {
  body.forEach((e, i) => (e.index = i));
  return body;
}
