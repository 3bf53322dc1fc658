// Debugging aid: the compiled AST in Rego-ish text, close to what OPA's `ast` String()
// methods print for a compiled module, so planner work can be compared with OPA.
import type { Body, Module, Rule } from '../ast/types.js';
import { bodyToString, exprToString, refToString, termToString } from './ast-util.js';
import type { CompiledPolicy } from './types.js';

function headToString(r: Rule): string {
  const h = r.head;
  let s = refToString(h.reference);
  if (h.args) s += '(' + h.args.map(termToString).join(', ') + ')';
  if (h.multiValue || (h.key && !h.value)) s += ` contains ${h.key ? termToString(h.key) : '?'}`;
  else if (h.value) s += ` ${h.assign ? ':=' : '='} ${termToString(h.value)}`;
  return (r.default ? 'default ' : '') + s;
}

function ruleToString(r: Rule, indent = ''): string {
  const lines = [`${indent}${headToString(r)} if {`, ...r.body.map((e) => `${indent}  ${exprToString(e)}`), `${indent}}`];
  if (r.else) lines.push(`${indent}else = ${r.else.head.value ? termToString(r.else.head.value) : 'true'} if {`, ...r.else.body.map((e) => `${indent}  ${exprToString(e)}`), `${indent}}`);
  return lines.join('\n');
}

export function formatModule(m: Module): string {
  const lines = [`package ${refToString(m.package.path)}`, ''];
  for (const r of m.rules) lines.push(ruleToString(r), '');
  return lines.join('\n');
}

export function formatBody(b: Body): string {
  return bodyToString(b);
}

export function formatPolicy(p: CompiledPolicy): string {
  const out = p.modules.map(formatModule);
  for (const q of p.queries) {
    out.push(`# query ${q.name}: ${bodyToString(q.body)}`);
    out.push(`#   bindings: ${q.bindings.map((b) => `${b.name}=${b.var}`).join(', ')}`);
  }
  return out.join('\n');
}
