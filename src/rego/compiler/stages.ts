// The compiler's named stages (OPA's Compiler and QueryCompiler stage lists, v1/ast/compile.go)
// and the hooks that let tools run after any of them (OPA's WithStageAfter): tracing,
// explain-style output, extra checks.
import type { Body, Module, RegoError } from '../ast/types.js';

/** The module compiler's stages, in the order they run. */
export const MODULE_STAGES = [
  'ResolveRefs',
  'InitLocalVarGen',
  'RewriteRuleHeadRefs',
  'CheckKeywordOverrides',
  'CheckDuplicateImports',
  'RemoveImports',
  'SetRuleTree',
  'RewriteLocalVars',
  'RewriteTemplateStrings',
  'CheckVoidCalls',
  'RewritePrintCalls',
  'RewriteExprTerms',
  'SetGraph',
  'RewriteComprehensionTerms',
  'RewriteRefsInHead',
  'RewriteWithValues',
  'CheckRuleConflicts',
  'CheckUndefinedFuncs',
  'CheckSafetyRuleHeads',
  'CheckSafetyRuleBodies',
  'RewriteEquals',
  'RewriteDynamicTerms',
  'CheckRecursion',
  'CheckTypes',
  'CheckDeprecatedBuiltins',
] as const;

/** The query compiler's stages, in the order they run. */
export const QUERY_STAGES = [
  'CheckKeywordOverrides',
  'ResolveRefs',
  'RewriteLocalVars',
  'RewriteTemplateStrings',
  'CheckVoidCalls',
  'RewritePrintCalls',
  'RewriteExprTerms',
  'RewriteComprehensionTerms',
  'RewriteWithValues',
  'CheckUndefinedFuncs',
  'CheckSafety',
  'RewriteDynamicTerms',
  'CheckTypes',
  'CheckDeprecatedBuiltins',
] as const;

export type ModuleStageName = (typeof MODULE_STAGES)[number];
export type QueryStageName = (typeof QUERY_STAGES)[number];

/**
 * Code run after compiler stages. Each hook runs after every stage that succeeded; errors it
 * returns stop the compilation like the stage's own errors would.
 */
export interface StageHooks {
  /**
   * After a module-compiler stage, with the modules as the stage left them (sorted by file
   * name, the order OPA's compiler processes them). The modules may be changed in place.
   */
  afterModuleStage?(stage: ModuleStageName, modules: ReadonlyArray<{ file: string; module: Module }>): RegoError[] | void;
  /** After a query-compiler stage, with the query as the stage left it; assigning `query.body` replaces it. */
  afterQueryStage?(stage: QueryStageName, query: { name: string; body: Body }): RegoError[] | void;
}
