// Checking stages of OPA's compiler: keyword overrides, duplicate imports, rule conflicts,
// undefined functions / arity, the dependency graph and recursion, deprecated builtins.
import type { Body, Expr, Module, RegoError, Rule, Term } from '../ast/types.js';
import {
  isAssignment,
  isCall,
  isEquality,
  isGround,
  refIsGround,
  locationString,
  operatorName,
  refToString,
  ruleKind,
  termToString,
  walkExprs,
  walkTerms,
} from '../ast/index.js';
import { BUILTINS, typeToString, wantString } from './builtins.js';
import { TypeChecker } from './typecheck.js';
import type { Graph } from './graph.js';
import { COMPILE_ERR, RECURSION_ERR, TYPE_ERR, error, type CompileContext } from './context.js';
import { importName, importString } from './resolve.js';
import { TreeNode, ruleRef } from './ruletree.js';

const rootDocs = new Set(['data', 'input']);

function isRootDocRefTerm(t: Term): string | undefined {
  const v = t.value;
  if (v.type === 'ref' && v.value.length === 1 && v.value[0].value.type === 'var' && rootDocs.has(v.value[0].value.value)) return v.value[0].value.value;
  return undefined;
}

/** OPA's checkRootDocumentOverrides (always on for v1 modules; queries in strict mode). */
export function checkRootDocumentOverrides(rules: Rule[], bodies: Body[]): RegoError[] {
  const errs: RegoError[] = [];
  for (const rule of rules) {
    const first = rule.head.reference[0];
    const name = first && first.value.type === 'var' ? first.value.value : rule.head.name;
    if (rootDocs.has(name)) errs.push(error(COMPILE_ERR, `rules must not shadow ${name} (use a different rule name)`, rule.location));
    for (const arg of rule.head.args ?? []) {
      const n = isRootDocRefTerm(arg);
      if (n) errs.push(error(COMPILE_ERR, `args must not shadow ${n} (use a different variable name)`, arg.location));
    }
  }
  const visit = (e: Expr) => {
    if (isAssignment(e) && isCall(e) && e.terms[1]) {
      const op = e.terms[1];
      const name = isRootDocRefTerm(op) ?? (op.value.type === 'var' ? op.value.value : termToString(op));
      if (rootDocs.has(name)) errs.push(error(COMPILE_ERR, `variables must not shadow ${name} (use a different variable name)`, e.location));
    }
  };
  for (const r of rules) walkExprs(r, visit);
  for (const b of bodies) walkExprs(b, visit);
  return errs;
}

export function checkKeywordOverrides(c: CompileContext): void {
  for (const { module } of c.sorted) {
    const rules: Rule[] = [];
    for (const rule of module.rules) for (let r: Rule | undefined = rule; r; r = r.else) rules.push(r);
    // WalkRules stops at the first rule of an else chain (the visitor returns true).
    c.err(...checkRootDocumentOverrides(module.rules, []));
    void rules;
  }
}

export function checkDuplicateImports(c: CompileContext): void {
  for (const { module } of c.sorted) {
    const seen = new Map<string, Module['imports'][number]>();
    for (const imp of module.imports) {
      const name = importName(imp);
      const prev = seen.get(name);
      if (prev) c.err(error(COMPILE_ERR, `import must not shadow ${importString(prev)}`, imp.location));
      else seen.set(name, imp);
    }
  }
}

// ------------------------------------------------------------------ rule conflicts


function rewriteVarsInRef(ref: Term[], rw: Map<string, string>): Term[] {
  const cpy = structuredClone(ref);
  for (const t of cpy) {
    walkTerms(t, (x) => {
      if (x.value.type === 'var') {
        const u = rw.get(x.value.value);
        if (u) x.value = { type: 'var', value: u };
      }
      return false;
    });
  }
  return cpy;
}

function packageString(m: Module): string {
  return `package ${refToString(m.package.path.slice(1).map((t, i) => (i === 0 && t.value.type === 'string' ? { ...t, value: { type: 'var' as const, value: t.value.value } } : t)))}`;
}

export function checkRuleConflicts(c: CompileContext): void {
  let stop = false;
  c.ruleTree.depthFirst((node) => {
    if (stop) return true;
    if (node.values.length === 0) return false;
    const kinds = new Set<string>();
    const arities = new Set<number>();
    let complete = 0;
    let partial = 0;
    let name = '';
    let conflicts: string[] | undefined;
    const defaults: Rule[] = [];
    for (const r of node.values) {
      const ref = ruleRef(r, c.moduleOf(r));
      name = refToString(rewriteVarsInRef(ref, c.rewrittenVars));
      kinds.add(ruleKind(r));
      arities.add(r.head.args?.length ?? 0);
      if (r.default) defaults.push(r);
      if (refIsGround(ref) && node.children.size > 0) conflicts = flattenChildren(c, node);
      if (ruleKind(r) === 'single' && refIsGround(ref)) complete++;
      else partial++;
    }
    const first = node.values[0];
    if (conflicts) {
      stop = !c.err(error(TYPE_ERR, `rule ${name} conflicts with [${conflicts.join(' ')}]`, first.location));
      return stop;
    }
    if (kinds.size > 1 || arities.size > 1 || (complete >= 1 && partial >= 1)) {
      stop = !c.err(error(TYPE_ERR, `conflicting rules ${name} found`, first.location));
      return stop;
    }
    if (defaults.length > 1) {
      const locs = defaults.map((d) => locationString(d.location)).join(', ');
      const pkgLoc = c.moduleOf(defaults[0])?.package.location;
      stop = !c.err(error(TYPE_ERR, `multiple default rules ${name} found at ${locs}`, pkgLoc));
      return stop;
    }
    return false;
  });
  if (stop) return;
  // A package path equal to a rule's (ground) path in another module.
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      const ref = ruleRef(rule, module);
      if (!refIsGround(ref)) continue;
      const key = JSON.stringify(ref.map((t) => stripVal(t)));
      for (const { module: other } of c.sorted) {
        if (other === module) continue;
        if (JSON.stringify(other.package.path.map((t) => stripVal(t))) === key) {
          if (
            !c.err(
              error(
                TYPE_ERR,
                `${packageString(other)} conflicts with rule ${refToString(rule.head.reference)} defined at ${locationString(rule.location)}`,
                module.package.location,
              ),
            )
          )
            return;
        }
      }
    }
  }
}

function stripVal(t: Term): unknown {
  const v = t.value;
  return v.type === 'var' || v.type === 'string' ? v.value : JSON.stringify(v);
}

function flattenChildren(c: CompileContext, node: TreeNode): string[] {
  const refs: Term[][] = [];
  for (const sub of node.sortedChildren()) {
    sub.depthFirst((x) => {
      for (const r of x.values) {
        const ref = ruleRef(r, c.moduleOf(r));
        // AddPrefix: keep only the shortest refs.
        if (refs.some((p) => isPrefix(p, ref))) continue;
        for (let i = refs.length - 1; i >= 0; i--) if (isPrefix(ref, refs[i])) refs.splice(i, 1);
        refs.push(ref);
      }
      return false;
    });
  }
  return refs.map(refToString).sort();
}

function isPrefix(p: Term[], ref: Term[]): boolean {
  if (p.length > ref.length) return false;
  return p.every((t, i) => JSON.stringify(stripVal(t)) === JSON.stringify(stripVal(ref[i])));
}

// ------------------------------------------------------------------ undefined functions

export function checkUndefinedFuncs(c: CompileContext, x: Rule | Body, rewritten: Map<string, string>): RegoError[] {
  const errs: RegoError[] = [];
  walkExprs(x as Body, (expr) => {
    if (!isCall(expr)) return false;
    const op = expr.terms[0];
    if (op.value.type !== 'ref') return false;
    const ref = op.value.value;
    const arity = c.getArity(ref);
    const nOperands = expr.terms.length - 1;
    const name = refToString(rewriteVarsInRef(ref, rewritten));
    if (arity >= 0) {
      if (expr.generated) {
        if (!isEquality(expr) && nOperands !== arity + 1) {
          errs.push(arityMismatch(name, expr, arity, nOperands - 1));
          return true;
        }
      } else if (nOperands !== arity && nOperands !== arity + 1) {
        errs.push(arityMismatch(name, expr, arity, nOperands));
        return true;
      }
      return false;
    }
    errs.push(error(TYPE_ERR, `undefined function ${name}`, expr.location));
    return true;
  });
  return errs;
}

function arityMismatch(name: string, expr: Expr, exp: number, act: number): RegoError {
  const bi = BUILTINS.get(name);
  if (bi) {
    // OPA types the operands in the builtins-only environment: literals have their types, vars none.
    const env = TypeChecker.rootEnv();
    const have = (expr.terms as Term[]).slice(1).map((t) => typeToString(env.getByValue(t.value)));
    const e = error(TYPE_ERR, `${name}: arity mismatch`, expr.location);
    e.details = { have: `(${have.join(', ')})`, want: wantString(bi) };
    e.message += `\n\thave: (${have.join(', ')})\n\twant: ${wantString(bi)}`;
    return e;
  }
  return error(TYPE_ERR, `function ${name} has arity ${exp}, got ${act} argument${act !== 1 ? 's' : ''}`, expr.location);
}

// ------------------------------------------------------------------ recursion

export function checkRecursion(c: CompileContext, g: Graph): void {
  const name = (r: Rule) => refToString(ruleRef(r, c.moduleOf(r)));
  let stop = false;
  c.ruleTree.depthFirst((node) => {
    if (stop) return true;
    for (const rule of node.values) {
      for (let n: Rule | undefined = rule; n; n = n.else) {
        const path = dfsPath(g, n, n);
        if (path.length > 0) {
          if (!c.err(error(RECURSION_ERR, `rule ${name(n)} is recursive: ${path.map(name).join(' -> ')}`, n.location))) {
            stop = true;
            return true;
          }
        }
      }
    }
    return false;
  });
}

function dfsPath(g: Graph, a: Rule, z: Rule): Rule[] {
  const visited = new Set<Rule>();
  const rec = (u: Rule, path: Rule[]): Rule[] => {
    if (visited.has(u)) return path;
    visited.add(u);
    for (const v of g.deps(u)) {
      if (v === z) return [...path, z, u];
      const p = rec(v, path);
      if (p.length > 0) return [...p, u];
    }
    return path;
  };
  return rec(a, []).reverse();
}

// ------------------------------------------------------------------ deprecated builtins

export function checkDeprecatedBuiltins(x: Rule | Body): RegoError[] {
  const errs: RegoError[] = [];
  walkExprs(x as Body, (e) => {
    if (isCall(e)) {
      const op = operatorName(e);
      if (op && BUILTINS.get(op)?.deprecated) errs.push(error(TYPE_ERR, `deprecated built-in function calls in expression: ${op}`, e.location));
    }
    return false;
  });
  return errs;
}
