// Value operations the generated code calls (mirrors OPA's opa_value_get/merge/iter...).
import {
  NUMBER, STRING, ARRAY, OBJECT, SET, kindOf, arrLen, arrGet, collLen, collKey, collVal, makeObject, makeInt,
  strLen, numRepr, NUM_INT, numInt, makeArray, arrAppend,
} from "./value";
import { collGet, collInsert, shallowCopy, collFindKey } from "./collection";
import { collSort } from "./compare";
import { numToI64, lastInt } from "./number";

export function valueGet(v: usize, key: usize): usize {
  if (v == 0 || key == 0) return 0;
  let k = kindOf(v);
  if (k == OBJECT) return collGet(v, key);
  if (k == ARRAY) {
    if (kindOf(key) != NUMBER) return 0;
    let i: i64;
    if (numRepr(key) == NUM_INT) i = numInt(key);
    else { if (!numToI64(key)) return 0; i = lastInt(); }
    if (i < 0 || i >= <i64>arrLen(v)) return 0;
    return arrGet(v, <i32>i);
  }
  if (k == SET) {
    let i = collFindKey(v, key);
    return i < 0 ? 0 : collKey(v, i);
  }
  return 0;
}

export function valueLength(v: usize): i32 {
  let k = kindOf(v);
  if (k == ARRAY) return arrLen(v);
  if (k == OBJECT || k == SET) return collLen(v);
  if (k == STRING) return <i32>strLen(v);
  return 0;
}

/** Prepares v for iteration (OPA's order) and returns its element count. */
export function iterPrepare(v: usize): i32 {
  if (v == 0) return 0;
  let k = kindOf(v);
  if (k == ARRAY) return arrLen(v);
  if (k == OBJECT || k == SET) { collSort(v); return collLen(v); }
  return 0;
}

export function iterKey(v: usize, i: i32): usize {
  if (kindOf(v) == ARRAY) return makeInt(i);
  return collKey(v, i);
}

export function iterValue(v: usize, i: i32): usize {
  if (kindOf(v) == ARRAY) return arrGet(v, i);
  return collVal(v, i);
}

/** OPA's opa_value_merge: deep merge of objects, a's scalars win; 0 when a is 0. */
export function valueMerge(a: usize, b: usize): usize {
  if (a == 0) return b;
  if (b == 0) return a;
  if (kindOf(a) != OBJECT || kindOf(b) != OBJECT) return a;
  let r = makeObject();
  let na = collLen(a);
  for (let i = 0; i < na; i++) {
    let k = collKey(a, i);
    let other = collGet(b, k);
    if (other == 0) collInsert(r, k, collVal(a, i));
    else {
      let m = valueMerge(collVal(a, i), other);
      if (m == 0) return 0;
      collInsert(r, k, m);
    }
  }
  let nb = collLen(b);
  for (let i = 0; i < nb; i++) {
    let k = collKey(b, i);
    if (collGet(a, k) == 0) collInsert(r, k, collVal(b, i));
  }
  return r;
}

export function numberSetInt(v: usize, x: i64): void {
  store<i32>(v, NUMBER);
  store<i32>(v, NUM_INT, 4);
  store<i64>(v, x, 8);
}

/** opa_value_add_path: sets data[path...] = v, creating objects on the way. 0 ok, else error. */
export function addPath(data: usize, path: usize, v: usize): i32 {
  if (data == 0 || kindOf(data) != OBJECT || path == 0 || kindOf(path) != ARRAY) return 2;
  let n = arrLen(path);
  if (n == 0) return 2;
  let cur = data;
  for (let i = 0; i < n - 1; i++) {
    let k = arrGet(path, i);
    let next = collGet(cur, k);
    if (next == 0) { next = makeObject(); collInsert(cur, k, next); }
    else if (kindOf(next) != OBJECT) return 2;
    cur = next;
  }
  collInsert(cur, arrGet(path, n - 1), v);
  return 0;
}

/** opa_value_remove_path. */
export function removePath(data: usize, path: usize): i32 {
  if (data == 0 || path == 0 || kindOf(path) != ARRAY) return 2;
  let n = arrLen(path);
  if (n == 0) return 2;
  let cur = data;
  for (let i = 0; i < n - 1; i++) {
    cur = collGet(cur, arrGet(path, i));
    if (cur == 0 || kindOf(cur) != OBJECT) return 0;
  }
  let key = arrGet(path, n - 1);
  let idx = collFindKey(cur, key);
  if (idx >= 0) {
    // compact in place
    let len = collLen(cur);
    let e = <usize>load<i32>(cur, 12) + <usize>idx * 12;
    if (idx < len - 1) memory.copy(e, e + 12, <usize>(len - 1 - idx) * 12);
    store<i32>(cur, len - 1, 4);
    rebuildAfterRemove(cur);
  }
  return 0;
}

function rebuildAfterRemove(v: usize): void {
  // re-insert into a fresh object so the hash table is consistent
  let n = collLen(v);
  let tmp = makeObject();
  for (let i = 0; i < n; i++) collInsert(tmp, collKey(v, i), collVal(v, i));
  memory.copy(v, tmp, 28);
}

export { shallowCopy, makeArray, arrAppend };
