// Local variable rewriting (compile.go rewriteLocalVars and helpers): `:=` and `some`
// declarations get unique generated names (`__local3__`), `:=` becomes `=`, `some x in xs`
// becomes `x = xs[__localN__]`, every's key/value are declared in their own scope, and
// misuse is reported with OPA's messages (`var x assigned above`, `declared var x unused`...).
import type { Body, Every, Expr, Rule, Term, With } from '../ast/types.js';
import {
  clone,
  isAssignment,
  isEvery,
  isGenerated,
  isScalar,
  isSome,
  isWildcard,
  operatorTerm,
  refTerm,
  validEqAssignArgCount,
  varTerm,
  varsOf,
  walkTerms,
  refToString,
  varToString,
} from '../ast/index.js';
import { COMPILE_ERR, error, type CompileContext, type LocalVarGen } from './context.js';
import type { RegoError } from '../ast/types.js';
import { declaredVars } from './resolve.js';
import { outputVarsForExprEq } from './safety.js';

type Occ = 'new' | 'arg' | 'seen' | 'assigned' | 'declared';

class DeclaredVarSet {
  vs = new Map<string, string>();
  occurrence = new Map<string, Occ>();
  count = new Map<string, number>();
}

export class LocalDeclaredVars {
  rewritten = new Map<string, string>();
  vars: DeclaredVarSet[] = [new DeclaredVarSet()];
  assignment = false;

  /** OPA's Copy(): every scope is merged into the first (sic), the rest start empty. */
  copy(): LocalDeclaredVars {
    const s = new LocalDeclaredVars();
    s.vars = this.vars.map(() => new DeclaredVarSet());
    for (const src of this.vars) {
      src.vs.forEach((v, k) => s.vars[0].vs.set(k, v));
      src.occurrence.forEach((v, k) => s.vars[0].occurrence.set(k, v));
      src.count.forEach((v, k) => s.vars[0].count.set(k, v));
    }
    s.rewritten = new Map(this.rewritten);
    return s;
  }
  push() {
    this.vars.push(new DeclaredVarSet());
  }
  pop(): DeclaredVarSet {
    return this.vars.pop()!;
  }
  peek(): DeclaredVarSet {
    return this.vars[this.vars.length - 1];
  }
  insert(x: string, y: string, occ: Occ) {
    const elem = this.peek();
    elem.vs.set(x, y);
    elem.occurrence.set(x, occ);
    elem.count.set(x, 1);
    if (x !== y) this.rewritten.set(y, x);
  }
  declared(x: string): string | undefined {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const y = this.vars[i].vs.get(x);
      if (y !== undefined) return y;
    }
    return undefined;
  }
  occurrence(x: string): Occ {
    return this.peek().occurrence.get(x) ?? 'new';
  }
  globalOccurrence(x: string): Occ | undefined {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const o = this.vars[i].occurrence.get(x);
      if (o !== undefined) return o;
    }
    return undefined;
  }
  seen(x: string) {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const c = this.vars[i].count.get(x);
      if (c !== undefined) {
        this.vars[i].count.set(x, c + 1);
        return;
      }
    }
    this.peek().count.set(x, 1);
  }
  count(x: string): number {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const c = this.vars[i].count.get(x);
      if (c !== undefined) return c;
    }
    return 0;
  }
}

function isRootDocRef(t: Term): string | undefined {
  const v = t.value;
  if (v.type === 'ref' && v.value.length === 1 && v.value[0].value.type === 'var') {
    const n = v.value[0].value.value;
    if (n === 'data' || n === 'input') return n;
  }
  return undefined;
}

/** OPA's ValueName / TypeName of a value, used in `cannot assign to <x>`. */
function valueName(t: Term): string {
  return t.value.type;
}

type Errs = RegoError[];

function rewriteDeclaredVar(g: LocalVarGen, stack: LocalDeclaredVars, v: string, occ: Occ): { gv?: string; err?: string } {
  switch (stack.occurrence(v)) {
    case 'seen':
      return { err: `var ${varToString(v)} referenced above` };
    case 'assigned':
      return { err: `var ${varToString(v)} assigned above` };
    case 'declared':
      return { err: `var ${varToString(v)} declared above` };
    case 'arg':
      return { err: `arg ${varToString(v)} redeclared` };
  }
  const gv = g.generate();
  stack.insert(v, gv, occ);
  return { gv };
}

// -------------------------------------------------------------- generic term walk

/** Returns true to stop descent (OPA's rewriteDeclaredVarsInTerm). */
function rewriteDeclaredVarsInTerm(g: LocalVarGen, stack: LocalDeclaredVars, term: Term, errs: Errs, strict: boolean): boolean {
  const v = term.value;
  switch (v.type) {
    case 'var': {
      const gv = stack.declared(v.value);
      if (gv !== undefined) {
        term.value = { type: 'var', value: gv };
        stack.seen(v.value);
      } else if (stack.occurrence(v.value) === 'new') {
        stack.insert(v.value, v.value, 'seen');
      }
      return true;
    }
    case 'ref': {
      const root = isRootDocRef(term);
      if (root) {
        const occ = stack.globalOccurrence(root);
        if (occ !== undefined && occ !== 'seen') {
          const gv = stack.declared(root)!;
          term.value = { type: 'var', value: gv };
        }
        return true;
      }
      return false;
    }
    case 'call': {
      const ref = v.value[0];
      let shadowed = false;
      for (const x of varsOf(ref)) {
        const gv = stack.declared(x);
        if (gv !== undefined && gv !== x && !shadowed) {
          errs.push(error(COMPILE_ERR, `called function ${refToString(ref.value.type === 'ref' ? ref.value.value : [ref])} shadowed`, term.location));
          shadowed = true;
        }
      }
      return false;
    }
    case 'object':
      term.value = {
        type: 'object',
        value: v.value.map(([k, x]) => {
          const kc = clone(k);
          rewriteTermRecursive(g, stack, kc, errs, strict);
          rewriteTermRecursive(g, stack, x, errs, strict);
          return [kc, x] as [Term, Term];
        }),
      };
      return true;
    case 'set':
      term.value = {
        type: 'set',
        value: v.value.map((x) => {
          const xc = clone(x);
          rewriteTermRecursive(g, stack, xc, errs, strict);
          return xc;
        }),
      };
      return true;
    case 'arraycomprehension':
    case 'setcomprehension': {
      const used = varsOf(v.term);
      stack.push();
      v.body = rewriteDeclaredVarsInBody(g, stack, used, v.body, errs, strict);
      rewriteTermRecursive(g, stack, v.term, errs, strict);
      stack.pop();
      return true;
    }
    case 'objectcomprehension': {
      const used = varsOf(v.key);
      varsOf(v.value, {}, used);
      stack.push();
      v.body = rewriteDeclaredVarsInBody(g, stack, used, v.body, errs, strict);
      rewriteTermRecursive(g, stack, v.key, errs, strict);
      rewriteTermRecursive(g, stack, v.value, errs, strict);
      stack.pop();
      return true;
    }
    case 'templatestring':
      // Each embedded expression is its own scope (rewriteDeclaredVarsInTemplateString).
      for (const p of v.parts) {
        if (p.kind === 'expr') {
          stack.push();
          rewriteDeclaredVarsInExpr(g, stack, p.expr, errs, strict);
          stack.pop();
        }
      }
      return true;
    default:
      return false;
  }
}

function rewriteTermRecursive(g: LocalVarGen, stack: LocalDeclaredVars, term: Term, errs: Errs, strict: boolean): void {
  walkTerms(term, (t) => rewriteDeclaredVarsInTerm(g, stack, t, errs, strict));
}

function rewriteWith(g: LocalVarGen, stack: LocalDeclaredVars, w: With, errs: Errs, strict: boolean): void {
  rewriteTermRecursive(g, stack, w.target, errs, strict);
  const sdw = stack.declared('input');
  if (sdw !== undefined) {
    const tv = w.target.value;
    if (tv.type === 'var' && tv.value === sdw) w.target.value = { type: 'ref', value: [varTerm('input', w.target.location)] };
    else if (tv.type === 'ref' && tv.value[0].value.type === 'var' && tv.value[0].value.value === sdw) tv.value[0] = varTerm('input', tv.value[0].location);
  }
  rewriteTermRecursive(g, stack, w.value, errs, strict);
}

/** The generic visitor over an expression: terms (every: key, value, domain, body), then withs. */
function rewriteDeclaredVarsInExpr(g: LocalVarGen, stack: LocalDeclaredVars, expr: Expr, errs: Errs, strict: boolean): Expr {
  const ts = expr.terms;
  const walkBody = (b: Body) => b.forEach((e) => rewriteDeclaredVarsInExpr(g, stack, e, errs, strict));
  if (Array.isArray(ts)) ts.forEach((t) => rewriteTermRecursive(g, stack, t, errs, strict));
  else if ((ts as { type?: string }).type === 'some') (ts as { symbols: Term[] }).symbols.forEach((t) => rewriteTermRecursive(g, stack, t, errs, strict));
  else if ((ts as { type?: string }).type === 'every') {
    const ev = ts as Every;
    if (ev.key) rewriteTermRecursive(g, stack, ev.key, errs, strict);
    rewriteTermRecursive(g, stack, ev.value, errs, strict);
    rewriteTermRecursive(g, stack, ev.domain, errs, strict);
    walkBody(ev.body);
  } else rewriteTermRecursive(g, stack, ts as Term, errs, strict);
  expr.with.forEach((w) => rewriteWith(g, stack, w, errs, strict));
  return expr;
}

function rewriteDeclaredAssignment(g: LocalVarGen, stack: LocalDeclaredVars, expr: Expr, errs: Errs, strict: boolean): Expr {
  if (expr.negated) {
    errs.push(error(COMPILE_ERR, 'cannot assign vars inside negated expression', expr.location));
    return expr;
  }
  const before = errs.length;
  if (!validEqAssignArgCount(expr)) return expr;
  const terms = expr.terms as Term[];
  rewriteTermRecursive(g, stack, terms[2], errs, strict);
  for (const w of expr.with) rewriteTermRecursive(g, stack, w.value, errs, strict);

  const vis = (t: Term): boolean => {
    const v = t.value;
    switch (v.type) {
      case 'var': {
        const r = rewriteDeclaredVar(g, stack, v.value, 'assigned');
        if (r.err) errs.push(error(COMPILE_ERR, r.err, t.location));
        else t.value = { type: 'var', value: r.gv! };
        return true;
      }
      case 'array':
        return false;
      case 'object':
        v.value.forEach(([, x]) => walkTerms(x, vis));
        return true;
      case 'ref': {
        const root = isRootDocRef(t);
        if (root) {
          const r = rewriteDeclaredVar(g, stack, root, 'assigned');
          if (r.err) errs.push(error(COMPILE_ERR, r.err, t.location));
          else t.value = { type: 'var', value: r.gv! };
          return true;
        }
        break;
      }
    }
    errs.push(error(COMPILE_ERR, `cannot assign to ${valueName(t)}`, t.location));
    return true;
  };
  walkTerms(terms[1], vis);
  if (errs.length === before) {
    const loc = terms[0].location ?? expr.location;
    terms[0] = operatorTerm('eq', loc);
  }
  return expr;
}

function rewriteSomeDecl(g: LocalVarGen, stack: LocalDeclaredVars, expr: Expr, errs: Errs, strict: boolean): Expr | undefined {
  const e = clone(expr);
  const decl = e.terms as { type: 'some'; symbols: Term[]; location?: Expr['location'] };
  for (const sym of decl.symbols) {
    const v = sym.value;
    if (v.type === 'var') {
      const r = rewriteDeclaredVar(g, stack, v.value, 'declared');
      if (r.err) {
        errs.push(error(COMPILE_ERR, r.err, decl.location ?? expr.location));
        return undefined;
      }
    } else if (v.type === 'call') {
      let key: Term, val: Term, container: Term;
      if (v.value.length === 4) {
        key = v.value[1];
        val = v.value[2];
        container = v.value[3];
      } else {
        key = varTerm(g.generate(), sym.location);
        val = v.value[1];
        container = v.value[2];
      }
      const rhs =
        container.value.type === 'ref'
          ? refTerm([...container.value.value, key], container.location)
          : refTerm([container, key], container.location);
      e.terms = [operatorTerm('eq', sym.location), val, rhs];
      for (const v0 of [...outputVarsForExprEq(e, varsOf(container))].sort()) {
        const r = rewriteDeclaredVar(g, stack, v0, 'declared');
        if (r.err) {
          errs.push(error(COMPILE_ERR, r.err, decl.location ?? expr.location));
          return undefined;
        }
      }
      return rewriteDeclaredVarsInExpr(g, stack, e, errs, strict);
    }
  }
  return undefined;
}

function rewriteEvery(g: LocalVarGen, stack: LocalDeclaredVars, expr: Expr, errs: Errs, strict: boolean): Expr | undefined {
  const e = clone(expr);
  const every = e.terms as Every;
  rewriteTermRecursive(g, stack, every.domain, errs, strict);
  stack.push();
  try {
    if (every.key) {
      const kv = every.key.value;
      if (kv.type === 'var' && !isWildcard(kv.value)) {
        const r = rewriteDeclaredVar(g, stack, kv.value, 'declared');
        if (r.err) {
          errs.push(error(COMPILE_ERR, r.err, every.location ?? expr.location));
          return undefined;
        }
        every.key.value = { type: 'var', value: r.gv! };
      }
    } else {
      every.key = varTerm(g.generate());
    }
    const vv = every.value.value;
    if (vv.type === 'var' && !isWildcard(vv.value)) {
      const r = rewriteDeclaredVar(g, stack, vv.value, 'declared');
      if (r.err) {
        errs.push(error(COMPILE_ERR, r.err, every.location ?? expr.location));
        return undefined;
      }
      every.value.value = { type: 'var', value: r.gv! };
    }
    every.body = rewriteDeclaredVarsInBody(g, stack, new Set(), every.body, errs, strict);
    return rewriteDeclaredVarsInExpr(g, stack, e, errs, strict);
  } finally {
    stack.pop();
  }
}

export function rewriteDeclaredVarsInBody(
  g: LocalVarGen,
  stack: LocalDeclaredVars,
  used: Set<string>,
  body: Body,
  errs: Errs,
  strict: boolean,
): Body {
  const cpy: Body = [];
  for (const e of body) {
    let out: Expr | undefined;
    if (isAssignment(e)) {
      stack.assignment = true;
      out = rewriteDeclaredAssignment(g, stack, e, errs, strict);
    } else if (isSome(e)) out = rewriteSomeDecl(g, stack, e, errs, strict);
    else if (isEvery(e)) out = rewriteEvery(g, stack, e, errs, strict);
    else out = rewriteDeclaredVarsInExpr(g, stack, e, errs, strict);
    if (out) cpy.push(out);
  }
  if (cpy.length === 0) cpy.push({ index: 0, negated: false, terms: { value: { type: 'boolean', value: true } }, with: [] });
  cpy.forEach((e, i) => (e.index = i));
  checkUnusedAssignedVars(body, stack, used, errs, strict);
  checkUnusedDeclaredVars(body, stack, used, cpy, errs);
  return cpy;
}

function checkUnusedAssignedVars(body: Body, stack: LocalDeclaredVars, used: Set<string>, errs: Errs, strict: boolean): void {
  if (!strict || errs.length > 0) return;
  const dvs = stack.peek();
  if (![...dvs.occurrence.values()].includes('assigned')) return;
  const unused = new Set<string>();
  for (const [v, occ] of dvs.occurrence) {
    if (!isWildcard(v) && stack.count(v) <= 1 && occ === 'assigned') unused.add(dvs.vs.get(v)!);
  }
  for (const v of used) unused.delete(stack.declared(v) ?? v);
  if (unused.size === 0) return;
  const reversed = new Map<string, string>();
  dvs.vs.forEach((gv, k) => reversed.set(gv, k));
  for (const gv of [...unused].sort()) {
    const at = body.find((e) => varsOf(e).has(gv)) ?? body[0];
    errs.push(error(COMPILE_ERR, `assigned var ${varToString(reversed.get(gv)!)} unused`, at?.location));
  }
}

function checkUnusedDeclaredVars(body: Body, stack: LocalDeclaredVars, used: Set<string>, cpy: Body, errs: Errs): void {
  if (errs.length > 0) return;
  const dvs = stack.peek();
  if (![...dvs.occurrence.values()].includes('declared')) return;
  const declared = new Set<string>();
  for (const [v, occ] of dvs.occurrence) if (occ === 'declared') declared.add(dvs.vs.get(v)!);
  const bodyvars = varsOf(cpy);
  for (const v of used) bodyvars.add(stack.declared(v) ?? v);
  const dbv = [...declared].filter((v) => !bodyvars.has(v));
  const left = dbv.filter((v) => !used.has(v)).sort();
  if (left.length === 0) return;
  const reversed = new Map<string, string>();
  dvs.vs.forEach((gv, k) => reversed.set(gv, k));
  for (const gv of left) {
    const rv = reversed.get(gv)!;
    if (isGenerated(rv)) continue;
    const at = body.find((e) => declaredVars(e).has(rv)) ?? body[0];
    errs.push(error(COMPILE_ERR, `declared var ${varToString(rv)} unused`, at?.location));
  }
}

// -------------------------------------------------------------- rules

function headMayHaveVars(rule: Rule): boolean {
  const h = rule.head;
  if ((h.args ?? []).some((a) => !isScalar(a.value))) return true;
  if (h.key && !isScalar(h.key.value)) return true;
  if (h.value && !isScalar(h.value.value)) return true;
  return h.reference.slice(1).some((t) => !isScalar(t.value));
}
export { headMayHaveVars };

/** Rewrites declared vars in comprehensions nested in the head (rewriteNestedHeadVarLocalTransform). */
function rewriteNestedHeadComprehensions(c: CompileContext, g: LocalVarGen, rule: Rule, errs: Errs): void {
  const visit = (t: Term): boolean => {
    const v = t.value;
    const stack = new LocalDeclaredVars();
    let stop = false;
    switch (v.type) {
      case 'object':
        t.value = {
          type: 'object',
          value: v.value.map(([k, x]) => {
            const kc = clone(k);
            walkTerms(kc, visit);
            const xc = clone(x);
            walkTerms(xc, visit);
            return [kc, xc] as [Term, Term];
          }),
        };
        stop = true;
        break;
      case 'set':
        t.value = {
          type: 'set',
          value: v.value.map((x) => {
            const xc = clone(x);
            walkTerms(xc, visit);
            return xc;
          }),
        };
        stop = true;
        break;
      case 'arraycomprehension':
      case 'setcomprehension':
      case 'objectcomprehension':
      case 'templatestring':
        rewriteDeclaredVarsInTerm(g, stack, t, errs, c.strict);
        stop = true;
        break;
    }
    stack.rewritten.forEach((u, gv) => c.rewrittenVars.set(gv, u));
    return stop;
  };
  const h = rule.head;
  for (const t of h.reference) walkTerms(t, visit);
  for (const t of h.args ?? []) walkTerms(t, visit);
  if (h.key) walkTerms(h.key, visit);
  if (h.value) walkTerms(h.value, visit);
}

function substituteVars(t: Term, declared: Map<string, string>): Term {
  walkTerms(t, (x) => {
    if (x.value.type === 'var') {
      const gv = declared.get(x.value.value);
      if (gv !== undefined) x.value = { type: 'var', value: gv };
    }
    return false;
  });
  return t;
}

function rewriteLocalVarsInRule(c: CompileContext, rule: Rule, unusedArgs: Set<string>, argsStack: LocalDeclaredVars, errs: Errs): LocalDeclaredVars {
  const g = c.gen;
  const onlyScalars = !headMayHaveVars(rule);
  let used = new Set<string>();
  if (!onlyScalars) {
    const nestedErrs: Errs = [];
    rewriteNestedHeadComprehensions(c, g, rule, nestedErrs);
    c.err(...nestedErrs);
    for (const t of rule.head.reference.slice(1)) if (!isScalar(t.value)) varsOf(t, {}, used);
    if (rule.head.key && !isScalar(rule.head.key.value)) varsOf(rule.head.key, {}, used);
    if (rule.head.value && !isScalar(rule.head.value.value)) {
      const valueVars = varsOf(rule.head.value);
      valueVars.forEach((v) => used.add(v));
      for (const a of [...unusedArgs]) if (valueVars.has(a)) unusedArgs.delete(a);
    }
  } else used = new Set();

  const stack = argsStack.copy();
  rule.body = rewriteDeclaredVarsInBody(g, stack, used, rule.body, errs, c.strict);
  stack.rewritten.forEach((u, gv) => c.rewrittenVars.set(gv, u));
  if (onlyScalars) return stack;

  const declared = stack.peek().vs;
  const h = rule.head;
  if (h.args) h.args = h.args.map((a) => substituteVars(a, declared));
  for (let i = 1; i < h.reference.length; i++) h.reference[i] = substituteVars(h.reference[i], declared);
  if (h.key) h.key = substituteVars(h.key, declared);
  if (h.value) h.value = substituteVars(h.value, declared);
  return stack;
}

/** Rewrites function args to generated names (ruleArgLocalRewriter). */
function rewriteLocalArgVars(g: LocalVarGen, stack: LocalDeclaredVars, rule: Rule, errs: Errs): void {
  const visit = (t: Term): void => {
    const v = t.value;
    switch (v.type) {
      case 'var': {
        let gv = stack.declared(v.value);
        if (gv !== undefined) stack.seen(v.value);
        else {
          gv = g.generate();
          stack.insert(v.value, gv, 'arg');
        }
        t.value = { type: 'var', value: gv };
        return;
      }
      case 'object':
        t.value = {
          type: 'object',
          value: v.value.map(([k, x]) => {
            const xc = clone(x);
            visit(xc);
            return [k, xc] as [Term, Term];
          }),
        };
        return;
      case 'call':
        errs.push(error(COMPILE_ERR, 'rule arguments cannot contain calls', t.location));
        return;
      case 'ref':
      case 'array':
        v.value.forEach(visit);
        return;
      default:
        return;
    }
  };
  (rule.head.args ?? []).forEach(visit);
}

/** Stage RewriteLocalVars over all modules. */
export function rewriteLocalVars(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      const argsStack = new LocalDeclaredVars();
      const unusedArgs = c.strict ? varsOf(rule.head.args ?? []) : new Set<string>();
      const argErrs: Errs = [];
      rewriteLocalArgVars(c.gen, argsStack, rule, argErrs);
      c.err(...argErrs);
      let stop = false;
      for (let r: Rule | undefined = rule; r; r = r.else) {
        const errs: Errs = [];
        const stack = rewriteLocalVarsInRule(c, r, unusedArgs, argsStack, errs);
        if (!c.err(...errs)) {
          stop = true;
          break;
        }
        for (const a of [...unusedArgs]) if (stack.count(a) > 1) unusedArgs.delete(a);
      }
      if (stop) return;
      if (c.strict) {
        for (const a of unusedArgs) {
          if (!isWildcard(a)) {
            if (!c.err(error(COMPILE_ERR, `unused argument ${a}. (hint: use _ (wildcard variable) instead)`, rule.head.location ?? rule.location))) return;
          }
        }
      }
    }
  }
}

/** The query compiler's rewriteLocalVars; returns the rewritten body and generated->user names. */
export function rewriteQueryLocalVars(g: LocalVarGen, body: Body, strict: boolean): { body: Body; rewritten: Map<string, string>; errors: Errs } {
  const stack = new LocalDeclaredVars();
  const errs: Errs = [];
  const out = rewriteDeclaredVarsInBody(g, stack, new Set(), body, errs, strict);
  return { body: out, rewritten: new Map(stack.rewritten), errors: errs };
}
