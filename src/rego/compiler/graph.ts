// The rule dependency graph (OPA's Compiler.Graph): an edge from a rule to every rule its
// body, head or else-branches refer to (through the rule tree, dynamic refs included). The
// recursion check (checks.ts) and the type checker (typecheck.ts) both read it.
import type { Rule } from '../ast/types.js';
import { walkTerms } from '../ast/index.js';
import type { CompileContext } from './context.js';
import { rulesDynamic } from './ruletree.js';

export class Graph {
  adj = new Map<Rule, Set<Rule>>();
  nodes = new Set<Rule>();
  addNode(r: Rule) {
    this.nodes.add(r);
  }
  addDependency(u: Rule, v: Rule) {
    this.addNode(u);
    this.addNode(v);
    const s = this.adj.get(u) ?? new Set<Rule>();
    s.add(v);
    this.adj.set(u, s);
  }
  deps(r: Rule): Rule[] {
    return [...(this.adj.get(r) ?? [])];
  }
  /** Dependencies first (OPA's Graph.Sort); undefined on a cycle. */
  sort(): Rule[] | undefined {
    const sorted: Rule[] = [];
    const marked = new Set<Rule>();
    const temp = new Set<Rule>();
    const visit = (n: Rule): boolean => {
      if (temp.has(n)) return false;
      if (marked.has(n)) return true;
      temp.add(n);
      for (const d of this.deps(n)) if (!visit(d)) return false;
      marked.add(n);
      temp.delete(n);
      sorted.push(n);
      return true;
    };
    for (const n of this.nodes) if (!visit(n)) return undefined;
    return sorted;
  }
}

export function buildGraph(c: CompileContext): Graph {
  const g = new Graph();
  for (const { module } of c.sorted) {
    for (const rule of module.rules) {
      for (let a: Rule | undefined = rule; a; a = a.else) {
        g.addNode(a);
        const only: Rule = { ...a, else: undefined };
        walkTerms(only, (t) => {
          if (t.value.type === 'ref') {
            for (const b of rulesDynamic(c.ruleTree, t.value.value)) for (let n: Rule | undefined = b; n; n = n.else) g.addDependency(a, n);
          }
          return false;
        });
      }
    }
  }
  return g;
}
