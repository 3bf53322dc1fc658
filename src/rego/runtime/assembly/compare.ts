// OPA's total order over values (null < booleans < numbers < strings < arrays < objects
// < sets), equality, and hashing consistent with both. Objects and sets compare as their
// sorted entries, as OPA's Go implementation does; sorting a collection into that order
// (collSort) and its entries' cached key hashes (entryHash) live here too.
import {
  NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT, SET, kindOf, boolOf, strLen, strPtr,
  arrLen, arrGet, collLen, collKey, collVal, entryAt, tableReset,
} from "./value";
import { numCompare, numHash } from "./number";

/** Lexicographic byte order (memcmp), eight bytes at a time. */
export function bytesCompare(pa: usize, la: usize, pb: usize, lb: usize): i32 {
  let n = la < lb ? la : lb;
  let i: usize = 0;
  while (i + 8 <= n) {
    let x = load<u64>(pa + i), y = load<u64>(pb + i);
    if (x != y) {
      // the first differing byte decides: compare big-endian
      x = bswap<u64>(x); y = bswap<u64>(y);
      return x < y ? -1 : 1;
    }
    i += 8;
  }
  while (i < n) {
    let x = load<u8>(pa + i), y = load<u8>(pb + i);
    if (x != y) return x < y ? -1 : 1;
    i++;
  }
  return la == lb ? 0 : (la < lb ? -1 : 1);
}

/** n bytes at pa and pb are equal. */
export function bytesEqual(pa: usize, pb: usize, n: usize): bool {
  let i: usize = 0;
  while (i + 8 <= n) {
    if (load<u64>(pa + i) != load<u64>(pb + i)) return false;
    i += 8;
  }
  if (i + 4 <= n) {
    if (load<u32>(pa + i) != load<u32>(pb + i)) return false;
    i += 4;
  }
  while (i < n) {
    if (load<u8>(pa + i) != load<u8>(pb + i)) return false;
    i++;
  }
  return true;
}

/**
 * The first (up to) 8 bytes of the n bytes at p as a big-endian number, zero-padded: such
 * numbers order as the bytes do, so most string comparisons are one integer compare. A short
 * string is read with one 8-byte load (masked) when that stays inside memory.
 */
@inline export function prefix8(p: usize, n: usize): u64 {
  if (n >= 8) return bswap<u64>(load<u64>(p));
  if (n == 0) return 0;
  let lim = <usize>memory.size() << 16; // 0 at 4 GiB: then the slow way
  if (p + 8 <= lim && p + 8 > p) return bswap<u64>(load<u64>(p)) & ~(<u64>-1 >> (<u64>n << 3));
  return prefix8Slow(p, n);
}

function prefix8Slow(p: usize, n: usize): u64 {
  let x: u64 = 0;
  for (let i: usize = 0; i < n; i++) x |= <u64>load<u8>(p + i) << (<u64>(7 - i) << 3);
  return x;
}

/** Orders the la bytes at pa and the lb bytes at pb, given their prefix8 values xa and xb. */
@inline export function comparePrefixed(xa: u64, pa: usize, la: usize, xb: u64, pb: usize, lb: usize): i32 {
  if (xa != xb) return xa < xb ? -1 : 1;
  // equal first min(la, lb, 8) bytes (zero padding cannot tie a real byte with a missing one
  // unless that byte is 0, where the shorter string comes first anyway)
  if (la <= 8 || lb <= 8) return la == lb ? 0 : (la < lb ? -1 : 1);
  return bytesCompare(pa + 8, la - 8, pb + 8, lb - 8);
}

@inline export function stringCompare(a: usize, b: usize): i32 {
  let la = strLen(a), lb = strLen(b);
  let pa = strPtr(a), pb = strPtr(b);
  if (pa == pb && la == lb) return 0;
  return comparePrefixed(prefix8(pa, la), pa, la, prefix8(pb, lb), pb, lb);
}

/** Two string values hold the same bytes. */
@inline export function stringEqual(a: usize, b: usize): bool {
  let n = strLen(a);
  if (n != strLen(b)) return false;
  let pa = strPtr(a), pb = strPtr(b);
  if (pa == pb) return true;
  if (n <= 8) return prefix8(pa, n) == prefix8(pb, n);
  return bytesEqual(pa, pb, n);
}

export function valueCompare(a: usize, b: usize): i32 {
  if (a == b) return 0;
  if (a == 0) return -1;
  if (b == 0) return 1;
  let ka = kindOf(a), kb = kindOf(b);
  if (ka != kb) return ka < kb ? -1 : 1;
  switch (ka) {
    case NULL: return 0;
    case BOOLEAN: {
      let x = boolOf(a), y = boolOf(b);
      return x == y ? 0 : (x ? 1 : -1);
    }
    case NUMBER: return numCompare(a, b);
    case STRING: return stringCompare(a, b);
    case ARRAY: {
      let na = arrLen(a), nb = arrLen(b);
      let n = na < nb ? na : nb;
      for (let i = 0; i < n; i++) {
        let c = valueCompare(arrGet(a, i), arrGet(b, i));
        if (c != 0) return c;
      }
      return na == nb ? 0 : (na < nb ? -1 : 1);
    }
    case OBJECT: {
      collSort(a); collSort(b);
      let na = collLen(a), nb = collLen(b);
      let n = na < nb ? na : nb;
      for (let i = 0; i < n; i++) {
        let c = valueCompare(collKey(a, i), collKey(b, i));
        if (c != 0) return c;
        c = valueCompare(collVal(a, i), collVal(b, i));
        if (c != 0) return c;
      }
      return na == nb ? 0 : (na < nb ? -1 : 1);
    }
    case SET: {
      collSort(a); collSort(b);
      let na = collLen(a), nb = collLen(b);
      let n = na < nb ? na : nb;
      for (let i = 0; i < n; i++) {
        let c = valueCompare(collKey(a, i), collKey(b, i));
        if (c != 0) return c;
      }
      return na == nb ? 0 : (na < nb ? -1 : 1);
    }
  }
  return 0;
}

/** Equality; cheaper than a full compare for collections of different sizes. */
export function valueEqual(a: usize, b: usize): bool {
  if (a == b) return true;
  if (a == 0 || b == 0) return false;
  let k = kindOf(a);
  if (k != kindOf(b)) return false;
  if (k == STRING) return stringEqual(a, b);
  if (k == ARRAY && arrLen(a) != arrLen(b)) return false;
  if ((k == OBJECT || k == SET) && collLen(a) != collLen(b)) return false;
  return valueCompare(a, b) == 0;
}

export function bytesHash(p: usize, n: usize): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: usize = 0; i < n; i++) h = (h ^ <u32>load<u8>(p + i)) * 16777619;
  return h;
}

/** A hash consistent with valueEqual; never 0 (0 marks a not yet computed entry hash). */
export function valueHash(v: usize): u32 {
  let h = hashOf(v);
  return h == 0 ? 1 : h;
}

function hashOf(v: usize): u32 {
  switch (kindOf(v)) {
    case NULL: return 0x9e3779b9;
    case BOOLEAN: return boolOf(v) ? 0x85ebca6b : 0xc2b2ae35;
    case NUMBER: return numHash(v);
    case STRING: return bytesHash(strPtr(v), strLen(v));
    case ARRAY: {
      let h: u32 = 0x27d4eb2f;
      let n = arrLen(v);
      for (let i = 0; i < n; i++) h = (h ^ valueHash(arrGet(v, i))) * 16777619;
      return h;
    }
    case OBJECT: {
      let h: u32 = 0x165667b1;
      let n = collLen(v);
      for (let i = 0; i < n; i++) {
        let e = entryAt(v, i);
        h += (entryHash(e) * 31) ^ valueHash(<usize>load<i32>(e, 4));
      }
      return h;
    }
    case SET: {
      let h: u32 = 0xd3a2646c;
      let n = collLen(v);
      for (let i = 0; i < n; i++) h += entryHash(entryAt(v, i));
      return h;
    }
  }
  return 0;
}

// ---- collection entries: key hashes and OPA's key order ----

/** The entry's key hash, computed and cached on first use. */
export function entryHash(e: usize): u32 {
  let h = load<u32>(e, 8);
  if (h == 0) {
    h = valueHash(<usize>load<i32>(e));
    store<u32>(e, h, 8);
  }
  return h;
}

/** Key order of collection entries (strings, the common case, first). */
@inline export function keyCompare(k: usize, key: usize): i32 {
  if (load<i32>(k) == STRING && load<i32>(key) == STRING) return stringCompare(k, key);
  return valueCompare(k, key);
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
  if (tsize != 0) tableReset(v, tsize); // a collection with a table has all its entry hashes
}
