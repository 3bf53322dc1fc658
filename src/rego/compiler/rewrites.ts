// Term-level rewriting stages of OPA's compiler (compile.go): rule head refs, template
// strings, print erasure, expression-term flattening (rewriteExprTerms), comprehension
// terms, refs in heads, `with` values, `==` to `=`, and dynamic terms (rewriteDynamics).
import type { Body, Expr, RegoError, Rule, Term, With } from '../ast/types.js';
import {
  RESERVED_VARS,
  SAFETY_PARAMS,
  boolTerm,
  eqExpr,
  isCall,
  isEquality,
  isEvery,
  isOperator,
  isScalar,
  isTermExpr,
  newExpr,
  operatorName,
  operatorTerm,
  refToString,
  requiresEval,
  stringTerm,
  termsEqual,
  termToString,
  varTerm,
  varsOf,
  walkBodies,
  walkTerms,
} from '../ast/index.js';
import { BUILTINS } from './builtins.js';
import { COMPILE_ERR, TYPE_ERR, error, type CompileContext, type LocalVarGen } from './context.js';
import { outputVarsForBody, type Arity } from './safety.js';
import type { TreeNode } from './ruletree.js';

/** OPA's equalityFactory.Generate: `__localN__ = other`, marked generated. */
export function generateEq(gen: LocalVarGen, other: Term): Expr {
  const v = varTerm(gen.generate(), other.location);
  const e = eqExpr(v, other, other.location);
  e.generated = true;
  return e;
}

function lhs(e: Expr): Term {
  return (e.terms as Term[])[1];
}

// ------------------------------------------------------------------ RewriteRuleHeadRefs

export function rewriteRuleHeadRefs(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      const ref = rule.head.reference;
      for (let i = 1; i < ref.length; i++) {
        const v = ref[i].value;
        if (v.type !== 'var' && !isScalar(v)) {
          const expr = generateEq(c.gen, ref[i]);
          if (i === ref.length - 1 && rule.head.key && termsEqual(rule.head.key, ref[i])) rule.head.key = lhs(expr);
          ref[i] = lhs(expr);
          rule.body.push(expr);
          reindexBody(rule.body);
        }
      }
    }
  }
}

function reindexBody(b: Body): void {
  b.forEach((e, i) => (e.index = i));
}

// ------------------------------------------------------------------ template strings

function templateToCall(
  gen: LocalVarGen,
  safe: Set<string>,
  rewritten: Map<string, string>,
  t: Term,
  errs: RegoError[],
): boolean {
  const v = t.value;
  if (v.type !== 'templatestring') return false;
  const loc = t.location;
  const parts: Term[] = [];
  if (v.parts.length === 0) parts.push(stringTerm('', loc));
  for (const p of v.parts) {
    if (p.kind === 'text') {
      parts.push(stringTerm(p.value, loc));
      continue;
    }
    let term: Term;
    if (isCall(p.expr)) {
      const name = operatorName(p.expr);
      const bi = name ? BUILTINS.get(name) : undefined;
      if (bi?.relation) {
        errs.push(error(COMPILE_ERR, `illegal call to relation built-in '${bi.name}' that may cause multiple outputs`, p.expr.location ?? loc));
        continue;
      }
      term = { value: { type: 'call', value: p.expr.terms }, location: p.expr.location ?? loc };
    } else if (isTermExpr(p.expr)) term = p.expr.terms;
    else {
      errs.push(error(COMPILE_ERR, 'unexpected template-string expression type', p.expr.location ?? loc));
      continue;
    }
    const vars = varsOf(term, SAFETY_PARAMS);
    for (const x of [...vars].sort()) {
      if (!safe.has(x)) errs.push(error(COMPILE_ERR, `var ${rewritten.get(x) ?? x} is undeclared`, term.location ?? loc));
    }
    const tl = term.location ?? loc;
    const x = varTerm(gen.generate(), tl);
    const capture = eqExpr(x, term, tl);
    capture.with = p.expr.with;
    parts.push({ value: { type: 'setcomprehension', term: x, body: [capture] }, location: tl });
  }
  t.value = { type: 'call', value: [operatorTerm('internal.template_string', loc), { value: { type: 'array', value: parts }, location: loc }] };
  return true;
}

/** rewriteTemplateStrings over a body (and, via recursion, nested closure bodies). */
function rewriteTemplatesIn(
  gen: LocalVarGen,
  arity: Arity,
  globals: Set<string>,
  rewritten: Map<string, string>,
  x: Body | Term[],
  isBody: boolean,
  errs: RegoError[],
): { modified: boolean; safe: Set<string> } {
  let modified = false;
  const safe = isBody ? outputVarsForBody(x as Body, arity, globals) : new Set<string>();
  globals.forEach((g) => safe.add(g));
  const visit = (t: Term): boolean => {
    const v = t.value;
    switch (v.type) {
      case 'templatestring':
        if (templateToCall(gen, safe, rewritten, t, errs)) modified = true;
        return false;
      case 'arraycomprehension':
      case 'setcomprehension': {
        const r = rewriteTemplatesIn(gen, arity, safe, rewritten, v.body, true, errs);
        if (r.modified) modified = true;
        if (templateToCall(gen, r.safe, rewritten, v.term, errs)) modified = true;
        return false;
      }
      case 'objectcomprehension': {
        const r = rewriteTemplatesIn(gen, arity, safe, rewritten, v.body, true, errs);
        if (r.modified) modified = true;
        if (templateToCall(gen, r.safe, rewritten, v.key, errs)) modified = true;
        if (templateToCall(gen, r.safe, rewritten, v.value, errs)) modified = true;
        return false;
      }
    }
    return false;
  };
  if (isBody) {
    for (const e of x as Body) {
      if (isEvery(e)) {
        walkTerms(e.terms.domain, visit);
        const s = new Set(safe);
        if (e.terms.key) varsOf(e.terms.key, {}, s);
        varsOf(e.terms.value, {}, s);
        const r = rewriteTemplatesIn(gen, arity, s, rewritten, e.terms.body, true, errs);
        if (r.modified) modified = true;
      } else walkTerms(e, visit);
    }
  } else (x as Term[]).forEach((t) => walkTerms(t, visit));
  return { modified, safe };
}

export function rewriteTemplateStrings(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) {
        const safe = varsOf(r.head.args ?? []);
        RESERVED_VARS.forEach((v) => safe.add(v));
        const errs: RegoError[] = [];
        const res = rewriteTemplatesIn(c.gen, c.getArity, safe, c.rewrittenVars, r.body, true, errs);
        const head = [...r.head.reference.slice(1), ...(r.head.args ?? []), ...(r.head.key ? [r.head.key] : []), ...(r.head.value ? [r.head.value] : [])];
        rewriteTemplatesIn(c.gen, c.getArity, res.safe, c.rewrittenVars, head, false, errs);
        c.err(...errs);
      }
    }
  }
}

export function rewriteQueryTemplateStrings(gen: LocalVarGen, arity: Arity, rewritten: Map<string, string>, body: Body): RegoError[] {
  const errs: RegoError[] = [];
  rewriteTemplatesIn(gen, arity, new Set(RESERVED_VARS), rewritten, body, true, errs);
  return errs;
}

// ------------------------------------------------------------------ void calls & print

export function checkVoidCalls(x: Rule | Body): RegoError[] {
  const errs: RegoError[] = [];
  walkTerms(x, (t) => {
    if (t.value.type === 'call') {
      const op = t.value.value[0];
      if (op.value.type === 'ref') {
        const bi = BUILTINS.get(refToString(op.value.value));
        if (bi && !bi.result) errs.push(error(TYPE_ERR, `${termToString(t)} used as value`, t.location));
      }
    }
    return false;
  });
  return errs;
}

function isPrintCall(e: Expr): boolean {
  return isCall(e) && isOperator(e, 'print');
}

/** Print statements are erased (OPA's default when print is not enabled). */
export function erasePrintCallsInBody(body: Body): Body {
  // Recurse into closures first.
  for (const e of body) {
    walkTerms(e, (t) => {
      const v = t.value;
      if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') {
        v.body = erasePrintCallsInBody(v.body);
      }
      return false;
    });
    if (isEvery(e)) e.terms.body = erasePrintCallsInBody(e.terms.body);
  }
  if (!body.some(isPrintCall)) return body;
  const out = body.filter((e) => !isPrintCall(e));
  if (out.length === 0) out.push(newExpr(boolTerm(true, body[0]?.location), body[0]?.location));
  reindexBody(out);
  return out;
}

/**
 * OPA's rewritePrintCalls (print enabled): every `print(a, b)` becomes
 * `internal.print([{__localN__ | __localN__ = a}, {__localM__ | __localM__ = b}])`, so an
 * undefined operand prints `<undefined>` instead of stopping the body. Operands may only close
 * over variables that are safe at the call (`var x is undeclared` otherwise). Closures are
 * visited first, with the variables safe where they occur.
 */
export function rewritePrintCallsInBody(gen: LocalVarGen, arity: Arity, globals: Set<string>, body: Body): RegoError[] {
  for (let i = 0; i < body.length; i++) {
    const e = body[i]!;
    if (!containsClosuresShallow(e)) continue;
    const safe = outputVarsForBody(body.slice(0, i), arity, globals);
    for (const g of globals) safe.add(g);
    let errs: RegoError[] = [];
    visitClosures(e, (b, extra) => {
      const s = new Set(safe);
      for (const v of extra) s.add(v);
      const r = rewritePrintCallsInBody(gen, arity, s, b);
      if (r.length > 0) errs = r;
    });
    if (errs.length > 0) return errs;
  }
  for (let i = 0; i < body.length; i++) {
    const e = body[i]!;
    if (!isPrintCall(e)) continue;
    const safe = outputVarsForBody(body.slice(0, i), arity, globals);
    for (const g of globals) safe.add(g);
    const args = (e.terms as Term[]).slice(1);
    const errs: RegoError[] = [];
    for (const a of args) {
      const vars = [...varsOf(a, SAFETY_PARAMS)].filter((v) => !safe.has(v)).sort();
      for (const v of vars) errs.push(error(COMPILE_ERR, `var ${v} is undeclared`, a.location));
    }
    if (errs.length > 0) return errs;
    const captures: Term[] = args.map((a) => {
      const x = varTerm(gen.generate(), a.location);
      const capture = eqExpr(x, a, a.location);
      capture.index = 0;
      return { value: { type: 'setcomprehension', term: x, body: [capture] }, location: a.location };
    });
    const call = newExpr([operatorTerm('internal.print', e.location), { value: { type: 'array', value: captures }, location: e.location }], e.location);
    call.index = e.index;
    body[i] = call;
  }
  return [];
}

function containsClosuresShallow(e: Expr): boolean {
  let found = false;
  visitClosures(e, () => (found = true));
  return found;
}

/** The bodies of the closures directly in `e` (comprehensions, every), not of closures nested in them. */
function visitClosures(e: Expr, f: (body: Body, extraSafe: string[]) => void): void {
  const inTerms = (x: Parameters<typeof walkTerms>[0]) =>
    walkTerms(x, (t) => {
      const v = t.value;
      if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') {
        f(v.body, []);
        return true;
      }
      return false;
    });
  if (isEvery(e)) {
    inTerms(e.terms.domain);
    const kv: string[] = [];
    for (const t of [e.terms.key, e.terms.value]) if (t) varsOf(t, {}, new Set()).forEach((v) => kv.push(v));
    f(e.terms.body, kv);
    return;
  }
  if (Array.isArray(e.terms)) e.terms.forEach(inTerms);
  else if (isTermExpr(e)) inTerms(e.terms as Term);
  e.with.forEach((w) => inTerms(w.value));
}

/** OPA's Compiler.rewritePrintCalls with print enabled, for every rule (head and body). */
export function rewritePrintCalls(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) {
        const safe = new Set(RESERVED_VARS);
        (r.head.args ?? []).forEach((a) => varsOf(a, {}, safe));
        const vis = (b: Body) => {
          c.err(...rewritePrintCallsInBody(c.gen, c.getArity, safe, b));
          return false;
        };
        for (const t of [r.head.key, r.head.value]) if (t) walkBodies(t, vis);
        walkBodies(r.body, vis);
      }
    }
  }
}

export function erasePrintCalls(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) {
        r.body = erasePrintCallsInBody(r.body);
        for (const t of [r.head.key, r.head.value]) {
          if (t) walkTerms(t, (x) => {
            const v = x.value;
            if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') v.body = erasePrintCallsInBody(v.body);
            return false;
          });
        }
      }
    }
  }
}

// ------------------------------------------------------------------ RewriteExprTerms

function expandExprTerm(gen: LocalVarGen, term: Term): { support: Expr[]; output: Term } {
  const v = term.value;
  let support: Expr[] = [];
  let output = term;
  switch (v.type) {
    case 'call': {
      for (let i = 1; i < v.value.length; i++) {
        const r = expandExprTerm(gen, v.value[i]);
        v.value[i] = r.output;
        support.push(...r.support);
      }
      output = varTerm(gen.generate(), term.location);
      const expr = newExpr([...v.value, output], term.location);
      expr.generated = true;
      support.push(expr);
      break;
    }
    case 'ref':
      support = expandExprRef(gen, v.value);
      break;
    case 'array':
      for (let i = 0; i < v.value.length; i++) {
        const r = expandExprTerm(gen, v.value[i]);
        v.value[i] = r.output;
        support.push(...r.support);
      }
      break;
    case 'object': {
      const items: Array<[Term, Term]> = [];
      for (const [k, x] of v.value) {
        const rk = expandExprTerm(gen, k);
        const rv = expandExprTerm(gen, x);
        support.push(...rk.support, ...rv.support);
        items.push([rk.output, rv.output]);
      }
      output = { ...term, value: { type: 'object', value: items } };
      break;
    }
    case 'set': {
      const items: Term[] = [];
      for (const x of v.value) {
        const r = expandExprTerm(gen, x);
        support.push(...r.support);
        items.push(r.output);
      }
      output = { ...term, value: { type: 'set', value: items } };
      break;
    }
    case 'arraycomprehension':
    case 'setcomprehension': {
      const r = expandExprTerm(gen, v.term);
      v.body.push(...r.support);
      v.term = r.output;
      v.body = rewriteExprTermsInBody(gen, v.body);
      break;
    }
    case 'objectcomprehension': {
      const rk = expandExprTerm(gen, v.key);
      v.body.push(...rk.support);
      v.key = rk.output;
      const rv = expandExprTerm(gen, v.value);
      v.body.push(...rv.support);
      v.value = rv.output;
      v.body = rewriteExprTermsInBody(gen, v.body);
      break;
    }
  }
  return { support, output };
}

function expandExprRef(gen: LocalVarGen, ref: Term[]): Expr[] {
  const support: Expr[] = [];
  for (let i = 0; i < ref.length; i++) {
    const r = expandExprTerm(gen, ref[i]);
    ref[i] = r.output;
    support.push(...r.support);
  }
  const head = ref[0].value.type;
  if (
    head === 'array' ||
    head === 'object' ||
    head === 'set' ||
    head === 'arraycomprehension' ||
    head === 'setcomprehension' ||
    head === 'objectcomprehension' ||
    head === 'call'
  ) {
    const eq = generateEq(gen, ref[0]);
    support.push(eq);
    ref[0] = lhs(eq);
  }
  return support;
}

function expandExpr(gen: LocalVarGen, expr: Expr): Expr[] {
  const result: Expr[] = [];
  for (const w of expr.with) {
    const r = expandExprTerm(gen, w.value);
    w.value = r.output;
    result.push(...r.support);
  }
  const ts = expr.terms;
  if (Array.isArray(ts)) {
    for (let i = 1; i < ts.length; i++) {
      const r = expandExprTerm(gen, ts[i]);
      ts[i] = r.output;
      if (expr.with.length > 0) r.support.forEach((x) => (x.with = expr.with));
      result.push(...r.support);
    }
    result.push(expr);
  } else if (isEvery(expr)) {
    const ev = expr.terms;
    const term = varTerm(gen.generate(), ev.domain.location);
    const eq = eqExpr(term, ev.domain, ev.domain.location);
    eq.generated = true;
    eq.with = expr.with;
    const extras = expandExpr(gen, eq);
    ev.domain = term;
    ev.body = rewriteExprTermsInBody(gen, ev.body);
    result.push(...extras, expr);
  } else if (isTermExpr(expr)) {
    const r = expandExprTerm(gen, expr.terms);
    if (expr.with.length > 0) r.support.forEach((x) => (x.with = expr.with));
    result.push(...r.support);
    expr.terms = r.output;
    result.push(expr);
  } else result.push(expr);
  return result;
}

export function rewriteExprTermsInBody(gen: LocalVarGen, body: Body): Body {
  const out: Body = [];
  for (const e of body) out.push(...expandExpr(gen, e));
  reindexBody(out);
  return out;
}

export function rewriteExprTermsInHead(gen: LocalVarGen, rule: Rule): void {
  const h = rule.head;
  if (h.args) {
    for (let i = 0; i < h.args.length; i++) {
      const r = expandExprTerm(gen, h.args[i]);
      rule.body.push(...r.support);
      h.args[i] = r.output;
    }
  }
  if (h.key) {
    const r = expandExprTerm(gen, h.key);
    rule.body.push(...r.support);
    h.key = r.output;
  }
  if (h.value) {
    const r = expandExprTerm(gen, h.value);
    rule.body.push(...r.support);
    h.value = r.output;
  }
  reindexBody(rule.body);
}

export function rewriteExprTerms(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) {
        rewriteExprTermsInHead(c.gen, r);
        r.body = rewriteExprTermsInBody(c.gen, r.body);
      }
    }
  }
}

// ------------------------------------------------------------------ comprehension terms

/** Pre-order over comprehensions: a term needing evaluation is bound in the body. */
export function rewriteComprehensionTermsIn(gen: LocalVarGen, x: Rule | Body): void {
  walkTerms(x, (t) => {
    const v = t.value;
    if (v.type === 'arraycomprehension' || v.type === 'setcomprehension') {
      if (requiresEval(v.term)) {
        const e = generateEq(gen, v.term);
        v.term = lhs(e);
        v.body.push(e);
        reindexBody(v.body);
      }
    } else if (v.type === 'objectcomprehension') {
      if (requiresEval(v.key)) {
        const e = generateEq(gen, v.key);
        v.key = lhs(e);
        v.body.push(e);
      }
      if (requiresEval(v.value)) {
        const e = generateEq(gen, v.value);
        v.value = lhs(e);
        v.body.push(e);
      }
      reindexBody(v.body);
    }
    return false;
  });
}

export function rewriteComprehensionTerms(c: CompileContext): void {
  for (const { module } of c.sorted) for (const rule of module.rules) rewriteComprehensionTermsIn(c.gen, rule);
}

// ------------------------------------------------------------------ refs in head

export function rewriteRefsInHead(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) {
        const h = r.head;
        if (requiresEval(h.key)) {
          const e = generateEq(c.gen, h.key!);
          h.key = lhs(e);
          r.body.push(e);
        }
        if (requiresEval(h.value)) {
          const e = generateEq(c.gen, h.value!);
          h.value = lhs(e);
          r.body.push(e);
        }
        for (let i = 0; i < (h.args?.length ?? 0); i++) {
          if (requiresEval(h.args![i])) {
            const e = generateEq(c.gen, h.args![i]);
            h.args![i] = lhs(e);
            r.body.push(e);
          }
        }
        reindexBody(r.body);
      }
    }
  }
}

// ------------------------------------------------------------------ with modifiers

function isRefWithHead(t: Term, head: string): boolean {
  return t.value.type === 'ref' && t.value.value[0].value.type === 'var' && t.value.value[0].value.value === head;
}

function builtinNameOf(t: Term): string | undefined {
  const v = t.value;
  if (v.type === 'var') return BUILTINS.has(v.value) ? v.value : undefined;
  if (v.type === 'ref') {
    const n = refToString(v.value);
    return BUILTINS.has(n) ? n : undefined;
  }
  return undefined;
}

function findNode(tree: TreeNode, ref: Term[]): TreeNode | undefined {
  let node: TreeNode | undefined = tree;
  for (const t of ref) {
    node = node.child(t.value);
    if (!node) return undefined;
  }
  return node;
}

function validateWithFunctionValue(tree: TreeNode, value: Term): boolean {
  if (value.value.type === 'ref' && findNode(tree, value.value.value)) return true;
  return builtinNameOf(value) !== undefined;
}

/** OPA's validateWith; returns whether the value must be evaluated first, or an error. */
function validateWith(c: CompileContext, w: With): { evaluate: boolean; err?: RegoError } {
  const { target, value } = w;
  if (value.value.type === 'var' && BUILTINS.has(value.value.value)) value.value = { type: 'ref', value: [varTerm(value.value.value, value.location)] };
  const biTarget = builtinNameOf(target);
  if (isRefWithHead(target, 'data')) {
    const ref = (target.value as { value: Term[] }).value;
    let node: TreeNode | undefined = c.ruleTree;
    for (let i = 0; i < ref.length - 1; i++) {
      const child: TreeNode | undefined = node!.child(ref[i].value);
      if (!child) break;
      if (child.values.length > 0)
        return { evaluate: false, err: error(COMPILE_ERR, 'with keyword cannot partially replace virtual document(s)', target.location) };
      node = child;
    }
    if (node) {
      const child = node.child(ref[ref.length - 1].value);
      if (child) {
        for (const r of child.values) {
          if ((r.head.args?.length ?? 0) > 0 && validateWithFunctionValue(c.ruleTree, value)) return { evaluate: false };
        }
      }
    }
    if (value.value.type === 'ref') {
      const vn = findNode(c.ruleTree, value.value.value);
      if (vn && vn.values.some((r) => (r.head.args?.length ?? 0) > 0)) return { evaluate: false };
    }
  } else if (isRefWithHead(target, 'input')) {
    // valid
  } else if (biTarget) {
    if (target.value.type === 'var') target.value = { type: 'ref', value: [varTerm(target.value.value, target.location)] };
    const bi = BUILTINS.get(biTarget)!;
    if (bi.name === 'eq' || bi.name === 'rego.metadata.chain' || bi.name === 'rego.metadata.rule')
      return { evaluate: false, err: error(COMPILE_ERR, `with keyword replacing built-in function: replacement of "${bi.name}" invalid`, target.location) };
    if (bi.name.startsWith('internal.'))
      return {
        evaluate: false,
        err: error(COMPILE_ERR, `with keyword replacing built-in function: replacement of internal function "${bi.name}" invalid`, target.location),
      };
    if (bi.relation) return { evaluate: false, err: error(COMPILE_ERR, 'with keyword replacing built-in function: target must not be a relation', target.location) };
    if (!bi.result) return { evaluate: false, err: error(COMPILE_ERR, 'with keyword replacing built-in function: target must not be a void function', target.location) };
    if (validateWithFunctionValue(c.ruleTree, value)) return { evaluate: false };
  } else {
    return { evaluate: false, err: error(TYPE_ERR, 'with keyword target must reference existing input, data, or a function', target.location) };
  }
  return { evaluate: requiresEval(value) };
}

export function rewriteWithModifiersInBody(c: CompileContext, gen: LocalVarGen, body: Body): { body: Body; err?: RegoError } {
  const result: Body = [];
  for (const expr of body) {
    const extra: Expr[] = [];
    for (const w of expr.with) {
      const r = validateWith(c, w);
      if (r.err) return { body, err: r.err };
      if (r.evaluate) {
        const eq = generateEq(gen, w.value);
        extra.push(eq);
        w.value = lhs(eq);
      }
    }
    result.push(...extra, expr);
  }
  reindexBody(result);
  return { body: result };
}

/** Applies `f` to every body, outermost first (OPA's GenericTransformer over Body nodes). */
export function transformBodies(x: Rule | Body, f: (b: Body) => Body): Body | undefined {
  const visitTerm = (t: Term) =>
    walkTerms(t, (tt) => {
      const v = tt.value;
      if (v.type === 'arraycomprehension' || v.type === 'setcomprehension' || v.type === 'objectcomprehension') {
        v.body = visitBody(v.body);
        if (v.type === 'objectcomprehension') {
          visitTerm(v.key);
          visitTerm(v.value);
        } else visitTerm(v.term);
        return true;
      }
      return false;
    });
  const visitBody = (b: Body): Body => {
    const nb = f(b);
    for (const e of nb) {
      if (isEvery(e)) {
        visitTerm(e.terms.domain);
        e.terms.body = visitBody(e.terms.body);
      } else if (Array.isArray(e.terms)) e.terms.forEach(visitTerm);
      else if (isTermExpr(e)) visitTerm(e.terms);
      e.with.forEach((w) => {
        visitTerm(w.target);
        visitTerm(w.value);
      });
    }
    return nb;
  };
  if (Array.isArray(x)) return visitBody(x);
  for (let r: Rule | undefined = x; r; r = r.else) {
    [...r.head.reference, ...(r.head.args ?? []), ...(r.head.key ? [r.head.key] : []), ...(r.head.value ? [r.head.value] : [])].forEach(visitTerm);
    r.body = visitBody(r.body);
  }
  return undefined;
}

export function rewriteWithModifiers(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      transformBodies(rule, (b) => {
        const r = rewriteWithModifiersInBody(c, c.gen, b);
        if (r.err) c.err(r.err);
        return r.body;
      });
    }
  }
}

// ------------------------------------------------------------------ == to =

export function rewriteEquals(x: Rule | Body): void {
  const visit = (e: Expr) => {
    if (isCall(e) && isOperator(e, 'equal') && e.terms.length === 3) e.terms[0] = operatorTerm('eq', e.terms[0].location);
  };
  const all: Expr[] = [];
  collectExprs(x, all);
  all.forEach(visit);
}

function collectExprs(x: Rule | Body, out: Expr[]): void {
  transformBodies(x, (b) => {
    out.push(...b);
    return b;
  });
}

// ------------------------------------------------------------------ dynamic terms

function rewriteDynamicsOne(original: Expr, gen: LocalVarGen, term: Term, result: Body): Term {
  const v = term.value;
  switch (v.type) {
    case 'ref': {
      for (let i = 1; i < v.value.length; i++) v.value[i] = rewriteDynamicsOne(original, gen, v.value[i], result);
      const g = generateEq(gen, term);
      g.with = original.with;
      result.push(g);
      return lhs(g);
    }
    case 'array':
      for (let i = 0; i < v.value.length; i++) v.value[i] = rewriteDynamicsOne(original, gen, v.value[i], result);
      return term;
    case 'object': {
      const items: Array<[Term, Term]> = [];
      for (const [k, x] of v.value) {
        const k2 = rewriteDynamicsOne(original, gen, k, result);
        const x2 = rewriteDynamicsOne(original, gen, x, result);
        items.push([k2, x2]);
      }
      return { ...term, value: { type: 'object', value: items } };
    }
    case 'set': {
      const items = v.value.map((x) => rewriteDynamicsOne(original, gen, x, result));
      return { ...term, value: { type: 'set', value: items } };
    }
    case 'arraycomprehension':
    case 'setcomprehension':
    case 'objectcomprehension': {
      v.body = rewriteDynamics(gen, v.body);
      const g = generateEq(gen, term);
      g.with = original.with;
      result.push(g);
      return lhs(g);
    }
  }
  return term;
}

function rewriteDynamicsInTerm(original: Expr, gen: LocalVarGen, term: Term, result: Body): Term {
  const v = term.value;
  switch (v.type) {
    case 'ref':
      for (let i = 1; i < v.value.length; i++) v.value[i] = rewriteDynamicsOne(original, gen, v.value[i], result);
      return term;
    case 'arraycomprehension':
    case 'setcomprehension':
    case 'objectcomprehension':
      v.body = rewriteDynamics(gen, v.body);
      return term;
    default:
      return rewriteDynamicsOne(original, gen, term, result);
  }
}

export function rewriteDynamics(gen: LocalVarGen, body: Body): Body {
  const result: Body = [];
  for (const expr of body) {
    if (isEquality(expr)) {
      const ts = expr.terms as Term[];
      ts[1] = rewriteDynamicsInTerm(expr, gen, ts[1], result);
      ts[2] = rewriteDynamicsInTerm(expr, gen, ts[2], result);
      result.push(expr);
    } else if (isCall(expr)) {
      const ts = expr.terms;
      for (let i = 1; i < ts.length; i++) ts[i] = rewriteDynamicsOne(expr, gen, ts[i], result);
      result.push(expr);
    } else if (isEvery(expr)) {
      expr.terms.domain = rewriteDynamicsOne(expr, gen, expr.terms.domain, result);
      expr.terms.body = rewriteDynamics(gen, expr.terms.body);
      result.push(expr);
    } else if (isTermExpr(expr)) {
      expr.terms = rewriteDynamicsInTerm(expr, gen, expr.terms, result);
      result.push(expr);
    } else result.push(expr);
  }
  reindexBody(result);
  return result;
}

export function rewriteDynamicTerms(c: CompileContext): void {
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let r: Rule | undefined = rule; r; r = r.else) r.body = rewriteDynamics(c.gen, r.body);
    }
  }
}
