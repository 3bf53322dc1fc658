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

const SMALL: i32 = 8; // objects/sets up to this size are searched linearly

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

// Hashing and comparison live in compare.ts.
import { valueHash, valueCompare, valueEqual, stringEqual, stringCompare, prefix8, comparePrefixed, bytesEqual } from "./compare";

// Entry hashes are computed lazily: 0 in an entry's hash slot means "not yet computed"
// (valueHash never returns 0). Collections built from JSON, and small or sorted ones, never
// need them: lookups there are a linear scan or a binary search on the sorted keys. A hash
// table exists only for larger collections that lost their order (tsize != 0); all entries
// of such a collection have their hash computed.

/** The entry's key hash, computed and cached on first use. */
export function entryHash(e: usize): u32 {
  let h = load<u32>(e, 8);
  if (h == 0) {
    h = valueHash(<usize>load<i32>(e));
    store<u32>(e, h, 8);
  }
  return h;
}

@inline function keyEquals(k: usize, key: usize): bool {
  if (k == key) return true;
  let kk = load<i32>(k);
  if (kk == STRING) return load<i32>(key) == STRING && stringEqual(k, key);
  return kk == load<i32>(key) && valueEqual(k, key);
}

@inline function keyCompare(k: usize, key: usize): i32 {
  if (load<i32>(k) == STRING && load<i32>(key) == STRING) return stringCompare(k, key);
  return valueCompare(k, key);
}

/** Index of key in the object/set, or -1 (h: valueHash(key); only read when there is a hash table). */
export function collFind(v: usize, key: usize, h: u32): i32 {
  if (load<i32>(v, 20) != 0) return tableFind(v, key, h);
  return collFindKey(v, key);
}

/** Index of key in the object/set, or -1; hashes the key only if the collection has a table. */
export function collFindKey(v: usize, key: usize): i32 {
  let len = load<i32>(v, 4);
  if (load<i32>(v, 20) != 0) return tableFind(v, key, valueHash(key));
  let entries = <usize>load<i32>(v, 12);
  if (load<i32>(key) == STRING) return findStringKey(entries, len, len > SMALL && load<i32>(v, 24) == 1, key);
  if (len > SMALL && load<i32>(v, 24) == 1) {
    // sorted in OPA's key order: binary search
    let lo = 0, hi = len - 1;
    while (lo <= hi) {
      let mid = (lo + hi) >>> 1;
      let c = keyCompare(<usize>load<i32>(entries + <usize>mid * 12), key);
      if (c == 0) return mid;
      if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }
  for (let i = 0; i < len; i++) {
    if (keyEquals(<usize>load<i32>(entries + <usize>i * 12), key)) return i;
  }
  return -1;
}

/**
 * collFindKey for a string key (the common case: a dot lookup with a constant key): the key's
 * 8-byte prefix (compare.ts prefix8) is computed once, so most probes are an integer compare.
 */
function findStringKey(entries: usize, len: i32, sorted: bool, key: usize): i32 {
  let kl = strLen(key), kp = strPtr(key);
  let kx = prefix8(kp, kl);
  if (sorted) {
    let lo = 0, hi = len - 1;
    while (lo <= hi) {
      let mid = (lo + hi) >>> 1;
      let k = <usize>load<i32>(entries + <usize>mid * 12);
      let c: i32;
      let kind = load<i32>(k);
      if (kind != STRING) c = kind < STRING ? -1 : 1;
      else {
        let l = strLen(k), p = strPtr(k);
        c = comparePrefixed(prefix8(p, l), p, l, kx, kp, kl);
      }
      if (c == 0) return mid;
      if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }
  for (let i = 0; i < len; i++) {
    let k = <usize>load<i32>(entries + <usize>i * 12);
    if (k == key) return i;
    if (load<i32>(k) != STRING || strLen(k) != kl) continue;
    let p = strPtr(k);
    if (kl <= 8 ? prefix8(p, kl) == kx : (p == kp || bytesEqual(p, kp, kl))) return i;
  }
  return -1;
}

function tableFind(v: usize, key: usize, h: u32): i32 {
  let tsize = load<i32>(v, 20);
  let table = <usize>load<i32>(v, 16);
  let mask = <u32>tsize - 1;
  let slot = h & mask;
  while (true) {
    let s = load<i32>(table + (<usize>slot << 2));
    if (s == 0) return -1;
    let e = entryAt(v, s - 1);
    if (load<u32>(e, 8) == h && keyEquals(<usize>load<i32>(e), key)) return s - 1;
    slot = (slot + 1) & mask;
  }
}

export function collGet(v: usize, key: usize): usize {
  let i = collFindKey(v, key);
  return i < 0 ? 0 : collVal(v, i);
}

function tableInsert(table: usize, tsize: i32, h: u32, idx: i32): void {
  let mask = <u32>tsize - 1;
  let slot = h & mask;
  while (load<i32>(table + (<usize>slot << 2)) != 0) slot = (slot + 1) & mask;
  store<i32>(table + (<usize>slot << 2), idx + 1);
}

/** Rebuilds the hash table (in place when the size is unchanged). */
function rehash(v: usize, tsize: i32): void {
  let table = <usize>load<i32>(v, 16);
  if (tsize != load<i32>(v, 20)) {
    table = malloc(<usize>tsize << 2);
    store<i32>(v, <i32>table, 16);
    store<i32>(v, tsize, 20);
  }
  memory.fill(table, 0, <usize>tsize << 2);
  let len = load<i32>(v, 4);
  for (let i = 0; i < len; i++) tableInsert(table, tsize, entryHash(entryAt(v, i)), i);
}

/** Inserts or replaces. */
export function collInsert(v: usize, key: usize, val: usize): void {
  let tsize = load<i32>(v, 20);
  let h: u32 = 0;
  let i: i32;
  if (tsize != 0) {
    h = valueHash(key);
    i = tableFind(v, key, h);
  } else i = collFindKey(v, key);
  if (i >= 0) {
    store<i32>(entryAt(v, i), <i32>val, 4);
    return;
  }
  let len = load<i32>(v, 4);
  let cap = load<i32>(v, 8);
  if (len >= cap) {
    let ncap = cap < 4 ? 4 : cap * 2;
    let ne = malloc(<usize>ncap * 12);
    if (len > 0) memory.copy(ne, <usize>load<i32>(v, 12), <usize>len * 12);
    store<i32>(v, ncap, 8);
    store<i32>(v, <i32>ne, 12);
  }
  let e = entryAt(v, len);
  store<i32>(e, <i32>key);
  store<i32>(e, <i32>val, 4);
  store<u32>(e, h, 8);
  store<i32>(v, len + 1, 4);
  if (len > 0 && load<i32>(v, 24) == 1 && keyCompare(collKey(v, len - 1), key) > 0) store<i32>(v, 0, 24);
  if (tsize != 0) {
    if ((len + 1) * 2 > tsize) rehash(v, tsize * 2);
    else tableInsert(<usize>load<i32>(v, 16), tsize, h, len);
  } else if (len + 1 > SMALL && load<i32>(v, 24) != 1) {
    // unsorted and no longer small: index it
    rehash(v, 32 >= (len + 1) * 2 ? 32 : nextPow2((len + 1) * 2));
  }
}

function nextPow2(n: i32): i32 {
  return <i32>(1 << (32 - clz<u32>(<u32>(n - 1))));
}

export function setAdd(v: usize, x: usize): void { collInsert(v, x, x); }

/** Removes a key (used by object.remove on copies); keeps order. */
export function collRemoveAt(v: usize, i: i32): void {
  let len = load<i32>(v, 4);
  let e = entryAt(v, i);
  if (i < len - 1) memory.copy(e, e + 12, <usize>(len - 1 - i) * 12);
  store<i32>(v, len - 1, 4);
  let tsize = load<i32>(v, 20);
  if (tsize != 0) rehash(v, tsize);
}

function swapEntries(a: usize, b: usize): void {
  let k = load<i64>(a); let h = load<i32>(a, 8);
  store<i64>(a, load<i64>(b)); store<i32>(a, load<i32>(b, 8), 8);
  store<i64>(b, k); store<i32>(b, h, 8);
}

@inline function keyCmp(v: usize, i: i32, j: i32): i32 {
  return keyCompare(collKey(v, i), collKey(v, j));
}

function siftDown(v: usize, start: i32, end: i32): void {
  let root = start;
  while (true) {
    let child = root * 2 + 1;
    if (child >= end) return;
    if (child + 1 < end && keyCmp(v, child, child + 1) < 0) child++;
    if (keyCmp(v, root, child) >= 0) return;
    swapEntries(entryAt(v, root), entryAt(v, child));
    root = child;
  }
}

/** Sorts entries by key in OPA's order, in place (no allocation). */
export function collSort(v: usize): void {
  if (load<i32>(v, 24) != 0) return;
  let n = load<i32>(v, 4);
  if (n <= 16) {
    for (let i = 1; i < n; i++) {
      let j = i;
      while (j > 0 && keyCmp(v, j - 1, j) > 0) { swapEntries(entryAt(v, j - 1), entryAt(v, j)); j--; }
    }
  } else {
    for (let s = n / 2 - 1; s >= 0; s--) siftDown(v, s, n);
    for (let end = n - 1; end > 0; end--) {
      swapEntries(entryAt(v, 0), entryAt(v, end));
      siftDown(v, 0, end);
    }
  }
  store<i32>(v, 1, 24);
  let tsize = load<i32>(v, 20);
  if (tsize != 0) rehash(v, tsize);
}

/** A shallow copy of an object/set/array (fresh storage, shared elements). */
export function shallowCopy(v: usize): usize {
  let k = kindOf(v);
  if (k == ARRAY) {
    let n = arrLen(v);
    let r = makeArray(n);
    if (n > 0) memory.copy(<usize>load<i32>(r, 12), <usize>load<i32>(v, 12), <usize>n << 2);
    store<i32>(r, n, 4);
    return r;
  }
  if (k == OBJECT || k == SET) {
    let n = collLen(v);
    let r = makeColl(k, n);
    if (n > 0) memory.copy(<usize>load<i32>(r, 12), <usize>load<i32>(v, 12), <usize>n * 12);
    store<i32>(r, n, 4);
    store<i32>(r, load<i32>(v, 24), 24);
    let tsize = load<i32>(v, 20);
    if (tsize != 0) rehash(r, tsize);
    return r;
  }
  return v;
}
