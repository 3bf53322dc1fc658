// count, sum, product, max, min, sort.
import { STRING, ARRAY, OBJECT, SET, NUMBER, kindOf, makeInt, arrLen, arrGet, collLen, collKey, makeArray, arrAppend, arrSet } from "../value";
import { valueCompare, collSort } from "../compare";
import { decOf, decAdd, decMul, decToValue, decFromI64 } from "../number";
import { typeError } from "./util";
import { stringRunes } from "./strings";

export function b_count(a: usize): usize {
  let k = kindOf(a);
  if (k == ARRAY) return makeInt(arrLen(a));
  if (k == OBJECT || k == SET) return makeInt(collLen(a));
  if (k == STRING) return makeInt(stringRunes(a));
  typeError("count", 1, "one of {array, object, set, string}", a);
  return 0;
}

function elems(fn: string, a: usize): i32 {
  let k = kindOf(a);
  if (k == ARRAY) return arrLen(a);
  if (k == SET) { collSort(a); return collLen(a); }
  typeError(fn, 1, "one of {array, set}", a);
  return 0;
}

@inline function elem(a: usize, i: i32): usize { return kindOf(a) == ARRAY ? arrGet(a, i) : collKey(a, i); }

function numElem(fn: string, a: usize, i: i32): usize {
  let e = elem(a, i);
  if (kindOf(e) != NUMBER) typeError(fn, 1, kindOf(a) == ARRAY ? "array of numbers" : "set of numbers", a);
  return e;
}

export function b_sum(a: usize): usize {
  let n = elems("sum", a);
  let acc = decFromI64(0);
  for (let i = 0; i < n; i++) acc = decAdd(acc, decOf(numElem("sum", a, i)));
  return decToValue(acc);
}

export function b_product(a: usize): usize {
  let n = elems("product", a);
  let acc = decFromI64(1);
  for (let i = 0; i < n; i++) acc = decMul(acc, decOf(numElem("product", a, i)));
  return decToValue(acc);
}

export function b_max(a: usize): usize {
  let n = elems("max", a);
  if (n == 0) return 0;
  let best = elem(a, 0);
  for (let i = 1; i < n; i++) { let e = elem(a, i); if (valueCompare(e, best) > 0) best = e; }
  return best;
}

export function b_min(a: usize): usize {
  let n = elems("min", a);
  if (n == 0) return 0;
  let best = elem(a, 0);
  for (let i = 1; i < n; i++) { let e = elem(a, i); if (valueCompare(e, best) < 0) best = e; }
  return best;
}

/** Stable merge sort of value pointers [lo, hi) using tmp. */
function mergeSort(p: usize, tmp: usize, lo: i32, hi: i32): void {
  if (hi - lo < 2) return;
  if (hi - lo <= 8) {
    for (let i = lo + 1; i < hi; i++) {
      let v = load<i32>(p + (<usize>i << 2));
      let j = i - 1;
      while (j >= lo && valueCompare(<usize>load<i32>(p + (<usize>j << 2)), <usize>v) > 0) {
        store<i32>(p + (<usize>(j + 1) << 2), load<i32>(p + (<usize>j << 2)));
        j--;
      }
      store<i32>(p + (<usize>(j + 1) << 2), v);
    }
    return;
  }
  let mid = (lo + hi) >> 1;
  mergeSort(p, tmp, lo, mid);
  mergeSort(p, tmp, mid, hi);
  let i = lo, j = mid, k = lo;
  while (i < mid && j < hi) {
    let a = load<i32>(p + (<usize>i << 2)), b = load<i32>(p + (<usize>j << 2));
    if (valueCompare(<usize>b, <usize>a) < 0) { store<i32>(tmp + (<usize>k << 2), b); j++; }
    else { store<i32>(tmp + (<usize>k << 2), a); i++; }
    k++;
  }
  while (i < mid) { store<i32>(tmp + (<usize>k << 2), load<i32>(p + (<usize>i << 2))); i++; k++; }
  while (j < hi) { store<i32>(tmp + (<usize>k << 2), load<i32>(p + (<usize>j << 2))); j++; k++; }
  memory.copy(p + (<usize>lo << 2), tmp + (<usize>lo << 2), <usize>(hi - lo) << 2);
}

import { malloc } from "../alloc";

export function b_sort(a: usize): usize {
  let n = elems("sort", a);
  let r = makeArray(n);
  for (let i = 0; i < n; i++) arrAppend(r, elem(a, i));
  if (kindOf(a) == ARRAY && n > 1) {
    let tmp = malloc(<usize>n << 2);
    mergeSort(<usize>load<i32>(r, 12), tmp, 0, n);
  }
  return r;
}

export { arrSet };
