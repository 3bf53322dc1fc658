// json.filter, json.remove and json.patch (OPA's topdown/json.go and internal/edittree
// semantics, computed on immutable values: each edit rebuilds the spine it touches).
import {
  NULL, NUMBER, STRING, ARRAY, OBJECT, SET, kindOf, makeNull, makeString, strLen, strPtr,
  makeObject, makeSet, collLen, collKey, collVal, makeArray, arrAppend, arrLen, arrGet, makeInt,
} from "../value";
import { setAdd, collInsert, collGet, collFind, collRemoveAt, shallowCopy } from "../collection";
import { valueHash, valueEqual, collSort } from "../compare";
import { malloc } from "../alloc";
import { numToI64, lastInt, decParse, decToI64 } from "../number";
import { typeError, typeNameOf } from "./util";
import { operandErrBegin, errStr, errAbort } from "./errs";

// ---------------------------------------------------------------- paths

/** A path as an array of segment values: "/a/b~1c" -> ["a", "b/c"]; an array is taken as is. */
function parsePath(fn: string, p: usize): usize {
  let k = kindOf(p);
  if (k == ARRAY) return p;
  if (k != STRING) {
    operandErrBegin(fn, 2);
    errStr("must be one of {set, array} containing string paths or array of path segments but got ");
    errStr(typeNameOf(k));
    errAbort();
  }
  let r = makeArray(0);
  let s = strPtr(p), n = strLen(p);
  if (n == 0) return r;
  let i: usize = 0;
  while (i < n && load<u8>(s + i) == 47) i++; // strings.TrimLeft(p, "/")
  let start = i;
  while (true) {
    let end = start;
    while (end < n && load<u8>(s + end) != 47) end++;
    arrAppend(r, unescapeSegment(s + start, end - start));
    if (end >= n) break;
    start = end + 1;
  }
  return r;
}

/** "~1" -> "/" first, then "~0" -> "~" (two ReplaceAll passes, as OPA). */
function unescapeSegment(p: usize, n: usize): usize {
  let a = malloc(n + 1);
  let m: usize = 0;
  for (let i: usize = 0; i < n; i++) {
    if (load<u8>(p + i) == 126 && i + 1 < n && load<u8>(p + i + 1) == 49) { store<u8>(a + m, 47); m++; i++; }
    else { store<u8>(a + m, load<u8>(p + i)); m++; }
  }
  let b = malloc(m + 1);
  let o: usize = 0;
  for (let i: usize = 0; i < m; i++) {
    if (load<u8>(a + i) == 126 && i + 1 < m && load<u8>(a + i + 1) == 48) { store<u8>(b + o, 126); o++; i++; }
    else { store<u8>(b + o, load<u8>(a + i)); o++; }
  }
  return makeString(b, o);
}

/** The operand's paths (array or set of paths) as an array of segment arrays. */
function jsonPaths(fn: string, v: usize): usize {
  let k = kindOf(v);
  let r = makeArray(0);
  if (k == ARRAY) { let n = arrLen(v); for (let i = 0; i < n; i++) arrAppend(r, parsePath(fn, arrGet(v, i))); }
  else if (k == SET) { collSort(v); let n = collLen(v); for (let i = 0; i < n; i++) arrAppend(r, parsePath(fn, collKey(v, i))); }
  else typeError(fn, 2, "one of {set, array}", v);
  return r;
}

/** OPA's pathsToObject: a trie of objects whose leaves are null. */
function pathsToObject(paths: usize): usize {
  let root = makeObject();
  let n = arrLen(paths);
  for (let i = 0; i < n; i++) {
    let path = arrGet(paths, i);
    let m = arrLen(path);
    if (m == 0) continue;
    let node = root;
    let done = false;
    for (let j = 0; j < m - 1 && !done; j++) {
      let key = arrGet(path, j);
      let child = collGet(node, key);
      if (child == 0) { let o = makeObject(); collInsert(node, key, o); node = o; continue; }
      if (kindOf(child) == NULL) done = true;
      else node = child;
    }
    if (!done) collInsert(node, arrGet(path, m - 1), makeNull());
  }
  return root;
}

/** The decimal text of i as a string value (array indexes are matched as strings). */
function indexString(i: i32): usize {
  let buf = malloc(12);
  let tmp = memory.data(12);
  let n = 0;
  do { store<u8>(tmp + n, <u8>(48 + i % 10)); n++; i /= 10; } while (i > 0);
  for (let k = 0; k < n; k++) store<u8>(buf + k, load<u8>(tmp + n - 1 - k));
  return makeString(buf, n);
}

// ---------------------------------------------------------------- json.filter

function filterValue(o: usize, filter: usize): usize {
  if (kindOf(filter) == NULL) return o;
  let k = kindOf(o);
  if (k == ARRAY) {
    let r = makeArray(0);
    let n = arrLen(o);
    for (let i = 0; i < n; i++) {
      let sub = collGet(filter, indexString(i));
      if (sub != 0) arrAppend(r, filterValue(arrGet(o, i), sub));
    }
    return r;
  }
  if (k == SET) {
    let r = makeSet();
    collSort(o);
    let n = collLen(o);
    for (let i = 0; i < n; i++) {
      let e = collKey(o, i);
      let sub = collGet(filter, e);
      if (sub != 0) setAdd(r, filterValue(e, sub));
    }
    return r;
  }
  if (k == OBJECT) {
    let r = makeObject();
    collSort(o);
    let n = collLen(o);
    for (let i = 0; i < n; i++) {
      let key = collKey(o, i);
      let sub = collGet(filter, key);
      if (sub != 0) collInsert(r, key, filterValue(collVal(o, i), sub));
    }
    return r;
  }
  return o;
}

export function b_json__filter(obj: usize, paths: usize): usize {
  if (kindOf(obj) != OBJECT) typeError("json.filter", 1, "object", obj);
  let filter = pathsToObject(jsonPaths("json.filter", paths));
  return filterValue(obj, filter);
}

// ---------------------------------------------------------------- json.remove

/** a without the leaves of b (0: removed entirely). */
function removeValue(a: usize, b: usize): usize {
  if (b == 0) return a;
  let kb = kindOf(b);
  if (kb == NULL) return 0;
  if (kb != OBJECT) return a;
  let k = kindOf(a);
  if (k == OBJECT) {
    let r = makeObject();
    collSort(a);
    let n = collLen(a);
    for (let i = 0; i < n; i++) {
      let key = collKey(a, i);
      let v = removeValue(collVal(a, i), collGet(b, key));
      if (v != 0) collInsert(r, key, v);
    }
    return r;
  }
  if (k == SET) {
    let r = makeSet();
    collSort(a);
    let n = collLen(a);
    for (let i = 0; i < n; i++) {
      let e = collKey(a, i);
      let v = removeValue(e, collGet(b, e));
      if (v != 0) setAdd(r, v);
    }
    return r;
  }
  if (k == ARRAY) {
    let r = makeArray(0);
    let n = arrLen(a);
    for (let i = 0; i < n; i++) {
      let v = removeValue(arrGet(a, i), collGet(b, indexString(i)));
      if (v != 0) arrAppend(r, v);
    }
    return r;
  }
  return a;
}

export function b_json__remove(obj: usize, paths: usize): usize {
  if (kindOf(obj) != OBJECT) typeError("json.remove", 1, "object", obj);
  let rm = pathsToObject(jsonPaths("json.remove", paths));
  return removeValue(obj, rm);
}

// ---------------------------------------------------------------- json.patch

// Failure flag of the edit functions: any failed operation makes json.patch undefined.
let failed = false;

/** edittree's toIndex: -1 when the key is not a valid index; "-" is the length. */
function toIndex(len: i32, key: usize): i64 {
  let k = kindOf(key);
  if (k == NUMBER) {
    if (!numToI64(key)) return -1;
    return lastInt();
  }
  if (k == STRING) {
    let p = strPtr(key), n = strLen(key);
    if (n == 1 && load<u8>(p) == 45) return <i64>len;
    if (n == 0) return -1;
    for (let i: usize = 0; i < n; i++) {
      let c = load<u8>(p + i);
      if (!(c >= 48 && c <= 57) && !(i == 0 && (c == 45 || c == 43))) return -1;
    }
    if (n > 1 && load<u8>(p) == 48) return -1; // leading zeros are not allowed
    let d = decParse(load<u8>(p) == 43 ? p + 1 : p, load<u8>(p) == 43 ? n - 1 : n);
    if (d == 0 || !decToI64(d)) return -1;
    return lastInt();
  }
  return -1;
}

/** The child of v at key (0 when absent). */
function childAt(v: usize, key: usize): usize {
  let k = kindOf(v);
  if (k == OBJECT) return collGet(v, key);
  if (k == SET) { let i = collFind(v, key, valueHash(key)); return i < 0 ? 0 : collKey(v, i); }
  if (k == ARRAY) {
    let idx = toIndex(arrLen(v), key);
    if (idx < 0 || idx >= <i64>arrLen(v)) return 0;
    return arrGet(v, <i32>idx);
  }
  return 0;
}

/** v with the child at key replaced by c (the key exists). */
function withChild(v: usize, key: usize, c: usize): usize {
  let k = kindOf(v);
  if (k == OBJECT) { let r = shallowCopy(v); collInsert(r, key, c); return r; }
  if (k == SET) {
    let r = shallowCopy(v);
    let i = collFind(r, key, valueHash(key));
    collRemoveAt(r, i);
    setAdd(r, c);
    return r;
  }
  let r = shallowCopy(v);
  store<i32>(<usize>load<i32>(r, 12) + (<usize>toIndex(arrLen(v), key) << 2), <i32>c);
  return r;
}

const OP_INSERT = 0;
const OP_DELETE = 1;

/** Applies an insert or delete at path[i..] below v; returns the new v (failed set on error). */
function edit(v: usize, path: usize, i: i32, op: i32, value: usize): usize {
  let n = arrLen(path);
  let key = arrGet(path, i);
  let k = kindOf(v);
  if (i < n - 1) {
    let c = childAt(v, key);
    if (c == 0) { failed = true; return v; }
    let nc = edit(c, path, i + 1, op, value);
    if (failed) return v;
    return withChild(v, key, nc);
  }
  if (op == OP_INSERT) {
    if (k == OBJECT) { let r = shallowCopy(v); collInsert(r, key, value); return r; }
    if (k == SET) {
      if (!valueEqual(key, value)) { failed = true; return v; }
      let r = shallowCopy(v); setAdd(r, value); return r;
    }
    if (k == ARRAY) {
      let len = arrLen(v);
      let idx = toIndex(len, key);
      if (idx < 0 || idx > <i64>len) { failed = true; return v; }
      let r = makeArray(len + 1);
      for (let j = 0; j < len; j++) { if (<i64>j == idx) arrAppend(r, value); arrAppend(r, arrGet(v, j)); }
      if (idx == <i64>len) arrAppend(r, value);
      return r;
    }
    failed = true;
    return v;
  }
  // delete
  if (k == OBJECT || k == SET) {
    let r = shallowCopy(v);
    let j = collFind(r, key, valueHash(key));
    if (j < 0) { failed = true; return v; }
    collRemoveAt(r, j);
    return r;
  }
  if (k == ARRAY) {
    let len = arrLen(v);
    let idx = toIndex(len, key);
    if (idx < 0 || idx >= <i64>len) { failed = true; return v; }
    let r = makeArray(len);
    for (let j = 0; j < len; j++) if (<i64>j != idx) arrAppend(r, arrGet(v, j));
    return r;
  }
  failed = true;
  return v;
}

function valueAt(v: usize, path: usize): usize {
  let n = arrLen(path);
  for (let i = 0; i < n; i++) {
    if (v == 0) return 0;
    v = childAt(v, arrGet(path, i));
  }
  return v;
}

// The root path "" addresses the document itself, as in OPA's edittree: deleting it leaves
// no document (0) until an insert at "" sets one again; any other edit of a deleted document
// fails ("deleted node encountered during ... operation"), and so does a patch that ends
// without one (json.patch is undefined).
function insertAt(doc: usize, path: usize, value: usize): usize {
  if (arrLen(path) == 0) return value;
  if (doc == 0) { failed = true; return doc; }
  return edit(doc, path, 0, OP_INSERT, value);
}

function deleteAt(doc: usize, path: usize): usize {
  if (doc == 0) { failed = true; return doc; }
  if (arrLen(path) == 0) return 0;
  return edit(doc, path, 0, OP_DELETE, 0);
}

function str(s: string): usize {
  let n = s.length;
  let buf = malloc(<usize>n);
  for (let i = 0; i < n; i++) store<u8>(buf + <usize>i, <u8>s.charCodeAt(i));
  return makeString(buf, <usize>n);
}

/** A patch path (string or array); 0 when it is neither (the patch fails). */
function patchPath(p: usize): usize {
  let k = kindOf(p);
  if (k != STRING && k != ARRAY) return 0;
  return parsePath("json.patch", p);
}

function isOp(op: usize, s: string): bool {
  let n = <usize>s.length;
  if (strLen(op) != n) return false;
  for (let i: usize = 0; i < n; i++) if (<i32>load<u8>(strPtr(op) + i) != s.charCodeAt(<i32>i)) return false;
  return true;
}

export function b_json__patch(doc: usize, ops: usize): usize {
  if (kindOf(ops) != ARRAY) typeError("json.patch", 2, "array", ops);
  failed = false;
  let kPath = str("path"), kOp = str("op"), kValue = str("value"), kFrom = str("from");
  let n = arrLen(ops);
  for (let i = 0; i < n; i++) {
    let o = arrGet(ops, i);
    if (kindOf(o) != OBJECT) return 0;
    let op = collGet(o, kOp);
    if (op == 0 || kindOf(op) != STRING) return 0;
    let pathV = collGet(o, kPath);
    if (pathV == 0) return 0;
    let isAdd = isOp(op, "add"), isRemove = isOp(op, "remove"), isReplace = isOp(op, "replace");
    let isMove = isOp(op, "move"), isCopy = isOp(op, "copy"), isTest = isOp(op, "test");
    if (!(isAdd || isRemove || isReplace || isMove || isCopy || isTest)) return 0;
    let from: usize = 0, value: usize = 0;
    if (isMove || isCopy) { let f = collGet(o, kFrom); if (f == 0) return 0; from = patchPath(f); if (from == 0) return 0; }
    if (isAdd || isReplace || isTest) { value = collGet(o, kValue); if (value == 0) return 0; }
    let path = patchPath(pathV);
    if (path == 0) return 0;
    if (isAdd) doc = insertAt(doc, path, value);
    else if (isRemove) doc = deleteAt(doc, path);
    else if (isReplace) { doc = deleteAt(doc, path); if (!failed) doc = insertAt(doc, path, value); }
    else if (isMove || isCopy) {
      let chunk = valueAt(doc, from);
      if (chunk == 0) return 0;
      if (isMove) doc = deleteAt(doc, from);
      if (!failed) doc = insertAt(doc, path, chunk);
    } else {
      let chunk = valueAt(doc, path);
      if (chunk == 0 || !valueEqual(chunk, value)) return 0;
    }
    if (failed) return 0;
  }
  return doc; // 0 when the last effective operation removed the document
}

export { makeInt };
