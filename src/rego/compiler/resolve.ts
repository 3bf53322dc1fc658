// Reference resolution (compile.go resolveAllRefs / resolveRefsInRule / resolveRefsInBody):
// names of rules in the same package and imported names become full `data.…`/`input.…`
// refs; locally declared vars (`:=`, `some`, function args) shadow them.
import type { Body, Expr, Import, Module, Rule, Term } from '../ast/types.js';
import { isAssignment, isSome, refTerm, stringTerm, validEqAssignArgCount, varsOf, walkTerms, clone, termToString } from '../ast/index.js';
import { COMPILE_ERR, error, type CompileContext } from './context.js';
import { groundPrefix } from './ruletree.js';

interface UsedRef {
  ref: Term[];
  used: boolean;
}
export type Globals = Map<string, UsedRef>;

/** Import name: the alias, or the last path element (`data.foo.bar` -> `bar`, `input` -> `input`). */
export function importName(imp: Import): string {
  if (imp.alias) return imp.alias;
  const path = imp.path.value.type === 'ref' ? imp.path.value.value : [imp.path];
  const last = path[path.length - 1];
  if (path.length === 1) return last.value.type === 'var' ? last.value.value : '';
  return last.value.type === 'string' ? last.value.value : last.value.type === 'var' ? last.value.value : '';
}

function importPath(imp: Import): Term[] {
  return imp.path.value.type === 'ref' ? imp.path.value.value : [imp.path];
}

function isFutureOrRego(imp: Import): boolean {
  const head = importPath(imp)[0];
  return head.value.type === 'var' && (head.value.value === 'future' || head.value.value === 'rego');
}

/** OPA's getGlobals. `ruleHeads` are the head refs' ground prefixes of the package's rules. */
export function getGlobals(pkgPath: Term[], ruleHeads: Term[][], imports: Import[]): Globals {
  const globals: Globals = new Map();
  for (const ref of ruleHeads) {
    const v = ref[0].value;
    if (v.type !== 'var') continue;
    globals.set(v.value, { ref: [...pkgPath, stringTerm(v.value)], used: false });
  }
  for (const imp of imports) {
    if (isFutureOrRego(imp)) continue;
    globals.set(importName(imp), { ref: importPath(imp), used: false });
  }
  return globals;
}

/** Vars declared in a body by `:=` or `some` (not descending into comprehensions). */
export function declaredVars(x: Body | Expr): Set<string> {
  const vars = new Set<string>();
  const exprs = Array.isArray(x) ? x : [x];
  const visit = (e: Expr) => {
    if (isAssignment(e) && validEqAssignArgCount(e)) {
      varsOf((e.terms as Term[])[1], {}, vars);
    } else if (isSome(e)) {
      for (const sym of e.terms.symbols) {
        const v = sym.value;
        if (v.type === 'var') vars.add(v.value);
        else if (v.type === 'call') {
          const args = v.value.slice(1);
          if (args.length === 3) varsOf(args[1], {}, vars);
          varsOf(args[0], {}, vars);
        }
      }
    }
    if (e.terms && (e.terms as { type?: string }).type === 'every') {
      // OPA's generic visitor descends into every bodies (not comprehensions).
      (e.terms as { body: Body }).body.forEach(visit);
    }
  };
  exprs.forEach(visit);
  return vars;
}

class Ignore {
  private stack: Set<string>[] = [];
  push(s: Set<string>) {
    this.stack.push(s);
  }
  pop() {
    this.stack.pop();
  }
  contains(v: string): boolean {
    return this.stack.some((s) => s.has(v));
  }
}

function locate(ref: Term[], t: Term): Term[] {
  return clone(ref).map((x) => (t.location ? { ...x, location: t.location } : x));
}

function resolveRef(globals: Globals, ignore: Ignore, ref: Term[]): Term[] {
  const r: Term[] = [];
  ref.forEach((x, i) => {
    const v = x.value;
    if (v.type === 'var') {
      const g = globals.get(v.value);
      if (g && !ignore.contains(v.value)) {
        const cpy = locate(g.ref, x);
        if (i === 0) r.push(...cpy);
        else r.push(refTerm(cpy, x.location));
        g.used = true;
      } else r.push(x);
    } else if (
      v.type === 'ref' ||
      v.type === 'array' ||
      v.type === 'object' ||
      v.type === 'set' ||
      v.type === 'arraycomprehension' ||
      v.type === 'setcomprehension' ||
      v.type === 'objectcomprehension' ||
      v.type === 'call'
    ) {
      r.push(resolveTerm(globals, ignore, x));
    } else r.push(x);
  });
  return r;
}

export function resolveTerm(globals: Globals, ignore: Ignore, term: Term): Term {
  const v = term.value;
  const withValue = (value: Term['value']): Term => ({ ...term, value });
  switch (v.type) {
    case 'var': {
      const g = globals.get(v.value);
      if (g && !ignore.contains(v.value)) {
        g.used = true;
        return refTerm(locate(g.ref, term), term.location);
      }
      return term;
    }
    case 'ref':
      return withValue({ type: 'ref', value: resolveRef(globals, ignore, v.value) });
    case 'object':
      return withValue({
        type: 'object',
        value: v.value.map(([k, x]) => [resolveTerm(globals, ignore, k), resolveTerm(globals, ignore, x)] as [Term, Term]),
      });
    case 'array':
    case 'set':
    case 'call':
      return withValue({ type: v.type, value: v.value.map((t) => resolveTerm(globals, ignore, t)) } as Term['value']);
    case 'arraycomprehension':
    case 'setcomprehension': {
      ignore.push(declaredVars(v.body));
      const out = withValue({ type: v.type, term: resolveTerm(globals, ignore, v.term), body: resolveBody(globals, ignore, v.body) });
      ignore.pop();
      return out;
    }
    case 'objectcomprehension': {
      ignore.push(declaredVars(v.body));
      const out = withValue({
        type: v.type,
        key: resolveTerm(globals, ignore, v.key),
        value: resolveTerm(globals, ignore, v.value),
        body: resolveBody(globals, ignore, v.body),
      });
      ignore.pop();
      return out;
    }
    case 'templatestring':
      return withValue({
        ...v,
        parts: v.parts.map((p) => (p.kind === 'expr' ? { kind: 'expr' as const, expr: resolveExpr(globals, ignore, p.expr) } : p)),
      });
    default:
      return term;
  }
}

export function resolveExpr(globals: Globals, ignore: Ignore, expr: Expr): Expr {
  const cpy: Expr = { ...expr };
  const ts = expr.terms;
  if (Array.isArray(ts)) cpy.terms = ts.map((t) => resolveTerm(globals, ignore, t));
  else if ((ts as { type?: string }).type === 'some') {
    const decl = ts as { type: 'some'; symbols: Term[]; location?: Term['location'] };
    const first = decl.symbols[0]?.value;
    if (first && first.type === 'call') {
      cpy.terms = {
        type: 'some',
        symbols: [{ ...decl.symbols[0], value: { type: 'call', value: first.value.map((t) => resolveTerm(globals, ignore, t)) } }],
        ...(decl.location ? { location: decl.location } : {}),
      };
    }
  } else if ((ts as { type?: string }).type === 'every') {
    const ev = ts as import('../ast/types.js').Every;
    const locals = new Set<string>();
    if (ev.key) varsOf(ev.key, {}, locals);
    varsOf(ev.value, {}, locals);
    ignore.push(locals);
    cpy.terms = {
      ...ev,
      key: ev.key ? clone(ev.key) : undefined,
      value: clone(ev.value),
      domain: resolveTerm(globals, ignore, ev.domain),
      body: resolveBody(globals, ignore, ev.body),
    };
    if (!ev.key) delete (cpy.terms as { key?: Term }).key;
    ignore.pop();
  } else cpy.terms = resolveTerm(globals, ignore, ts as Term);
  cpy.with = expr.with.map((w) => ({
    ...w,
    target: resolveTerm(globals, ignore, w.target),
    value: resolveTerm(globals, ignore, w.value),
  }));
  return cpy;
}

export function resolveBody(globals: Globals, ignore: Ignore, body: Body): Body {
  return body.map((e) => resolveExpr(globals, ignore, e));
}

function resolveRule(globals: Globals, rule: Rule): string | undefined {
  const ignore = new Ignore();
  const vars = new Set<string>();
  let err: string | undefined;
  // Collect arg vars (object values only; skip sets, comprehensions, calls), rejecting
  // args that shadow root documents.
  const visitArg = (t: Term): void => {
    if (err) return;
    const v = t.value;
    switch (v.type) {
      case 'var':
        vars.add(v.value);
        return;
      case 'ref':
        if (v.value.length === 1 && v.value[0].value.type === 'var' && (v.value[0].value.value === 'data' || v.value[0].value.value === 'input')) {
          err = `args must not shadow ${termToString(t)} (use a different variable name)`;
          return;
        }
        v.value.forEach(visitArg);
        return;
      case 'object':
        v.value.forEach(([, x]) => visitArg(x));
        return;
      case 'array':
        v.value.forEach(visitArg);
        return;
      default:
        return;
    }
  };
  (rule.head.args ?? []).forEach(visitArg);
  if (err) return err;
  ignore.push(vars);
  ignore.push(declaredVars(rule.body));
  const ref = rule.head.reference;
  for (let i = 1; i < ref.length; i++) ref[i] = resolveTerm(globals, ignore, ref[i]);
  const key = rule.head.key;
  if (key) rule.head.key = resolveTerm(globals, ignore, key);
  if (rule.head.value) rule.head.value = resolveTerm(globals, ignore, rule.head.value);
  rule.body = resolveBody(globals, ignore, rule.body);
  return undefined;
}

/** Stage ResolveRefs over all modules. */
export function resolveAllRefs(c: CompileContext): void {
  // Exports: head-ref ground prefixes of all rules, by package.
  const exports = new Map<string, Term[][]>();
  const pkgKey = (m: Module) => JSON.stringify(m.package.path.map((t) => t.value));
  for (const { module } of c.sorted) {
    const list = exports.get(pkgKey(module)) ?? [];
    for (const rule of module.rules) list.push(groundPrefix(rule.head.reference));
    exports.set(pkgKey(module), list);
  }
  for (const { module } of c.sorted) {
    const globals = getGlobals(module.package.path, exports.get(pkgKey(module)) ?? [], module.imports);
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) {
        const msg = resolveRule(globals, r);
        if (msg && !c.err(error(COMPILE_ERR, msg, r.location))) return;
      }
    }
    if (c.strict) {
      for (const imp of module.imports) {
        if (isFutureOrRego(imp)) continue;
        const g = globals.get(importName(imp));
        if (g && !g.used) {
          if (!c.err(error(COMPILE_ERR, `${importString(imp)} unused`, imp.location))) return;
        }
      }
    }
  }
}

export function importString(imp: Import): string {
  return `import ${termToString(imp.path)}${imp.alias ? ` as ${imp.alias}` : ''}`;
}

/** The query compiler's resolveRefs: no package context, so only shadowing is computed. */
export function resolveQuery(body: Body, globals: Globals = new Map()): Body {
  const ignore = new Ignore();
  ignore.push(declaredVars(body));
  return resolveBody(globals, ignore, body);
}

export { Ignore };
void walkTerms;
