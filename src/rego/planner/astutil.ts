// Small AST helpers the planner needs (string forms, groundness, variable walks), after OPA's ast package.
import type { Body, Expr, Rule, Term, Value } from '../ast/types.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(['as', 'default', 'else', 'false', 'import', 'package', 'not', 'null', 'true', 'with', 'some', 'in', 'every', 'contains', 'if']);

export function termString(t: Term): string {
  return valueString(t.value);
}

export function valueString(v: Value): string {
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
      return v.value;
    case 'ref':
      return refString(v.value);
    case 'array':
      return `[${v.value.map(termString).join(', ')}]`;
    case 'set':
      return v.value.length === 0 ? 'set()' : `{${v.value.map(termString).join(', ')}}`;
    case 'object':
      return `{${v.value.map(([k, x]) => `${termString(k)}: ${termString(x)}`).join(', ')}}`;
    case 'call':
      return `${termString(v.value[0])}(${v.value.slice(1).map(termString).join(', ')})`;
    default:
      return `<${v.type}>`;
  }
}

/** OPA's Ref.String(): `data.a["b-c"][x]`. */
export function refString(ref: Term[]): string {
  let s = termString(ref[0]);
  for (let i = 1; i < ref.length; i++) {
    const v = ref[i].value;
    if (v.type === 'string' && IDENT.test(v.value) && !KEYWORDS.has(v.value)) s += `.${v.value}`;
    else s += `[${termString(ref[i])}]`;
  }
  return s;
}

/** Calls `f` for every variable in the term (ref heads included, closures too), until it returns true. */
export function walkVars(t: Term, f: (name: string) => boolean): boolean {
  const v = t.value;
  switch (v.type) {
    case 'var':
      return f(v.value);
    case 'ref':
    case 'array':
    case 'set':
    case 'call':
      return v.value.some((x) => walkVars(x, f));
    case 'object':
      return v.value.some(([k, x]) => walkVars(k, f) || walkVars(x, f));
    case 'arraycomprehension':
    case 'setcomprehension':
      return walkVars(v.term, f) || walkBodyVars(v.body, f);
    case 'objectcomprehension':
      return walkVars(v.key, f) || walkVars(v.value, f) || walkBodyVars(v.body, f);
    default:
      return false;
  }
}

function walkBodyVars(body: Body, f: (name: string) => boolean): boolean {
  return body.some((e) => walkExprVars(e, f));
}

function walkExprVars(e: Expr, f: (name: string) => boolean): boolean {
  const t = e.terms as Term | Term[] | { type: 'every' | 'some' };
  if (Array.isArray(t)) return t.some((x) => walkVars(x, f)) || e.with.some((w) => walkVars(w.value, f));
  if ('type' in t && t.type === 'every') {
    const ev = e.terms as import('../ast/types.js').Every;
    return (ev.key ? walkVars(ev.key, f) : false) || walkVars(ev.value, f) || walkVars(ev.domain, f) || walkBodyVars(ev.body, f);
  }
  if ('type' in t && t.type === 'some') return false;
  return walkVars(t as Term, f);
}

/** OPA's IsGround: no variables anywhere. */
export function isGround(t: Term): boolean {
  return !walkVars(t, () => true);
}

export function isCallExpr(e: Expr): e is Expr & { terms: Term[] } {
  return Array.isArray(e.terms);
}

export function isEveryExpr(e: Expr): boolean {
  const t = e.terms as { type?: string };
  return !Array.isArray(e.terms) && t.type === 'every';
}

export function isSomeExpr(e: Expr): boolean {
  const t = e.terms as { type?: string };
  return !Array.isArray(e.terms) && t.type === 'some';
}

export type RuleKind = 'single' | 'multi';

export function ruleKind(r: Rule): RuleKind {
  if (r.head.multiValue) return 'multi';
  if (r.head.key && !r.head.value && !r.head.args) return 'multi';
  return 'single';
}

export const TRUE_TERM: Term = { value: { type: 'boolean', value: true } };

export function stringTerm(s: string): Term {
  return { value: { type: 'string', value: s } };
}

export function varTerm(s: string): Term {
  return { value: { type: 'var', value: s } };
}

export function isGeneratedVar(name: string): boolean {
  return name.startsWith('__');
}

export function isWildcard(name: string): boolean {
  return name.startsWith('$');
}
