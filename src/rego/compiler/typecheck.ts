// Type checking (OPA's check.go), deliberately conservative: a builtin call is rejected only
// when an argument is a literal whose kind (null, boolean, number, string, array, object,
// set) can never satisfy the declared parameter type. OPA's checker infers much more (types of
// vars, refs into input/data schemas, rule values); anything we cannot prove wrong is accepted,
// so a valid policy is never rejected here — evaluation still raises eval_type_error.
import type { Body, Expr, RegoError, Rule, Term } from '../ast/types.js';
import { isCall, operatorName, walkExprs } from './ast-util.js';
import { BUILTINS, typeToString, wantString, type Builtin, type RegoType } from './builtins.js';
import { TYPE_ERR, error, type CompileContext } from './context.js';
import type { Graph } from './checks.js';

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';

/** The exact kind of a literal term, or undefined when it depends on evaluation. */
function literalKind(t: Term): Kind | undefined {
  switch (t.value.type) {
    case 'null':
    case 'boolean':
    case 'number':
    case 'string':
    case 'array':
    case 'object':
    case 'set':
      return t.value.type;
    case 'arraycomprehension':
      return 'array';
    case 'setcomprehension':
      return 'set';
    case 'objectcomprehension':
      return 'object';
    default:
      return undefined;
  }
}

function accepts(t: RegoType, k: Kind): boolean {
  switch (t.kind) {
    case 'any':
      return !t.of || t.of.length === 0 || t.of.some((x) => accepts(x, k));
    case 'function':
      return false;
    default:
      return t.kind === k;
  }
}

function haveString(t: Term): string {
  const k = literalKind(t);
  if (!k) return 'any';
  if (k === 'array') return 'array[any]';
  if (k === 'set') return 'set[any]';
  if (k === 'object') return 'object[any: any]';
  return k;
}

function checkCall(expr: Expr, bi: Builtin): RegoError | undefined {
  const args = (expr.terms as Term[]).slice(1, 1 + bi.args.length);
  for (let i = 0; i < args.length; i++) {
    const k = literalKind(args[i]);
    if (k && !accepts(bi.args[i].type, k)) {
      const have = (expr.terms as Term[]).slice(1, 1 + bi.args.length).map(haveString);
      const e = error(TYPE_ERR, `${bi.name}: invalid argument(s)\n\thave: (${have.join(', ')})\n\twant: ${wantString(bi)}`, expr.location);
      e.details = { have: `(${have.join(', ')})`, want: wantString(bi), argument: i, expected: typeToString(bi.args[i].type) };
      return e;
    }
  }
  return undefined;
}

function checkNode(x: Rule | Body): RegoError[] {
  const errs: RegoError[] = [];
  walkExprs(x as Body, (e) => {
    if (!isCall(e)) return false;
    const name = operatorName(e);
    const bi = name ? BUILTINS.get(name) : undefined;
    if (!bi || bi.variadic) return false;
    const err = checkCall(e, bi);
    if (err) errs.push(err);
    return false;
  });
  return errs;
}

export function checkTypes(c: CompileContext, g: Graph): void {
  // OPA checks rules in dependency order (Graph.Sort); with no inference across rules the
  // order only affects which errors come first, so follow it for the same error order.
  const order = g.sort() ?? [];
  const seen = new Set<Rule>();
  for (const r of order) {
    seen.add(r);
    if (!c.err(...checkNode({ ...r, else: undefined }))) return;
  }
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) {
        if (!seen.has(r) && !c.err(...checkNode({ ...r, else: undefined }))) return;
      }
    }
  }
}

export function checkQueryTypes(_c: CompileContext, body: Body, _rewritten: Map<string, string>): RegoError[] {
  return checkNode(body);
}
