// What the trace events of a module compiled with `trace: true` refer to (planner.ts
// planTracedExpr / TRACE_*): each node's text as OPA's tracer prints it (rules by path,
// expressions with the user's variable names), its location, and for expressions the variables
// whose values come with the eval event, with where they appear in the source.
import type { Expr, Module, Rule, Term } from './ast/types.js';
import { exprToString, refToString, termToString } from './ast/print.js';
import { walkTerms } from './ast/walk.js';
import { clone } from './ast/build.js';
import type { TraceNode } from './planner/planner.js';

export { TRACE_ENTER, TRACE_EXIT, TRACE_LEAVE_RULE, TRACE_EVAL, TRACE_SUCCESS, TRACE_LEAVE, TRACE_KINDS } from './planner/planner.js';

export interface TraceLocation {
  file: string;
  row: number;
  col: number;
  /** The source text of the node (expressions). */
  text?: string;
}

export interface TraceNodeInfo {
  kind: 'rule' | 'expr';
  /** `data.pkg.rule` for rules; the expression as OPA prints it, with the user's variable names. */
  text: string;
  location?: TraceLocation;
  /** Expressions: the variables sent with the eval event (user names), with their occurrences in the source. */
  vars?: Array<{ name: string; at: Array<{ row: number; col: number; text: string }> }>;
}

function renamed(e: Expr, rewritten: Map<string, string>): Expr {
  const c = clone(e);
  walkTerms(c, (t) => {
    if (t.value.type === 'var') {
      const user = rewritten.get(t.value.value);
      if (user) t.value = { type: 'var', value: user };
    }
    return false;
  });
  return c;
}

function locationOf(x: { location?: { file: string; row: number; col: number; text?: string } }): TraceLocation | undefined {
  const l = x.location;
  return l ? { file: l.file, row: l.row, col: l.col, ...(l.text ? { text: l.text } : {}) } : undefined;
}

/** Describes the planner's trace nodes for the reporter. */
export function traceNodeInfo(nodes: TraceNode[], rewritten: Map<string, string>, ruleModule: Map<Rule, Module>): TraceNodeInfo[] {
  return nodes.map((n) => {
    if (n.kind === 'rule') {
      const r = n.node as Rule;
      const m = ruleModule.get(r);
      // OPA's Rule.Path(): the package, then the ground prefix of the head's ref
      const head = (r.head.reference ?? []).map((t, i) => (i === 0 && t.value.type === 'var' ? { ...t, value: { type: 'string' as const, value: t.value.value } } : t));
      const ground = head.findIndex((t) => !['string', 'number', 'boolean', 'null'].includes(t.value.type));
      const ref: Term[] = [...(m?.package.path ?? []), ...(ground < 0 ? head : head.slice(0, ground))];
      return { kind: 'rule', text: ref.length > 0 ? refToString(ref) : termToString(r.head.reference?.[0] ?? { value: { type: 'var', value: '?' } }), location: locationOf(r) };
    }
    const e = n.node as Expr;
    const vars = (n.vars ?? []).map((v) => {
      const at: Array<{ row: number; col: number; text: string }> = [];
      walkTerms(e, (t) => {
        if (t.value.type === 'var' && t.value.value === v && t.location) at.push({ row: t.location.row, col: t.location.col, text: t.location.text ?? v });
        return false;
      });
      return { name: rewritten.get(v) ?? v, at };
    });
    return { kind: 'expr', text: exprToString(renamed(e, rewritten)), location: locationOf(e), vars };
  });
}
