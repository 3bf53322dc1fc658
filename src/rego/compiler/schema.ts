// JSON Schema to the type checker's types, as OPA's schema parser does it (v1/ast/check.go
// schemaParser, v1/ast/schema.go): `type` boolean/string/number/integer/null; objects with
// `properties` become objects with those static keys (closed: another key is an `undefined ref`),
// without properties an object of anything; `additionalProperties` (true or a schema) adds a
// dynamic part; arrays from `items` (one schema: dynamic, a list: static); `anyOf`/`oneOf` a union;
// `allOf` merges object properties; `$ref` to `#/json/pointer`, to another document by its `$id`
// or file name (resolved against the referring document's `$id`); no `type`: inferred from
// `properties`/`items`, else any. A recursive `$ref` is `any` where it recurs.
import type { Value } from '../ast/types.js';
import { A, B, N, NL, S, newObject, or, type RegoType, type T } from './typesys.js';

/** Finds a schema document by absolute URI (a `$id`, or a `file:` URL), for `$ref`s between documents. */
export type SchemaResolver = (uri: string) => unknown;

type Schema = Record<string, unknown>;

const isObj = (x: unknown): x is Schema => !!x && typeof x === 'object' && !Array.isArray(x);

function pointer(doc: unknown, ptr: string): unknown {
  if (ptr === '' || ptr === '/') return doc;
  let cur = doc;
  for (const raw of ptr.replace(/^\//, '').split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isObj(cur)) cur = cur[key];
    else return undefined;
  }
  return cur;
}

class SchemaParser {
  private readonly active = new Set<unknown>();

  constructor(private readonly resolve: SchemaResolver) {}

  /** `schema` inside the document `doc` whose base URI is `base`. */
  parse(schema: unknown, doc: unknown, base: string): RegoType {
    if (schema === true || schema === undefined) return A;
    if (!isObj(schema)) return A;
    if (typeof schema.$id === 'string') {
      try {
        base = new URL(schema.$id, base || undefined).href;
        doc = schema;
      } catch {
        // a relative $id without a base: keep the current one
      }
    }
    if (typeof schema.$ref === 'string') return this.ref(schema.$ref, doc, base);
    if (this.active.has(schema)) return A;
    this.active.add(schema);
    try {
      return this.parseTyped(schema, doc, base);
    } finally {
      this.active.delete(schema);
    }
  }

  private ref(ref: string, doc: unknown, base: string): RegoType {
    const [uri, frag = ''] = ref.split('#', 2) as [string, string?];
    let target: unknown = doc;
    let targetBase = base;
    if (uri !== '') {
      let abs: string;
      try {
        abs = new URL(uri, base || undefined).href;
      } catch {
        return A;
      }
      target = this.resolve(abs);
      if (target === undefined) return A;
      targetBase = abs;
    }
    const sub = pointer(target, frag);
    if (sub === undefined) return A;
    return this.parse(sub, target, targetBase); // parse() stops at a recursion
  }

  private parseTyped(s: Schema, doc: unknown, base: string): RegoType {
    const alts = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as unknown[] | undefined;
    if (alts && alts.length > 0 && s.type === undefined && s.properties === undefined) {
      let t: T;
      for (const a of alts) t = or(t, this.parse(a, doc, base));
      return t ?? A;
    }
    const types = Array.isArray(s.type) ? (s.type as unknown[]) : s.type !== undefined ? [s.type] : [];
    let kind = types.length === 1 ? String(types[0]) : types.length > 1 ? 'union' : undefined;
    if (kind === undefined) {
      if (isObj(s.properties) || Array.isArray(s.allOf)) kind = isObj(s.properties) || this.allOfHasProperties(s, doc, base) ? 'object' : undefined;
      else if (s.items !== undefined) kind = 'array';
    }
    switch (kind) {
      case 'boolean':
        return B;
      case 'string':
        return S;
      case 'number':
      case 'integer':
        return N;
      case 'null':
        return NL;
      case 'object':
        return this.object(s, doc, base);
      case 'array':
        return this.array(s, doc, base);
      case 'union': {
        let t: T;
        for (const k of types) t = or(t, this.parseTyped({ ...s, type: k }, doc, base));
        return t ?? A;
      }
      default:
        return A;
    }
  }

  private allOfHasProperties(s: Schema, doc: unknown, base: string): boolean {
    return ((s.allOf as unknown[]) ?? []).some((x) => this.parse(x, doc, base).kind === 'object');
  }

  /** Properties of the schema and of its `allOf` members that are objects with properties. */
  private object(s: Schema, doc: unknown, base: string): RegoType {
    const props = new Map<string, RegoType>();
    let dynamic: { key: T; value: T } | undefined;
    let any = false;
    const add = (t: RegoType) => {
      if (t.kind !== 'object') return;
      for (const [k, v] of t.static ?? []) if (k.type === 'string') props.set(k.value, v ?? A);
      if (t.dynamic) dynamic = t.dynamic;
    };
    if (isObj(s.properties)) {
      for (const [k, v] of Object.entries(s.properties)) props.set(k, this.parse(v, doc, base));
    } else if (!Array.isArray(s.allOf)) any = true;
    for (const member of (Array.isArray(s.allOf) ? s.allOf : []) as unknown[]) add(this.parse(member, doc, base));
    if (any && props.size === 0) return newObject([], { key: A, value: A });
    const ap = s.additionalProperties;
    if (ap === true) dynamic = { key: A, value: A };
    else if (isObj(ap)) dynamic = { key: S, value: this.parse(ap, doc, base) };
    const statics: Array<[Value, T]> = [...props].map(([k, v]) => [{ type: 'string', value: k }, v]);
    return newObject(statics, dynamic);
  }

  private array(s: Schema, doc: unknown, base: string): RegoType {
    if (Array.isArray(s.prefixItems)) return { kind: 'array', static: (s.prefixItems as unknown[]).map((x) => this.parse(x, doc, base)) };
    if (Array.isArray(s.items)) return { kind: 'array', static: (s.items as unknown[]).map((x) => this.parse(x, doc, base)) };
    if (s.items !== undefined && s.items !== true) return { kind: 'array', dynamic: this.parse(s.items, doc, base) };
    return { kind: 'array', dynamic: A };
  }
}

/**
 * The type of values a JSON Schema allows. `base` is the document's URI (its `$id` wins), used to
 * resolve `$ref`s to other documents through `resolve`.
 */
export function schemaToType(schema: unknown, resolve: SchemaResolver = () => undefined, base = ''): RegoType {
  return new SchemaParser(resolve).parse(schema, schema, base);
}
