// OPA's value model as raw structs in linear memory (no managed objects).
//
//   every value  +0 kind (i32, OPA's type numbers)
//   null         8 bytes
//   boolean      +4 b (0/1)
//   number       +4 repr (NUM_INT: +8 i64; NUM_REF: +8 ptr, +12 len of JSON number text)
//   string       +4 len, +8 ptr (UTF-8 bytes; the back end lays constants out the same way)
//   array        +4 len, +8 cap, +12 elems (i32 value pointers)
//   object, set  +4 len, +8 cap, +12 entries (12 bytes each: key, value, hash),
//                +16 hash table (i32 slots: entry index + 1, 0 = empty), +20 table size
//                (power of two, 0 while small), +24 order flag (0 unsorted, 1 in OPA key order,
//                2 insertion order kept: only for the result set, which is never compared)
//
// Sets share the object layout (value = key). Objects and sets keep insertion order until
// something needs OPA's order (iteration, comparison, dump); they are then sorted in place,
// which never allocates, so data loaded before an evaluation may be sorted during one.
import { malloc } from "./alloc";

export const NULL: i32 = 1;
export const BOOLEAN: i32 = 2;
export const NUMBER: i32 = 3;
export const STRING: i32 = 4;
export const ARRAY: i32 = 5;
export const OBJECT: i32 = 6;
export const SET: i32 = 7;

export const NUM_INT: i32 = 0;
export const NUM_REF: i32 = 1;

const nullValue = memory.data<i32>([NULL, 0]);
const trueValue = memory.data<i32>([BOOLEAN, 1]);
const falseValue = memory.data<i32>([BOOLEAN, 0]);

@inline export function kindOf(v: usize): i32 { return load<i32>(v); }

export function makeNull(): usize { return nullValue; }
export function makeBool(b: bool): usize { return b ? trueValue : falseValue; }
@inline export function boolOf(v: usize): bool { return load<i32>(v, 4) != 0; }

export function makeInt(x: i64): usize {
  let v = malloc(16);
  store<i32>(v, NUMBER);
  store<i32>(v, NUM_INT, 4);
  store<i64>(v, x, 8);
  return v;
}

/** A number given by its JSON text (not copied). */
export function makeNumRef(p: usize, n: usize): usize {
  let v = malloc(16);
  store<i32>(v, NUMBER);
  store<i32>(v, NUM_REF, 4);
  store<i32>(v, <i32>p, 8);
  store<i32>(v, <i32>n, 12);
  return v;
}

@inline export function numRepr(v: usize): i32 { return load<i32>(v, 4); }
@inline export function numInt(v: usize): i64 { return load<i64>(v, 8); }
@inline export function numRefPtr(v: usize): usize { return <usize>load<i32>(v, 8); }
@inline export function numRefLen(v: usize): usize { return <usize>load<i32>(v, 12); }

export function makeString(p: usize, n: usize): usize {
  let v = malloc(12);
  store<i32>(v, STRING);
  store<i32>(v, <i32>n, 4);
  store<i32>(v, <i32>p, 8);
  return v;
}

/** A fresh string value with room for n bytes (write them at strPtr). */
export function allocString(n: usize): usize {
  let v = malloc(12 + n);
  store<i32>(v, STRING);
  store<i32>(v, <i32>n, 4);
  store<i32>(v, <i32>(v + 12), 8);
  return v;
}

/** A string value from an AS literal (ASCII only). */
export function strLit(s: string): usize {
  let n = <usize>s.length;
  let v = allocString(n);
  let p = strPtr(v);
  for (let i: usize = 0; i < n; i++) store<u8>(p + i, <u8>s.charCodeAt(<i32>i));
  return v;
}

@inline export function strLen(v: usize): usize { return <usize>load<i32>(v, 4); }
@inline export function strPtr(v: usize): usize { return <usize>load<i32>(v, 8); }

// ---- arrays ----

export function makeArray(cap: i32): usize {
  if (cap < 0) cap = 0;
  // header and first element block in one allocation (growing moves the elements elsewhere)
  let v = malloc(16 + (<usize>cap << 2));
  store<i32>(v, ARRAY);
  store<i32>(v, 0, 4);
  store<i32>(v, cap, 8);
  store<i32>(v, cap > 0 ? <i32>(v + 16) : 0, 12);
  return v;
}

@inline export function arrLen(v: usize): i32 { return load<i32>(v, 4); }
@inline export function arrGet(v: usize, i: i32): usize { return <usize>load<i32>(<usize>load<i32>(v, 12) + (<usize>i << 2)); }
@inline export function arrSet(v: usize, i: i32, x: usize): void { store<i32>(<usize>load<i32>(v, 12) + (<usize>i << 2), <i32>x); }

export function arrAppend(v: usize, x: usize): void {
  let len = load<i32>(v, 4);
  let cap = load<i32>(v, 8);
  if (len >= cap) {
    let ncap = cap < 4 ? 4 : cap * 2;
    let ne = malloc(<usize>ncap << 2);
    let oe = <usize>load<i32>(v, 12);
    if (len > 0) memory.copy(ne, oe, <usize>len << 2);
    store<i32>(v, ncap, 8);
    store<i32>(v, <i32>ne, 12);
  }
  store<i32>(<usize>load<i32>(v, 12) + (<usize>len << 2), <i32>x);
  store<i32>(v, len + 1, 4);
}

// ---- objects and sets ----

export function makeObject(): usize { return makeColl(OBJECT, 0); }

/** A set that keeps insertion order for good (the result set: rows come out as produced). */
export function makeOrderedSet(): usize {
  let v = makeColl(SET, 0);
  store<i32>(v, 2, 24);
  return v;
}
export function makeSet(): usize { return makeColl(SET, 0); }

export function makeColl(kind: i32, cap: i32): usize {
  if (cap < 0) cap = 0;
  // header and first entry block in one allocation (growing moves the entries elsewhere)
  let v = malloc(32 + <usize>cap * 12);
  store<i32>(v, kind);
  store<i32>(v, 0, 4);
  store<i32>(v, cap, 8);
  store<i32>(v, cap > 0 ? <i32>(v + 32) : 0, 12);
  store<i32>(v, 0, 16);
  store<i32>(v, 0, 20);
  store<i32>(v, 1, 24);
  return v;
}

@inline export function collLen(v: usize): i32 { return load<i32>(v, 4); }
@inline export function entryAt(v: usize, i: i32): usize { return <usize>load<i32>(v, 12) + <usize>i * 12; }
@inline export function collKey(v: usize, i: i32): usize { return <usize>load<i32>(entryAt(v, i)); }
@inline export function collVal(v: usize, i: i32): usize { return <usize>load<i32>(entryAt(v, i), 4); }

// ---- the hash table of a larger collection (+16 slots, +20 size) ----

export function tableInsert(table: usize, tsize: i32, h: u32, idx: i32): void {
  let mask = <u32>tsize - 1;
  let slot = h & mask;
  while (load<i32>(table + (<usize>slot << 2)) != 0) slot = (slot + 1) & mask;
  store<i32>(table + (<usize>slot << 2), idx + 1);
}

/**
 * Rebuilds the hash table from the entries' stored hashes (in place when the size is
 * unchanged). Every entry must have its hash (compare.ts entryHash) already.
 */
export function tableReset(v: usize, tsize: i32): void {
  let table = <usize>load<i32>(v, 16);
  if (tsize != load<i32>(v, 20)) {
    table = malloc(<usize>tsize << 2);
    store<i32>(v, <i32>table, 16);
    store<i32>(v, tsize, 20);
  }
  memory.fill(table, 0, <usize>tsize << 2);
  let len = load<i32>(v, 4);
  for (let i = 0; i < len; i++) tableInsert(table, tsize, load<u32>(entryAt(v, i), 8), i);
}
