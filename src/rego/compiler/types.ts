// The contract between the compiler (src/rego/compiler) and the planner (src/rego/planner).
//
// The compiler takes parsed modules and queries and leaves them exactly as OPA's
// compiler (v1/ast/compile.go) leaves them for OPA's planner (internal/planner):
//  - refs resolved: package-relative and imported names become full `data.…` / `input.…` refs;
//    builtin operators are refs to their OPA names (`plus`, `eq`, `internal.member_2`, ...);
//  - local variables renamed to unique generated names (`__local0__`, ...), with a map back
//    to the user's names (needed for query bindings and error messages);
//  - `:=` checked and rewritten to `=` (eq) on fresh vars; `some` declarations consumed;
//  - nested calls and composite terms with calls flattened into preceding expressions
//    (`f(g(x))` becomes `g(x, __local1__); f(__local1__)`), as OPA's rewriteExprTerms does;
//  - comprehensions, `every`, `with`, `else` and string templates rewritten as OPA does;
//  - bodies reordered for safety; unsafe vars, type/arity errors, recursion and conflicts
//    reported with OPA's codes and messages.
import type { Body, Module, RegoError, Rule, Term } from '../ast/types.js';

export interface CompileInput {
  modules: Array<{ file: string; module: Module }>;
  /** Queries to plan, each becoming one plan (entrypoint) of the WASM module. */
  queries: Array<{ name: string; body: Body }>;
  /** Strict mode (OPA's `--strict`): unused vars/imports, deprecated builtins, etc. are errors. */
  strict?: boolean;
}

export interface CompiledQuery {
  name: string;
  body: Body; // rewritten and reordered
  /** Output bindings in result order: user-visible variable name -> generated var name in `body`. */
  bindings: Array<{ name: string; var: string }>;
}

/** All rules that define one document path (a node of OPA's rule tree). */
export interface RuleSet {
  /** Ground path from data, e.g. ['test', 'p']; for ref heads with vars, the ground prefix. */
  path: string[];
  rules: Rule[]; // in source order, each with its `else` chain; default rule included
  kind: 'single' | 'multi' | 'function';
  /** Rules of this set whose head reference continues past `path` with variables (ref heads). */
}

export interface CompiledPolicy {
  modules: Module[]; // rewritten modules, in input order
  queries: CompiledQuery[];
  /** Rule sets by dotted path from data (e.g. 'test.p'); only sets reachable from the queries need planning. */
  ruleSets: Map<string, RuleSet>;
  /** Builtins the policy and queries call, by OPA name, with arity. */
  builtins: Map<string, { arity: number }>;
}

export interface CompileOutput {
  policy?: CompiledPolicy; // absent when there are errors
  errors: RegoError[];
}

export type { Body, Module, Rule, Term };
