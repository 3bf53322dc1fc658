// OPA's rule tree (compile.go TreeNode / NewRuleTree): rules indexed by the ground prefix
// of their full ref (`data.<package>.<head ref>`), plus the helpers that query it.
import type { Module, Rule, Term, Value } from '../ast/types.js';
import { isConstant, isGround, stringTerm, stripLocations, compareValues } from '../ast/index.js';

/** A map key for a value: equal keys for equal values (locations ignored). */
export function valueKey(v: Value): string {
  // strings and vars (nearly every ref part) without a JSON round trip; other values as JSON,
  // which starts with `{`, so the two forms never meet
  if (v.type === 'string') return `s${v.value}`;
  if (v.type === 'var') return `v${v.value}`;
  return JSON.stringify(stripLocations(v));
}

export class TreeNode {
  values: Rule[] = [];
  children = new Map<string, TreeNode>();
  hide = false;
  constructor(readonly key: Value | undefined) {}

  child(k: Value): TreeNode | undefined {
    if (k.type === 'ref' || k.type === 'call') return undefined;
    return this.children.get(valueKey(k));
  }

  /** Children in OPA's sorted order (by key value). */
  sortedChildren(): TreeNode[] {
    return [...this.children.values()].sort((a, b) => compareValues(a.key!, b.key!));
  }

  find(ref: Term[]): { node: TreeNode; tail: Term[] } {
    let node: TreeNode = this;
    for (let i = 0; i < ref.length; i++) {
      const next = node.child(ref[i].value);
      if (!next) return { node, tail: ref.slice(i) };
      node = next;
    }
    return { node, tail: [] };
  }

  add(path: Term[], rule: Rule | undefined): void {
    const { node, tail } = this.find(path);
    if (tail.length > 0) {
      let n: TreeNode = node;
      for (const t of tail) {
        const c = new TreeNode(t.value);
        n.children.set(valueKey(t.value), c);
        n = c;
      }
      if (rule) n.values.push(rule);
    } else if (rule) node.values.push(rule);
  }

  /** Depth-first; `f` returning true stops descent below that node. */
  depthFirst(f: (n: TreeNode) => boolean): void {
    if (f(this)) return;
    for (const c of this.sortedChildren()) c.depthFirst(f);
  }
}

/** The module's package path followed by the rule's head ref (its first var as a string). */
export function ruleRef(rule: Rule, module: Module | undefined): Term[] {
  const head = rule.head.reference;
  const first = head[0];
  const firstAsString =
    first && first.value.type === 'var' ? stringTerm(first.value.value, first.location) : first;
  const rest = head.slice(1);
  if (!module) return head;
  return [...module.package.path, firstAsString, ...rest];
}

/** OPA's Ref.GroundPrefix. */
export function groundPrefix(ref: Term[]): Term[] {
  const out: Term[] = [];
  for (let i = 0; i < ref.length; i++) {
    if (i > 0 && !isGround(ref[i].value)) break;
    out.push(ref[i]);
  }
  return out;
}

export function buildRuleTree(modules: Module[], moduleOf: Map<Rule, Module>): TreeNode {
  const root = new TreeNode(undefined);
  // OPA walks the module tree depth-first by package path; rule order within a node follows
  // module (file) order, then source order.
  for (const mod of modules) {
    if (mod.rules.length === 0) root.add(mod.package.path, undefined);
    for (const rule of mod.rules) root.add(groundPrefix(ruleRef(rule, moduleOf.get(rule) ?? mod)), rule);
  }
  const sys = root.find([{ value: { type: 'var', value: 'data' } }, stringTerm('system')]);
  if (sys.tail.length === 0) sys.node.hide = true;
  return root;
}

/** All rules in and below `node` (OPA's flattenChildren helper and similar walks). */
export function rulesBelow(node: TreeNode): Rule[] {
  const out: Rule[] = [];
  node.depthFirst((n) => {
    out.push(...n.values);
    return false;
  });
  return out;
}

/**
 * OPA's GetRulesDynamicWithOpts (hidden modules included): the rules a possibly non-ground
 * ref could refer to. Used for the dependency graph.
 */
export function rulesDynamic(root: TreeNode, ref: Term[]): Set<Rule> {
  const set = new Set<Rule>();
  const walk = (node: TreeNode, i: number) => {
    if (i >= ref.length) {
      node.depthFirst((d) => {
        d.values.forEach((r) => set.add(r));
        return false;
      });
      return;
    }
    const v = ref[i].value;
    if (i === 0 || isConstant(v)) {
      const child = node.child(v);
      if (!child) return;
      child.values.forEach((r) => set.add(r));
      walk(child, i + 1);
      return;
    }
    for (const child of node.children.values()) {
      child.values.forEach((r) => set.add(r));
      walk(child, i + 1);
    }
  };
  walk(root, 0);
  return set;
}

