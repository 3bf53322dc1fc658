// Set, object and array builtins: and/or/minus-free set ops, intersection, union,
// object.*, array.*, internal.member_2/3.
import {
  ARRAY, OBJECT, SET, NUMBER, STRING, kindOf, makeBool, makeSet, makeObject, collLen, collKey, collVal,
  makeArray, arrAppend, arrLen, arrGet,
} from "../value";
import { setAdd, collInsert, collGet, shallowCopy } from "../collection";
import { valueEqual, collSort } from "../compare";
import { valueGet } from "../ops";
import { numToI64, lastInt } from "../number";
import { typeError } from "./util";

function needSet(fn: string, i: i32, v: usize): void { if (kindOf(v) != SET) typeError(fn, i, "set", v); }
function needObj(fn: string, i: i32, v: usize): void { if (kindOf(v) != OBJECT) typeError(fn, i, "object", v); }
function needArr(fn: string, i: i32, v: usize): void { if (kindOf(v) != ARRAY) typeError(fn, i, "array", v); }

export function b_and(a: usize, b: usize): usize {
  needSet("and", 1, a); needSet("and", 2, b);
  let r = makeSet();
  let n = collLen(a);
  for (let i = 0; i < n; i++) { let k = collKey(a, i); if (collGet(b, k) != 0) setAdd(r, k); }
  return r;
}

export function b_or(a: usize, b: usize): usize {
  needSet("or", 1, a); needSet("or", 2, b);
  let r = shallowCopy(a);
  let n = collLen(b);
  for (let i = 0; i < n; i++) setAdd(r, collKey(b, i));
  return r;
}

export function b_intersection(s: usize): usize {
  needSet("intersection", 1, s);
  let n = collLen(s);
  for (let i = 0; i < n; i++) if (kindOf(collKey(s, i)) != SET) typeError("intersection", 1, "set of sets", s);
  if (n == 0) return makeSet();
  let r = shallowCopy(collKey(s, 0));
  for (let i = 1; i < n; i++) r = b_and(r, collKey(s, i));
  return r;
}

export function b_union(s: usize): usize {
  needSet("union", 1, s);
  let n = collLen(s);
  let r = makeSet();
  for (let i = 0; i < n; i++) {
    let e = collKey(s, i);
    if (kindOf(e) != SET) typeError("union", 1, "set of sets", s);
    let m = collLen(e);
    for (let j = 0; j < m; j++) setAdd(r, collKey(e, j));
  }
  return r;
}

function member2(x: usize, c: usize): bool {
  let k = kindOf(c);
  if (k == SET) return collGet(c, x) != 0;
  if (k == ARRAY) {
    let n = arrLen(c);
    for (let i = 0; i < n; i++) if (valueEqual(arrGet(c, i), x)) return true;
    return false;
  }
  if (k == OBJECT) {
    let n = collLen(c);
    for (let i = 0; i < n; i++) if (valueEqual(collVal(c, i), x)) return true;
  }
  return false;
}

export function b_internal__member_2(x: usize, c: usize): usize { return makeBool(member2(x, c)); }

export function b_internal__member_3(key: usize, val: usize, c: usize): usize {
  let k = kindOf(c);
  if (k == OBJECT || k == ARRAY) {
    let v = valueGet(c, key);
    return makeBool(v != 0 && valueEqual(v, val));
  }
  return makeBool(false);
}

export function b_object__get(o: usize, key: usize, dflt: usize): usize {
  needObj("object.get", 1, o);
  if (kindOf(key) != ARRAY) {
    let v = collGet(o, key);
    return v != 0 ? v : dflt;
  }
  let n = arrLen(key);
  if (n == 0) return o; // an empty path selects the object itself
  let cur = o;
  for (let i = 0; i < n; i++) {
    let ck = kindOf(cur);
    if (ck != OBJECT && ck != ARRAY && ck != SET) return dflt;
    cur = valueGet(cur, arrGet(key, i));
    if (cur == 0) return dflt;
  }
  return cur;
}

export function b_object__keys(o: usize): usize {
  needObj("object.keys", 1, o);
  let r = makeSet();
  let n = collLen(o);
  for (let i = 0; i < n; i++) setAdd(r, collKey(o, i));
  return r;
}

/** Keys given as array, set or object (its keys). */
function keysOf(fn: string, i: i32, ks: usize): usize {
  let k = kindOf(ks);
  let r = makeSet();
  if (k == ARRAY) { let n = arrLen(ks); for (let j = 0; j < n; j++) setAdd(r, arrGet(ks, j)); }
  else if (k == SET || k == OBJECT) { let n = collLen(ks); for (let j = 0; j < n; j++) setAdd(r, collKey(ks, j)); }
  else typeError(fn, i, "one of {array, object, set}", ks);
  return r;
}

export function b_object__remove(o: usize, ks: usize): usize {
  needObj("object.remove", 1, o);
  let drop = keysOf("object.remove", 2, ks);
  let r = makeObject();
  let n = collLen(o);
  for (let i = 0; i < n; i++) { let k = collKey(o, i); if (collGet(drop, k) == 0) collInsert(r, k, collVal(o, i)); }
  return r;
}

export function b_object__filter(o: usize, ks: usize): usize {
  needObj("object.filter", 1, o);
  let keep = keysOf("object.filter", 2, ks);
  let r = makeObject();
  let n = collLen(o);
  for (let i = 0; i < n; i++) { let k = collKey(o, i); if (collGet(keep, k) != 0) collInsert(r, k, collVal(o, i)); }
  return r;
}

/** Recursive merge, b wins (OPA's mergeWithOverwrite). */
function unionMerge(a: usize, b: usize): usize {
  let r = shallowCopy(a);
  let n = collLen(b);
  for (let i = 0; i < n; i++) {
    let k = collKey(b, i), v = collVal(b, i);
    let old = collGet(a, k);
    if (old != 0 && kindOf(old) == OBJECT && kindOf(v) == OBJECT) collInsert(r, k, unionMerge(old, v));
    else collInsert(r, k, v);
  }
  return r;
}

export function b_object__union(a: usize, b: usize): usize {
  needObj("object.union", 1, a); needObj("object.union", 2, b);
  return unionMerge(a, b);
}

export function b_object__union_n(arr: usize): usize {
  needArr("object.union_n", 1, arr);
  let r = makeObject();
  let n = arrLen(arr);
  for (let i = 0; i < n; i++) {
    let o = arrGet(arr, i);
    if (kindOf(o) != OBJECT) typeError("object.union_n", 1, "array of objects", arr);
    r = unionMerge(r, o);
  }
  return r;
}

export function b_object__subset(sup: usize, sub: usize): usize {
  let r = isSubset(sup, sub);
  // mismatched collection kinds: OPA's operand error, which its plan evaluation treats as undefined
  if (!r && subsetOf(sup, sub) < 0) return 0;
  return makeBool(r);
}

function isSubset(sup: usize, sub: usize): bool {
  let r = subsetOf(sup, sub);
  if (r < 0) {
    let ks = kindOf(sup), kb = kindOf(sub);
    if (ks != OBJECT && ks != SET && ks != ARRAY) typeError("object.subset", 1, "one of {object, set, array}", sup);
    if (kb != OBJECT && kb != SET && kb != ARRAY) typeError("object.subset", 2, "one of {object, set, array}", sub);
  }
  return r > 0;
}

/** 1 subset, 0 not, -1 operands OPA refuses (different collection kinds other than array/set). */
function subsetOf(sup: usize, sub: usize): i32 {
  let ks = kindOf(sup), kb = kindOf(sub);
  if (ks == OBJECT && kb == OBJECT) {
    let n = collLen(sub);
    for (let i = 0; i < n; i++) {
      let v = collGet(sup, collKey(sub, i));
      if (v == 0) return 0;
      let sv = collVal(sub, i);
      // nested collections of the same kind compare as subsets, anything else by equality
      let kv = kindOf(v), ksv = kindOf(sv);
      if (kv == ksv && (kv == OBJECT || kv == SET || kv == ARRAY)) { if (subsetOf(v, sv) != 1) return 0; }
      else if (!valueEqual(v, sv)) return 0;
    }
    return 1;
  }
  if (ks == SET && kb == SET) {
    let n = collLen(sub);
    for (let i = 0; i < n; i++) if (collGet(sup, collKey(sub, i)) == 0) return 0;
    return 1;
  }
  if (ks == ARRAY && kb == ARRAY) {
    // sub must appear as a contiguous subsequence of sup
    let n = arrLen(sup), m = arrLen(sub);
    if (m == 0) return 1;
    for (let i = 0; i + m <= n; i++) {
      let ok = true;
      for (let j = 0; j < m; j++) if (!valueEqual(arrGet(sup, i + j), arrGet(sub, j))) { ok = false; break; }
      if (ok) return 1;
    }
    return 0;
  }
  if (ks == ARRAY && kb == SET) {
    let n = collLen(sub);
    for (let i = 0; i < n; i++) if (!member2(collKey(sub, i), sup)) return 0;
    return 1;
  }
  return -1;
}

export function b_array__concat(a: usize, b: usize): usize {
  needArr("array.concat", 1, a); needArr("array.concat", 2, b);
  let na = arrLen(a), nb = arrLen(b);
  let r = makeArray(na + nb);
  for (let i = 0; i < na; i++) arrAppend(r, arrGet(a, i));
  for (let i = 0; i < nb; i++) arrAppend(r, arrGet(b, i));
  return r;
}

function intOf(fn: string, i: i32, v: usize): i64 {
  if (kindOf(v) != NUMBER) typeError(fn, i, "number", v);
  if (!numToI64(v)) typeError(fn, i, "integer number", v);
  return lastInt();
}

export function b_array__slice(a: usize, start: usize, stop: usize): usize {
  needArr("array.slice", 1, a);
  let s = intOf("array.slice", 2, start), e = intOf("array.slice", 3, stop);
  let n = <i64>arrLen(a);
  if (s < 0) s = 0;
  if (e > n) e = n;
  let r = makeArray(0);
  for (let i = s; i < e; i++) arrAppend(r, arrGet(a, <i32>i));
  return r;
}

export function b_array__reverse(a: usize): usize {
  needArr("array.reverse", 1, a);
  let n = arrLen(a);
  let r = makeArray(n);
  for (let i = n - 1; i >= 0; i--) arrAppend(r, arrGet(a, i));
  return r;
}

export { STRING, collSort };
