// The planner's bookkeeping structures (OPA internal/planner/rules.go): the rule trie keyed by
// document path, the stack of planned functions (shadowed under `with data...`), and the stack
// of function mocks (`with f as g`).
import type { Rule, Term } from '../ast/types.js';

/** Key of a ref element in the trie: the head var's name at index 0, a string's value after; otherwise none. */
export function trieKey(t: Term, index: number): string | undefined {
  if (index === 0) return t.value.type === 'var' ? t.value.value : undefined;
  return t.value.type === 'string' ? t.value.value : undefined;
}

function byteCompare(a: string, b: string): number {
  // Go compares strings bytewise; UTF-16 order differs only for astral characters.
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}

export class RuleTrie {
  children = new Map<string, Array<RuleTrie | null>>();
  rules: Rule[] | null = null;

  arity(): number {
    const rules = this.getRules();
    return rules.length > 0 ? (rules[0].head.args?.length ?? 0) : 0;
  }

  /** The rules of this node plus those of its immediate (unshadowed) children. */
  getRules(): Rule[] {
    if (this.rules === null) return [];
    const out = [...this.rules];
    for (const key of [...this.children.keys()].sort(byteCompare)) {
      const nodes = this.children.get(key)!;
      const last = nodes[nodes.length - 1];
      if (last && last.rules) out.push(...last.rules);
    }
    return out;
  }

  get(key: string | undefined): RuleTrie | undefined {
    if (key === undefined) return undefined;
    const nodes = this.children.get(key);
    if (!nodes || nodes.length === 0) return undefined;
    return nodes[nodes.length - 1] ?? undefined;
  }

  /** Shadows the subtree at `ref` (for `with data.x as ...`). */
  push(ref: Term[]): void {
    let node: RuleTrie | undefined = this;
    for (let i = 0; i < ref.length - 1; i++) {
      node = node.get(trieKey(ref[i], i));
      if (!node) return;
    }
    const key = trieKey(ref[ref.length - 1], ref.length - 1);
    if (key === undefined) return;
    const list = node.children.get(key) ?? [];
    list.push(null);
    node.children.set(key, list);
  }

  pop(ref: Term[]): void {
    let node: RuleTrie | undefined = this;
    for (let i = 0; i < ref.length - 1; i++) {
      node = node.get(trieKey(ref[i], i));
      if (!node) return;
    }
    const key = trieKey(ref[ref.length - 1], ref.length - 1);
    if (key === undefined) return;
    const list = node.children.get(key);
    if (!list) return;
    list.pop();
  }

  insert(ref: Term[]): RuleTrie {
    let node: RuleTrie = this;
    ref.forEach((t, i) => {
      const key = trieKey(t, i)!;
      let child = node.get(key);
      if (!child) {
        child = new RuleTrie();
        const list = node.children.get(key) ?? [];
        list.push(child);
        node.children.set(key, list);
      }
      node = child;
    });
    return node;
  }

  lookup(ref: Term[]): RuleTrie | undefined {
    let node: RuleTrie | undefined = this;
    for (let i = 0; i < ref.length; i++) {
      node = node.get(trieKey(ref[i], i));
      if (!node) return undefined;
    }
    return node;
  }

  lookupShallowest(ref: Term[]): RuleTrie | undefined {
    let node: RuleTrie | undefined = this;
    for (let i = 0; i < ref.length; i++) {
      node = node.get(trieKey(ref[i], i));
      if (!node) return undefined;
      if (node.rules && node.rules.length > 0) return node;
    }
    return node;
  }

  lookupOrInsert(ref: Term[]): RuleTrie {
    return this.lookupShallowest(ref) ?? this.insert(ref);
  }

  descendantRules(): Rule[] {
    if (this.children.size === 0) return this.rules ?? [];
    const out = [...(this.rules ?? [])];
    for (const key of [...this.children.keys()].sort(byteCompare)) {
      for (const c of this.children.get(key)!) if (c) out.push(...c.descendantRules());
    }
    return out;
  }

  childrenCount(): number {
    return this.children.size;
  }

  /** Keys of unshadowed children, sorted as OPA sorts string values. */
  childKeys(): string[] {
    return [...this.children.keys()].filter((k) => this.get(k) !== undefined).sort(byteCompare);
  }
}

/** Planned functions by document path; a pushed frame (under `with`) gets a new generation number. */
export class FuncStack {
  // `extras`: names of caller variables that functions planned in this generation receive as
  // extra parameters after input and data (values of `with f as v` mocks, see Planner.planWith).
  private stack: Array<{ pairs: Map<string, string>; gen: number; extras: string[] }> = [{ pairs: new Map(), gen: 0, extras: [] }];
  private next = 1;

  private last() {
    return this.stack[this.stack.length - 1];
  }
  add(key: string, value: string): void {
    this.last().pairs.set(key, value);
  }
  get(key: string): string | undefined {
    return this.last().pairs.get(key);
  }
  push(extras: string[] = this.last().extras): void {
    this.stack.push({ pairs: new Map(), gen: this.next++, extras });
  }
  pop(): void {
    this.stack.pop();
  }
  gen(): number {
    return this.last().gen;
  }
  extras(): string[] {
    return this.last().extras;
  }
}

type Frame = Map<string, Term>;

/** Replacements of functions and builtins (`with f as g`), scoped so a mock's own body is planned unmocked. */
export class MocksStack {
  private stack: Frame[][] = [[]];

  push(): void {
    this.stack.push([]);
  }
  pop(): void {
    this.stack.pop();
  }
  pushFrame(f: Frame): void {
    this.stack[this.stack.length - 1].push(f);
  }
  popFrame(): void {
    this.stack[this.stack.length - 1].pop();
  }
  lookup(name: string): Term | undefined {
    const cur = this.stack[this.stack.length - 1];
    for (let i = cur.length - 1; i >= 0; i--) {
      const t = cur[i].get(name);
      if (t) return t;
    }
    return undefined;
  }
}
