// The type environment of the type checker (OPA's v1/ast/env.go): a tree of types keyed by
// term values (vars, then ref operands), chained to an enclosing environment. The root holds
// the builtin function declarations; the checker wraps it for the rules' types (under `data`)
// and again for each body's local variables.
import type { Body, Term, Value } from '../ast/types.js';
import { isConstant } from '../ast/index.js';
import { BUILTINS, builtinDecl } from './builtins.js';
import { A, S, isNil, keys, newObject, obj, or, select, set, values, type RegoType, type T } from './typesys.js';

/** A fast, exact key for a term value in the type tree (scalars and vars; other values by JSON). */
export function treeKey(v: Value): string {
  switch (v.type) {
    case 'var':
      return 'v' + v.value;
    case 'string':
      return 's' + v.value;
    case 'number':
      return 'n' + v.value;
    case 'boolean':
      return v.value ? 'T' : 'F';
    case 'null':
      return 'N';
    default:
      return 'x' + JSON.stringify(v, (k, x) => (k === 'location' ? undefined : x));
  }
}

export class TypeNode {
  value: T;
  children?: Map<string, TypeNode>;
  constructor(readonly key?: Value) {}

  child(v: Value): TypeNode | undefined {
    return this.children?.get(treeKey(v));
  }
  leaf(): boolean {
    return this.value !== undefined;
  }
  private childOrNew(v: Value): TypeNode {
    this.children ??= new Map();
    const k = treeKey(v);
    let c = this.children.get(k);
    if (!c) {
      c = new TypeNode(v);
      this.children.set(k, c);
    }
    return c;
  }
  putOne(key: Value, tpe: T): void {
    this.childOrNew(key).value = tpe;
  }
  put(path: Term[], tpe: T): void {
    let curr: TypeNode = this;
    for (const t of path) curr = curr.childOrNew(t.value);
    curr.value = tpe;
  }

  /** OPA's typeTreeNode.Insert: merges `tpe` at `path`, and into objects found along the way. */
  insert(path: Term[], tpe: RegoType, env: TypeEnv): void {
    let curr: TypeNode = this;
    for (let i = 0; i < path.length; i++) {
      const existing = curr.child(path[i].value);
      const child = existing ?? curr.childOrNew(path[i].value);
      if (existing && child.value && i + 1 < path.length && child.value.kind === 'object') {
        child.value = insertIntoObject(child.value, path.slice(i + 1), tpe, env);
      }
      curr = child;
    }
    curr.value = mergeTypes(curr.value, tpe);
    if (tpe.kind === 'object' && curr.children && curr.children.size > 0) {
      for (const [p, t] of curr.leafs()) {
        if (curr.value && curr.value.kind === 'object') curr.value = insertIntoObject(curr.value, p, t!, env);
      }
    }
  }

  private leafs(): Array<[Term[], T]> {
    const out: Array<[Term[], T]> = [];
    const rec = (n: TypeNode, path: Term[]) => {
      const p = [...path, { value: n.key! }];
      if (n.leaf()) {
        out.push([p, n.value]);
        return;
      }
      for (const c of n.children?.values() ?? []) rec(c, p);
    };
    for (const c of this.children?.values() ?? []) rec(c, []);
    return out;
  }
}

function insertIntoObject(o: Extract<RegoType, { kind: 'object' }>, path: Term[], tpe: T, env: TypeEnv): RegoType {
  if (path.length === 0) return o;
  const key = env.getByValue(path[0].value);
  const child = path.length === 1 ? tpe : insertIntoObject({ kind: 'object' }, path.slice(1), tpe, env);
  const dyn = o.dynamic ? { key: or(o.dynamic.key, key), value: or(o.dynamic.value, child) } : { key, value: child };
  return newObject(o.static ?? [], dyn);
}

/** OPA's mergeTypes: sets join element types, objects without static parts merge, else a union. */
export function mergeTypes(a: T, b: T): T {
  if (!a) return b;
  if (!b) return a;
  if (a.kind === 'object') {
    if (b.kind === 'object' && !a.static?.length && !b.static?.length) {
      const ad = a.dynamic;
      const bd = b.dynamic;
      return obj(or(ad?.key, bd?.key), mergeTypes(ad?.value, bd?.value));
    }
    if (b.kind === 'any' && !a.static?.length) {
      // OPA mutates the first object member of b in place and returns b; keep that result.
      for (let i = 0; i < (b.of ?? []).length; i++) {
        const m = b.of![i];
        if (m.kind === 'object' && !m.static?.length) {
          const of = [...b.of!];
          of[i] = obj(or(m.dynamic?.key, a.dynamic?.key), or(m.dynamic?.value, a.dynamic?.value));
          return { kind: 'any', of };
        }
      }
    }
  } else if (a.kind === 'set') {
    if (b.kind === 'set') return set(or(a.of, b.of));
  } else if (a.kind === 'any') {
    if (b.kind !== 'any') return mergeTypes(b, a);
  }
  return or(a, b);
}

/** Builtin declarations as a tree of refs (`count`, `io.jwt.decode`), built once. */
let builtinTree: TypeNode | undefined;
function builtinsTree(): TypeNode {
  if (!builtinTree) {
    const root = new TypeNode();
    for (const b of BUILTINS.values()) {
      const parts = b.name.split('.');
      const path: Term[] = parts.map((p, i) => ({ value: i === 0 ? { type: 'var', value: p } : { type: 'string', value: p } }));
      root.put(path, builtinDecl(b));
    }
    builtinTree = root;
  }
  return builtinTree;
}

const ROOT_DOCS = new Set(['data', 'input']);

function isRootDoc(t: Term): boolean {
  return t.value.type === 'var' && ROOT_DOCS.has(t.value.value);
}

export type BodyChecker = (env: TypeEnv, body: Body) => { env: TypeEnv; errors: number };

export class TypeEnv {
  tree: TypeNode;
  next?: TypeEnv;

  /** `checkBody` type-checks comprehension bodies when their type is asked for (GetByValue). */
  constructor(
    readonly checkBody: BodyChecker,
    tree?: TypeNode,
    next?: TypeEnv,
  ) {
    this.tree = tree ?? new TypeNode();
    this.next = next;
  }

  /** The environment with the builtin declarations (OPA's Compiler.TypeEnv before CheckTypes). */
  static root(checkBody: BodyChecker): TypeEnv {
    return new TypeEnv(checkBody, builtinsTree());
  }

  wrap(): TypeEnv {
    return new TypeEnv(this.checkBody, new TypeNode(), this);
  }

  getByValue(v: Value): T {
    switch (v.type) {
      case 'null':
        return { kind: 'null' };
      case 'boolean':
        return { kind: 'boolean' };
      case 'number':
        return { kind: 'number' };
      case 'string':
        return S;
      case 'array': {
        const st = v.value.map((t) => this.getByValue(t.value));
        return st.length === 0 ? { kind: 'array', dynamic: A } : { kind: 'array', static: st };
      }
      case 'object': {
        const statics: Array<[Value, T]> = [];
        let dynamic: { key: T; value: T } | undefined;
        for (const [k, x] of v.value) {
          if (isConstant(k.value)) statics.push([k.value, this.getByValue(x.value)]);
          else dynamic = { key: this.getByValue(k.value), value: this.getByValue(x.value) };
        }
        if (statics.length === 0 && !dynamic) dynamic = { key: A, value: A };
        return newObject(statics, dynamic);
      }
      case 'set': {
        let tpe: T;
        for (const t of v.value) tpe = or(tpe, this.getByValue(t.value));
        return set(tpe ?? A);
      }
      case 'arraycomprehension': {
        const r = this.checkBody(this, v.body);
        return r.errors === 0 ? { kind: 'array', dynamic: r.env.getByValue(v.term.value) } : undefined;
      }
      case 'objectcomprehension': {
        const r = this.checkBody(this, v.body);
        return r.errors === 0 ? obj(r.env.getByValue(v.key.value), r.env.getByValue(v.value.value)) : undefined;
      }
      case 'setcomprehension': {
        const r = this.checkBody(this, v.body);
        return r.errors === 0 ? set(r.env.getByValue(v.term.value)) : undefined;
      }
      case 'ref':
        return this.getByRef(v.value);
      case 'var': {
        for (let e: TypeEnv | undefined = this; e; e = e.next) {
          const n = e.tree.child(v);
          if (n) return n.value;
        }
        return undefined;
      }
      default:
        return undefined; // calls, template strings
    }
  }

  getByRef(ref: Term[]): T {
    const node = this.tree.child(ref[0].value);
    if (!node) return this.refFallback(ref);
    return this.refRec(node, ref, 1);
  }

  private refFallback(ref: Term[]): T {
    if (this.next) return this.next.getByRef(ref);
    if (isRootDoc(ref[0])) return A;
    return undefined;
  }

  private refRec(node: TypeNode, ref: Term[], i: number): T {
    if (i === ref.length) return this.extent(node);
    if (node.leaf()) {
      const c = node.child(ref[i].value);
      if (c) return this.refRec(c, ref, i + 1);
      return selectRef(node.value, ref, i);
    }
    if (!isConstant(ref[i].value)) return selectRef(this.extent(node), ref, i);
    const c = node.child(ref[i].value);
    if (!c) return this.refFallback(ref);
    return this.refRec(c, ref, i + 1);
  }

  /** OPA's getRefRecExtent: a leaf's type, or an object of the subtree's types. */
  extent(node: TypeNode): T {
    if (node.leaf()) return node.value;
    const statics: Array<[Value, T]> = [];
    for (const c of node.children?.values() ?? []) {
      const k = c.key!;
      if (k.type === 'string' || k.type === 'number' || k.type === 'boolean') statics.push([k, this.extent(c)]);
    }
    // Unlike OPA, mark it open: a rule of the subtree may be undefined, so `data.p == {"a": 1}`
    // can hold although data.p also has a rule `b` (OPA reports a match error there).
    const o = newObject(statics, { key: S, value: A });
    if (o.kind === 'object') o.open = true;
    return o;
  }
}

/** OPA's selectRef: the type at `ref[i:]` inside `tpe` (vars and composites select all values). */
export function selectRef(tpe: T, ref: Term[], i: number): T {
  for (; tpe && i < ref.length; i++) {
    const h = ref[i].value;
    if (h.type === 'var' || h.type === 'ref' || h.type === 'array' || h.type === 'object' || h.type === 'set') tpe = values(tpe);
    else tpe = selectConstant(tpe, h);
  }
  return tpe;
}

/** OPA's selectConstant: only JSON-convertible (constant) terms select. */
export function selectConstant(tpe: T, v: Value): T {
  return isConstant(v) ? select(tpe, v) : undefined;
}

export { isNil, keys, values };
