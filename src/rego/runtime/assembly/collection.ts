// Lookup, insertion and removal in objects and sets (layout in value.ts; key order, hashes and
// sorting in compare.ts).
//
// Entry hashes are computed lazily: 0 in an entry's hash slot means "not yet computed"
// (valueHash never returns 0). Collections built from JSON, and small or sorted ones, never
// need them: lookups there are a linear scan or a binary search on the sorted keys. A hash
// table exists only for larger collections that lost their order (tsize != 0); all entries
// of such a collection have their hash computed.
import { malloc } from "./alloc";
import { STRING, ARRAY, OBJECT, SET, kindOf, strLen, strPtr, arrLen, makeArray, makeColl, entryAt, collLen, collKey, collVal, tableInsert, tableReset } from "./value";
import { valueHash, valueEqual, stringEqual, prefix8, comparePrefixed, bytesEqual, entryHash, keyCompare } from "./compare";

const SMALL: i32 = 8; // objects/sets up to this size are searched linearly

@inline function keyEquals(k: usize, key: usize): bool {
  if (k == key) return true;
  let kk = load<i32>(k);
  if (kk == STRING) return load<i32>(key) == STRING && stringEqual(k, key);
  return kk == load<i32>(key) && valueEqual(k, key);
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

/** Rebuilds the hash table (in place when the size is unchanged). */
function rehash(v: usize, tsize: i32): void {
  let len = load<i32>(v, 4);
  for (let i = 0; i < len; i++) entryHash(entryAt(v, i));
  tableReset(v, tsize);
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
