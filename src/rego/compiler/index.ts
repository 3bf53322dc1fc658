// The Rego compiler stage: parsed modules and queries in, modules and queries out exactly as
// OPA's compiler (v1/ast/compile.go, EvalModeIR) leaves them for OPA's planner. Stages run in
// OPA's order and compilation stops after the first stage that reports errors.
import type { Body, Module, RegoError, Rule, Term } from '../ast/types.js';
import {
  RESERVED_VARS,
  SAFETY_PARAMS,
  isGenerated,
  isWildcard,
  refToString,
  varsOf,
  walkExprs,
  clone,
  isCall,
  operatorName,
  ruleKind,
} from '../ast/index.js';
import { isStackOverflow } from '../deep-stack.js';
import { BUILTINS } from './builtins.js';
import {
  checkDeprecatedBuiltins,
  checkDuplicateImports,
  checkKeywordOverrides,
  checkRecursion,
  checkRootDocumentOverrides,
  checkRuleConflicts,
  checkUndefinedFuncs,
} from './checks.js';
import { buildGraph, type Graph } from './graph.js';
import { COMPILE_ERR, CompileContext, ERROR_LIMIT, LocalVarGen, error } from './context.js';
import { headMayHaveVars, rewriteLocalVars, rewriteQueryLocalVars } from './localvars.js';
import { normalizeRootDocs } from './normalize.js';
import { resolveAllRefs, resolveQuery } from './resolve.js';
import {
  checkVoidCalls,
  erasePrintCalls,
  erasePrintCallsInBody,
  rewritePrintCalls,
  rewritePrintCallsInBody,
  rewriteComprehensionTerms,
  rewriteComprehensionTermsIn,
  rewriteDynamicTerms,
  rewriteDynamics,
  rewriteEquals,
  rewriteExprTerms,
  rewriteExprTermsInBody,
  rewriteQueryTemplateStrings,
  rewriteRefsInHead,
  rewriteRuleHeadRefs,
  rewriteTemplateStrings,
  rewriteWithModifiers,
  rewriteWithModifiersInBody,
  transformBodies,
} from './rewrites.js';
import { TreeNode, buildRuleTree, groundPrefix, ruleRef } from './ruletree.js';
import { checkSafetyRuleBodies, checkSafetyRuleHeads, reorderBodyForSafety, safetyErrors } from './safety.js';
import { checkTypes, checkQueryTypes } from './typecheck.js';
import { type ModuleStageName, type QueryStageName, type StageHooks } from './stages.js';
import type { CompileInput, CompileOutput, CompiledPolicy, CompiledQuery, RuleSet } from './types.js';

export type { CompileInput, CompileOutput, CompiledPolicy, CompiledQuery, RuleSet } from './types.js';
export { MODULE_STAGES, QUERY_STAGES, type ModuleStageName, type QueryStageName, type StageHooks } from './stages.js';
export { BUILTINS, lookupBuiltin, builtinArity } from './builtins.js';

type Stage = [name: ModuleStageName, run: (c: CompileContext) => void];

function moduleStages(graph: { g?: Graph }, print: boolean): Stage[] {
  return [
    ['ResolveRefs', resolveAllRefs],
    ['InitLocalVarGen', (c) => (c.gen = new LocalVarGen(moduleVars(c)))],
    ['RewriteRuleHeadRefs', rewriteRuleHeadRefs],
    ['CheckKeywordOverrides', checkKeywordOverrides],
    ['CheckDuplicateImports', checkDuplicateImports],
    ['RemoveImports', () => {}], // imports stay on the module for tooling; nothing after this reads them
    ['SetRuleTree', (c) => (c.ruleTree = buildRuleTree(c.sorted.map((m) => m.module), c.ruleModule))],
    ['RewriteLocalVars', rewriteLocalVars],
    ['RewriteTemplateStrings', rewriteTemplateStrings],
    ['CheckVoidCalls', (c) => c.sorted.forEach(({ module }) => module.rules.forEach((r) => c.err(...checkVoidCalls(r))))],
    ['RewritePrintCalls', print ? rewritePrintCalls : erasePrintCalls],
    ['RewriteExprTerms', rewriteExprTerms],
    ['SetGraph', (c) => (graph.g = buildGraph(c))],
    ['RewriteComprehensionTerms', rewriteComprehensionTerms],
    ['RewriteRefsInHead', rewriteRefsInHead],
    ['RewriteWithValues', rewriteWithModifiers],
    ['CheckRuleConflicts', checkRuleConflicts],
    ['CheckUndefinedFuncs', (c) => c.sorted.forEach(({ module }) => module.rules.forEach((r) => c.err(...checkUndefinedFuncs(c, r, c.rewrittenVars))))],
    ['CheckSafetyRuleHeads', (c) => checkSafetyRuleHeads(c, headMayHaveVars)],
    ['CheckSafetyRuleBodies', checkSafetyRuleBodies],
    ['RewriteEquals', (c) => c.sorted.forEach(({ module }) => module.rules.forEach((r) => rewriteEquals(r)))],
    ['RewriteDynamicTerms', rewriteDynamicTerms],
    ['CheckRecursion', (c) => checkRecursion(c, graph.g!)],
    ['CheckTypes', (c) => checkTypes(c, graph.g!)],
    ['CheckDeprecatedBuiltins', (c) => c.sorted.forEach(({ module }) => module.rules.forEach((r) => c.err(...checkDeprecatedBuiltins(r))))],
  ];
}

function moduleVars(c: CompileContext): Set<string> {
  const vars = new Set<string>();
  for (const { module } of c.sorted) {
    varsOf(module.package.path, {}, vars);
    for (const imp of module.imports) {
      varsOf(imp.path, {}, vars);
      if (imp.alias) vars.add(imp.alias);
    }
    for (const rule of module.rules) varsOf(rule, {}, vars);
  }
  return vars;
}

function allBranches(r: Rule): Rule[] {
  const out: Rule[] = [];
  for (let x: Rule | undefined = r; x; x = x.else) out.push(x);
  return out;
}

/**
 * Compiles modules, then each query against them (OPA's Compiler + QueryCompiler). Errors come
 * back as `errors`; only a JavaScript stack overflow is thrown.
 */
export function compileModules(input: CompileInput): CompileOutput {
  const c = new CompileContext(!!input.strict);
  c.schemas = input.schemas;
  try {
    return compileInner(c, input);
  } catch (err) {
    // A JavaScript stack overflow (input nested deeper than this thread's stack) is the
    // caller's to retry on a deeper stack (deep-stack.ts).
    if (isStackOverflow(err)) throw err;
    // Fail closed: an internal error is a compile error, never a crash of the host.
    const msg = err instanceof Error ? err.message : String(err);
    return { errors: [...c.errors, error(COMPILE_ERR, `internal compiler error: ${msg}`)] };
  }
}

function compileInner(c: CompileContext, input: CompileInput): CompileOutput {
  const inputOrder = input.modules.map((m) => ({ file: m.file, module: normalizeRootDocs(clone(m.module)) }));
  c.sorted = [...inputOrder].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const { module } of c.sorted) for (const rule of module.rules) for (const r of allBranches(rule)) c.ruleModule.set(r, module);

  const graph: { g?: Graph } = {};
  const hooks = input.stages;
  for (const [stage, run] of moduleStages(graph, !!input.enablePrintStatements)) {
    run(c);
    if (!c.failed() && hooks?.afterModuleStage) c.err(...(hooks.afterModuleStage(stage, c.sorted) ?? []));
    if (c.failed()) return { errors: c.errors };
  }

  const queries: CompiledQuery[] = [];
  for (const q of input.queries) {
    const r = compileQuery(c, q.name, normalizeRootDocs(clone(q.body)), hooks, !!input.enablePrintStatements);
    if (r.errors.length > 0) return { errors: r.errors };
    queries.push(r.query!);
  }

  const policy: CompiledPolicy = {
    modules: inputOrder.map((m) => m.module),
    queries,
    ruleSets: collectRuleSets(c),
    builtins: collectBuiltins(inputOrder.map((m) => m.module), queries.map((q) => q.body)),
    rewrittenVars: c.rewrittenVars,
    ruleTree: c.ruleTree,
    ruleModule: c.ruleModule,
  };
  return { policy, errors: [] };
}

/** The query compiler's state between stages (OPA's queryCompiler and its QueryContext). */
interface QueryState {
  c: CompileContext;
  body: Body;
  /** generated var -> user var, set by RewriteLocalVars (OPA's queryCompiler.RewrittenVars) */
  rewritten: Map<string, string>;
  /** print() calls are rewritten (not erased). */
  print: boolean;
}

type QueryStage = [name: QueryStageName, run: (q: QueryState) => RegoError[] | void];

/** OPA's queryCompiler.Compile stages, in its order (v1/ast/compile.go). */
const QUERY_STAGE_LIST: QueryStage[] = [
  ['CheckKeywordOverrides', (q) => (q.c.strict ? checkRootDocumentOverrides([], [q.body]) : [])],
  ['ResolveRefs', (q) => void (q.body = resolveQuery(q.body))],
  ['RewriteLocalVars', (q) => {
    const lv = rewriteQueryLocalVars(LocalVarGen.forNode(q.body, 'q'), q.body, q.c.strict);
    if (lv.errors.length) return lv.errors;
    q.body = lv.body;
    q.rewritten = lv.rewritten;
  }],
  ['RewriteTemplateStrings', (q) => rewriteQueryTemplateStrings(LocalVarGen.forNode(q.body, 'q'), q.c.getArity, q.rewritten, q.body)],
  ['CheckVoidCalls', (q) => checkVoidCalls(q.body)],
  ['RewritePrintCalls', (q) => {
    if (!q.print) return void (q.body = erasePrintCallsInBody(q.body));
    return rewritePrintCallsInBody(LocalVarGen.forNode(q.body, 'q'), q.c.getArity, new Set(RESERVED_VARS), q.body);
  }],
  ['RewriteExprTerms', (q) => void (q.body = rewriteExprTermsInBody(LocalVarGen.forNode(q.body, 'q'), q.body))],
  ['RewriteComprehensionTerms', (q) => void rewriteComprehensionTermsIn(LocalVarGen.forNode(q.body, 'q'), q.body)],
  ['RewriteWithValues', (q) => {
    const gen = LocalVarGen.forNode(q.body, 'q');
    let werr: RegoError | undefined;
    q.body = transformBodies(q.body, (b) => {
      const r = rewriteWithModifiersInBody(q.c, gen, b);
      if (r.err && !werr) werr = r.err;
      return r.body;
    })!;
    return werr ? [werr] : [];
  }],
  ['CheckUndefinedFuncs', (q) => checkUndefinedFuncs(q.c, q.body, q.rewritten)],
  ['CheckSafety', (q) => {
    const reordered = reorderBodyForSafety(q.c.getArity, new Set(RESERVED_VARS), q.body);
    const e = safetyErrors(reordered.unsafe, q.rewritten);
    if (e.length) return e;
    q.body = reordered.body;
  }],
  ['RewriteDynamicTerms', (q) => void (q.body = rewriteDynamics(LocalVarGen.forNode(q.body, 'q'), q.body))],
  ['CheckTypes', (q) => checkQueryTypes(q.c, q.body, q.rewritten)],
  ['CheckDeprecatedBuiltins', (q) => (q.c.strict ? checkDeprecatedBuiltins(q.body) : [])],
];

function compileQuery(c: CompileContext, name: string, body: Body, hooks: StageHooks | undefined, print = false): { query?: CompiledQuery; errors: RegoError[] } {
  if (body.length === 0) return { errors: [error(COMPILE_ERR, 'empty query cannot be compiled')] };
  const fail = (errors: RegoError[]) => ({ errors: errors.slice(0, ERROR_LIMIT) });
  const q: QueryState = { c, body, rewritten: new Map(), print };
  for (const [stage, run] of QUERY_STAGE_LIST) {
    const e = run(q);
    if (e && e.length) return fail(e);
    if (hooks?.afterQueryStage) {
      const view = { name, body: q.body };
      const he = hooks.afterQueryStage(stage, view);
      if (he && he.length) return fail(he);
      q.body = view.body;
    }
  }
  const bindings: CompiledQuery['bindings'] = [];
  for (const v of [...varsOf(q.body, SAFETY_PARAMS)].filter((x) => !RESERVED_VARS.has(x)).sort()) {
    const rw = q.rewritten.get(v) ?? v;
    if (!isGenerated(rw) && !isWildcard(rw)) bindings.push({ name: rw, var: v });
  }
  return { query: { name, body: q.body, bindings, rewrittenVars: q.rewritten }, errors: [] };
}

function collectRuleSets(c: CompileContext): Map<string, RuleSet> {
  const sets = new Map<string, RuleSet>();
  c.ruleTree.depthFirst((node: TreeNode) => {
    if (node.values.length === 0) return false;
    const first = node.values[0];
    const full = ruleRef(first, c.moduleOf(first));
    const prefix = groundPrefix(full);
    const path = prefix.slice(1).map((t) => (t.value.type === 'string' ? t.value.value : refToString([t])));
    const kind: RuleSet['kind'] = (first.head.args?.length ?? 0) > 0 ? 'function' : ruleKind(first) === 'multi' ? 'multi' : 'single';
    sets.set(path.join('.'), { path, rules: node.values, kind });
    return false;
  });
  return sets;
}

function collectBuiltins(modules: Module[], queries: Body[]): Map<string, { arity: number }> {
  const out = new Map<string, { arity: number }>();
  const visit = (b: Body | Rule) =>
    walkExprs(b as Body, (e) => {
      if (isCall(e)) {
        const n = operatorName(e);
        const bi = n ? BUILTINS.get(n) : undefined;
        if (bi && n) out.set(n, { arity: bi.args.length });
      }
      return false;
    });
  for (const m of modules) for (const r of m.rules) visit(r);
  for (const q of queries) visit(q);
  // Calls nested in terms (e.g. internal.template_string inside a comprehension term) are flattened
  // into expressions by RewriteExprTerms, so expression operators cover every builtin called.
  return out;
}

export type { Term };
