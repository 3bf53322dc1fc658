// Predicates and accessors over AST nodes (OPA's Var.IsWildcard, Expr.IsCall, Expr.Operator,
// Expr.IsEquality, IsScalar, IsComprehension, ...).
import { refToString } from './print.js';
import type { Every, Expr, SomeDecl, Term, Value } from './types.js';

/** The root documents (OPA's ReservedVars). */
export const RESERVED_VARS: ReadonlySet<string> = new Set(['data', 'input']);

export function isVar(t: Term | undefined, name?: string): boolean {
  return !!t && t.value.type === 'var' && (name === undefined || t.value.value === name);
}

export function varName(t: Term): string {
  if (t.value.type !== 'var') throw new Error('not a var');
  return t.value.value;
}

/** OPA's Var.IsGenerated: vars the compiler made up (`__local0__`, `__localq1__`). */
export function isGenerated(v: string): boolean {
  return v.startsWith('__local');
}

/** OPA's Var.IsWildcard: the parser names each `_` `$<n>`. */
export function isWildcard(v: string): boolean {
  return v.startsWith('$');
}

export function isScalar(v: Value): boolean {
  return v.type === 'null' || v.type === 'boolean' || v.type === 'number' || v.type === 'string';
}

export function isComprehension(v: Value): boolean {
  return v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension';
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

/** The operator of a call expression as OPA names it (`eq`, `plus`, `data.pkg.f`). */
export function operatorName(e: Expr): string | undefined {
  if (!isCall(e)) return undefined;
  const op = e.terms[0];
  return op.value.type === 'ref' ? refToString(op.value.value) : op.value.type === 'var' ? op.value.value : undefined;
}

export function operands(e: Expr): Term[] {
  return isCall(e) ? e.terms.slice(1) : [];
}

/** True if `e` calls the operator `name` written as a single var (`eq`, `assign`, `plus`, ...). */
export function isOperator(e: Expr, name: string): boolean {
  if (!isCall(e)) return false;
  const op = e.terms[0].value;
  return op.type === 'ref' && op.value.length === 1 && op.value[0].value.type === 'var' && op.value[0].value.value === name;
}

/** `a = b` (OPA's Expr.IsEquality). */
export function isEquality(e: Expr): boolean {
  return isOperator(e, 'eq') && (e.terms as Term[]).length === 3;
}

/** `a := b` (OPA's Expr.IsAssignment). */
export function isAssignment(e: Expr): boolean {
  return isOperator(e, 'assign');
}

/** OPA's validEqAssignArgCount. */
export function validEqAssignArgCount(e: Expr): boolean {
  return isCall(e) && e.terms.length === 3;
}

/** A rule's kind (OPA's RuleKind): `contains` rules and partial sets are multi-value. */
export function ruleKind(r: { head: { multiValue?: boolean; key?: Term; value?: Term } }): 'single' | 'multi' {
  return r.head.multiValue || (r.head.key !== undefined && r.head.value === undefined) ? 'multi' : 'single';
}
