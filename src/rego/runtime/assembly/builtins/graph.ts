// walk (a relation: returns every [path, value] pair, pre-order, children in OPA's order;
// the planner scans the result), graph.reachable and graph.reachable_paths.
import {
  ARRAY, OBJECT, SET, kindOf, makeInt, makeArray, arrAppend, arrLen, arrGet, makeSet, collLen, collKey, collVal,
} from "../value";
import { setAdd, collGet } from "../collection";
import { collSort } from "../compare";
import { typeError } from "./util";
import { operandErrBegin, errStr, errAbort } from "./errs";
import { typeNameOf } from "./util";

function pathWith(path: usize, key: usize): usize {
  let n = arrLen(path);
  let r = makeArray(n + 1);
  for (let i = 0; i < n; i++) arrAppend(r, arrGet(path, i));
  arrAppend(r, key);
  return r;
}

function pair(path: usize, v: usize): usize {
  let r = makeArray(2);
  arrAppend(r, path);
  arrAppend(r, v);
  return r;
}

function walkInto(out: usize, path: usize, v: usize): void {
  arrAppend(out, pair(path, v));
  let k = kindOf(v);
  if (k == ARRAY) {
    let n = arrLen(v);
    for (let i = 0; i < n; i++) walkInto(out, pathWith(path, makeInt(i)), arrGet(v, i));
  } else if (k == OBJECT) {
    collSort(v);
    let n = collLen(v);
    for (let i = 0; i < n; i++) walkInto(out, pathWith(path, collKey(v, i)), collVal(v, i));
  } else if (k == SET) {
    collSort(v);
    let n = collLen(v);
    for (let i = 0; i < n; i++) { let e = collKey(v, i); walkInto(out, pathWith(path, e), e); }
  }
}

export function b_walk(v: usize): usize {
  let out = makeArray(0);
  walkInto(out, makeArray(0), v);
  return out;
}

/** Elements of an array or set of vertices (anything else has none). */
function vertexCount(c: usize): i32 {
  let k = kindOf(c);
  if (k == ARRAY) return arrLen(c);
  if (k == SET) { collSort(c); return collLen(c); }
  return 0;
}
@inline function vertexAt(c: usize, i: i32): usize { return kindOf(c) == ARRAY ? arrGet(c, i) : collKey(c, i); }

function checkOperands(fn: string, graph: usize, initial: usize): void {
  if (kindOf(graph) != OBJECT) typeError(fn, 1, "object", graph);
  let k = kindOf(initial);
  if (k != ARRAY && k != SET) {
    operandErrBegin(fn, 2);
    errStr("must be {array, set} but got ");
    errStr(typeNameOf(k));
    errAbort();
  }
}

export function b_graph__reachable(graph: usize, initial: usize): usize {
  checkOperands("graph.reachable", graph, initial);
  let queue = makeArray(0);
  let n = vertexCount(initial);
  for (let i = 0; i < n; i++) arrAppend(queue, vertexAt(initial, i));
  let reached = makeSet();
  for (let q = 0; q < arrLen(queue); q++) {
    let node = arrGet(queue, q);
    // a vertex already reached has queued its neighbours before: skip it (same result)
    if (collGet(reached, node) != 0) continue;
    let edges = collGet(graph, node);
    if (edges == 0) continue;
    let m = vertexCount(edges);
    for (let j = 0; j < m; j++) {
      let nb = vertexAt(edges, j);
      if (collGet(reached, nb) == 0) arrAppend(queue, nb);
    }
    setAdd(reached, node);
  }
  return reached;
}

function pathBuilder(graph: usize, root: usize, path: usize, out: usize, reached: usize): void {
  let edges = collGet(graph, root);
  if (edges == 0) { setAdd(out, path); return; }
  path = pathWith(path, root);
  let m = vertexCount(edges);
  if (m == 0) { setAdd(out, path); return; }
  // One `reached` set per top-level edge, shared by the whole subtree (not copied per level):
  // the conformance cases (OPA 2605e2c7e686) encode that behaviour.
  setAdd(reached, root);
  for (let j = 0; j < m; j++) {
    let nb = vertexAt(edges, j);
    if (collGet(reached, nb) != 0) setAdd(out, path);
    else pathBuilder(graph, nb, path, out, reached);
  }
}

export function b_graph__reachable_paths(graph: usize, initial: usize): usize {
  checkOperands("graph.reachable_paths", graph, initial);
  let out = makeSet();
  let n = vertexCount(initial);
  for (let i = 0; i < n; i++) {
    let node = vertexAt(initial, i);
    let edges = collGet(graph, node);
    if (edges == 0) continue;
    let m = vertexCount(edges);
    if (m == 0) { let p = makeArray(1); arrAppend(p, node); setAdd(out, p); continue; }
    let start = makeArray(1);
    arrAppend(start, node);
    for (let j = 0; j < m; j++) {
      let reached = makeSet();
      setAdd(reached, node);
      pathBuilder(graph, vertexAt(edges, j), start, out, reached);
    }
  }
  return out;
}
