// The contract between the compiler (src/rego/compiler) and the planner (src/rego/planner).
//
// The compiler takes parsed modules and queries and leaves them exactly as OPA's
// compiler (v1/ast/compile.go, stages in OPA's order, EvalModeIR) and QueryCompiler leave
// them for OPA's planner (internal/planner/planner.go), so the planner can follow OPA line by line:
//  - refs resolved: package-relative and imported names become full `data.…` / `input.…`
//    refs; `data` and `input` on their own are refs of length 1 (as OPA's parser makes them);
//    builtin operators are refs to their OPA names (`plus`, `eq`, `internal.member_2`, ...);
//  - local variables renamed to unique generated names (`__local0__`, queries: `__localq0__`),
//    with maps back to the user's names (`rewrittenVars`);
//  - `:=` rewritten to `=` (operator ref `eq`); `some x` declarations removed; `some x in xs`
//    became `x = xs[__localN__]`; `==` in module bodies became `=` (OPA's RewriteEquals; not
//    in queries);
//  - nested calls flattened (`f(g(x))` -> `g(x, __local1__); f(__local1__)`): every call
//    expression has its output as an extra last operand when used as a value; comprehension
//    terms, rule head keys/values/args, `with` values and ref heads that need evaluation are
//    bound to generated vars in the body; refs in call arguments are bound first
//    (RewriteDynamicTerms: `count(data.x)` -> `__local2__ = data.x; count(__local2__)`);
//  - `every k, v in xs { body }`: key always present (a generated var when omitted), domain
//    always a var bound by a preceding generated `=` expression;
//  - template strings `$"..{x}.."` became `internal.template_string([<string or
//    {__localN__ | __localN__ = x}>, ...])` calls; `print(...)` calls are erased (OPA's
//    default without --enable-print);
//  - bodies reordered for safety; unsafe vars, type/arity errors, recursion and conflicts
//    reported with OPA's codes and messages.
// Expressions keep `location`; generated ones carry the location of the term they came from
// and `generated: true`. Expression `index` fields are renumbered to their body position.
import type { Body, Module, RegoError, Rule, Term } from '../ast/types.js';
import type { StageHooks } from './stages.js';
import type { TreeNode } from './ruletree.js';

export interface CompileInput {
  /** Parsed modules with the file name used in error locations. Processed in file-name order (as OPA). */
  modules: Array<{ file: string; module: Module }>;
  /** Parsed queries to plan (e.g. `data.test.p = x`), each becoming one plan (entrypoint). */
  queries: Array<{ name: string; body: Body }>;
  /** Strict mode (OPA's `--strict`): unused vars/imports/args, deprecated builtins in queries, shadowing. */
  strict?: boolean;
  /** Code to run after named compiler stages (stages.ts). */
  stages?: StageHooks;
  /** OPA's WithEnablePrintStatements: print() calls become `internal.print` calls instead of being erased. */
  enablePrintStatements?: boolean;
  /** Schemas for type checking (OPA's WithSchemas and METADATA `schemas:` annotations). */
  schemas?: SchemaOptions;
}

/** JSON Schemas the type checker uses (schema.ts converts them to types). */
export interface SchemaOptions {
  /**
   * OPA's SchemaSet: a schema by its path below `schema` (`input` for `schema.input`, `a.b` for
   * `schema.a.b`). `input` types `input` in every rule and query (OPA's -s); the others are
   * what `# METADATA` `schemas: [{input: schema.a.b}]` annotations refer to.
   */
  set?: Record<string, unknown>;
  /** Finds schema documents that `$ref`s point to, by absolute URI ($id or file: URL). */
  resolve?: (uri: string) => unknown;
  /** Base URI of each schema in `set` (for relative `$ref`s), by the same key. */
  bases?: Record<string, string>;
  /**
   * Schemas for `input` in the rules of a package and its subpackages (`sip` for data.sip...),
   * as if that package carried a `subpackages` annotation; applied before the rules' own annotations.
   */
  packages?: Array<{ package: string; input: unknown; base?: string }>;
}

export interface CompiledQuery {
  name: string;
  /** Rewritten and reordered query body (OPA's QueryCompiler output). */
  body: Body;
  /**
   * The result-set bindings OPA's planner emits, sorted by var: for each var of `body`
   * (VarVisitor{SkipRefCallHead, SkipClosures}, minus `data`/`input`) whose user-facing
   * name is neither generated nor a wildcard: `name` is the key in each result object,
   * `var` the variable in `body` holding the value. `x := 1` gives {name: 'x', var: '__localq0__'};
   * `data.test.p = x` gives {name: 'x', var: 'x'}.
   */
  bindings: Array<{ name: string; var: string }>;
  /** generated var -> user var for this query (OPA's QueryCompiler.RewrittenVars()). */
  rewrittenVars: Map<string, string>;
}

/** All rules that define one document path (a node of OPA's rule tree with rules). */
export interface RuleSet {
  /**
   * Path from data, as strings, of the ground prefix of the rules' refs: ['test', 'p'] for
   * `package test; p := 1`; for `a.b[x] := 1` in package test: ['test', 'a', 'b'].
   */
  path: string[];
  /**
   * Rules in OPA's order (modules by file name, then source order); each may carry its `else`
   * chain; the default rule is included (`rule.default`). For general ref heads this node's
   * rules only (rules deeper in the extent are in their own sets).
   */
  rules: Rule[];
  /** 'function' if the rules have args; 'multi' for `contains` rules; else 'single'. */
  kind: 'single' | 'multi' | 'function';
}

export interface CompiledPolicy {
  /** Rewritten modules, in input order. Imports are left in place but no longer needed. */
  modules: Module[];
  queries: CompiledQuery[];
  /** Rule sets by dotted ground path from data (e.g. 'test.p'). */
  ruleSets: Map<string, RuleSet>;
  /** Builtins called by the policy and queries (expression operators), by OPA name, with arity. */
  builtins: Map<string, { arity: number }>;
  /** generated var -> user var for module rules (OPA's Compiler.RewrittenVars). */
  rewrittenVars: Map<string, string>;
  /** OPA's rule tree (TreeNode): children keyed by term value, `values` the rules at a node. */
  ruleTree: TreeNode;
  /** Module of each rule and else branch (OPA's rule.Module), for `ruleRef(rule, module)`. */
  ruleModule: Map<Rule, Module>;
}

export interface CompileOutput {
  policy?: CompiledPolicy; // absent when there are errors
  errors: RegoError[];
}

export type { Body, Module, Rule, Term };
