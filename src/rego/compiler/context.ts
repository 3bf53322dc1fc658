// Shared compiler state (OPA's Compiler struct, reduced to what the stages use).
import type { Body, Location, Module, RegoError, Rule, Term } from '../ast/types.js';
import { builtinArity } from './builtins.js';
import { refToString, varsOf } from '../ast/index.js';
import type { TreeNode } from './ruletree.js';
import type { TypeEnv } from './typeenv.js';
import type { SchemaOptions } from './types.js';

/** OPA's localVarGenerator: `__local<N>__` (or `__localq<N>__` for queries), skipping names in use. */
export class LocalVarGen {
  private next = 0;
  constructor(
    private readonly exclude: Set<string>,
    private readonly prefix = '__local',
  ) {}
  generate(): string {
    for (;;) {
      const name = `${this.prefix}${this.next++}__`;
      if (!this.exclude.has(name)) return name;
    }
  }
  static forNode(node: Parameters<typeof varsOf>[0], suffix = ''): LocalVarGen {
    return new LocalVarGen(varsOf(node), '__local' + suffix);
  }
}

export const ERROR_LIMIT = 10;

export class CompileContext {
  errors: RegoError[] = [];
  /** generated var -> user var, for all rewritten locals (OPA's RewrittenVars). */
  rewrittenVars = new Map<string, string>();
  /** Modules sorted by file name, as OPA's `c.sorted` processes them. */
  sorted: Array<{ file: string; module: Module }> = [];
  /** rule (and each else branch) -> its module. */
  ruleModule = new Map<Rule, Module>();
  gen!: LocalVarGen;
  ruleTree!: TreeNode;
  limitReached = false;
  /** Types of rules after CheckTypes (OPA's Compiler.TypeEnv), for checking queries. */
  typeEnv?: TypeEnv;

  /** Schemas for the type checker (CompileInput.schemas). */
  schemas?: SchemaOptions;

  constructor(readonly strict: boolean) {}

  /** Adds errors; returns false once the error limit (10) is reached, like OPA's c.err. */
  err(...errs: RegoError[]): boolean {
    for (const e of errs) {
      if (this.limitReached) return false;
      this.errors.push(e);
      if (this.errors.length === ERROR_LIMIT) {
        this.errors.push({ code: 'rego_compile_error', message: 'error limit reached' });
        this.limitReached = true;
        return false;
      }
    }
    return true;
  }

  failed(): boolean {
    return this.errors.length > 0;
  }

  /** OPA's GetArity: builtins by name, else the rule set at `ref` (its args count); -1 if unknown. */
  getArity = (ref: Term[]): number => {
    const name = refToString(ref);
    const a = builtinArity(name);
    if (a >= 0) return a;
    const rules = this.getRulesExact(ref);
    if (!rules || rules.length === 0) return -1;
    return rules[0].head.args?.length ?? 0;
  };

  getRulesExact(ref: Term[]): Rule[] | undefined {
    let node: TreeNode | undefined = this.ruleTree;
    if (!node) return undefined;
    for (const t of ref) {
      node = node.child(t.value);
      if (!node) return undefined;
    }
    return node.values;
  }

  moduleOf(rule: Rule): Module | undefined {
    return this.ruleModule.get(rule);
  }
}

export function error(code: string, message: string, location?: Location): RegoError {
  const e: RegoError = { code, message };
  if (location) e.location = location;
  return e;
}

export const COMPILE_ERR = 'rego_compile_error';
export const TYPE_ERR = 'rego_type_error';
export const UNSAFE_VAR_ERR = 'rego_unsafe_var_error';
export const RECURSION_ERR = 'rego_recursion_error';

export type { Body };
