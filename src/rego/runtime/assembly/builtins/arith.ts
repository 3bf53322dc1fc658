// plus, minus, mul, div, rem, abs, round, ceil, floor: exact on big numbers.
// `minus` on two sets is set difference, as in OPA.
import { NUMBER, SET, NUM_INT, kindOf, numRepr, numInt, makeInt, makeSet, collLen, collKey } from "../value";
import { setAdd, collGet } from "../collection";
import {
  decOf, decAdd, decSub, decMul, decDiv, decRem, decNegate, decAbs, decRound, decCeil, decFloor,
  decToValue, decIsZero, decIsInt,
} from "../number";
import { typeError, builtinError } from "./util";

function num(fn: string, i: i32, v: usize): void {
  if (kindOf(v) != NUMBER) typeError(fn, i, "number", v);
}

@inline function bothInt(a: usize, b: usize): bool {
  return numRepr(a) == NUM_INT && numRepr(b) == NUM_INT;
}

export function b_plus(a: usize, b: usize): usize {
  num("plus", 1, a); num("plus", 2, b);
  if (bothInt(a, b)) {
    let x = numInt(a), y = numInt(b);
    let r = x + y;
    if (((x ^ r) & (y ^ r)) >= 0) return makeInt(r);
  }
  return decToValue(decAdd(decOf(a), decOf(b)));
}

export function b_minus(a: usize, b: usize): usize {
  if (kindOf(a) == SET && kindOf(b) == SET) {
    let r = makeSet();
    let n = collLen(a);
    for (let i = 0; i < n; i++) {
      let k = collKey(a, i);
      if (collGet(b, k) == 0) setAdd(r, k);
    }
    return r;
  }
  if (kindOf(a) == SET) typeError("minus", 2, "set", b);
  if (kindOf(b) == SET) typeError("minus", 1, "set", a);
  num("minus", 1, a); num("minus", 2, b);
  if (bothInt(a, b)) {
    let x = numInt(a), y = numInt(b);
    let r = x - y;
    if (((x ^ y) & (x ^ r)) >= 0) return makeInt(r);
  }
  return decToValue(decSub(decOf(a), decOf(b)));
}

export function b_mul(a: usize, b: usize): usize {
  num("mul", 1, a); num("mul", 2, b);
  if (bothInt(a, b)) {
    let x = numInt(a), y = numInt(b);
    if (x > -2147483648 && x < 2147483648 && y > -2147483648 && y < 2147483648) return makeInt(x * y);
  }
  return decToValue(decMul(decOf(a), decOf(b)));
}

export function b_div(a: usize, b: usize): usize {
  num("div", 1, a); num("div", 2, b);
  let db = decOf(b);
  if (decIsZero(db)) builtinError("eval_builtin_error", "div", "divide by zero");
  return decToValue(decDiv(decOf(a), db));
}

export function b_rem(a: usize, b: usize): usize {
  num("rem", 1, a); num("rem", 2, b);
  if (bothInt(a, b)) {
    let x = numInt(a), y = numInt(b);
    if (y == 0) builtinError("eval_builtin_error", "rem", "modulo by zero");
    if (y == -1) return makeInt(0);
    return makeInt(x % y);
  }
  let da = decOf(a), db = decOf(b);
  if (!decIsInt(da) || !decIsInt(db)) builtinError("eval_builtin_error", "rem", "modulo on floating-point number");
  if (decIsZero(db)) builtinError("eval_builtin_error", "rem", "modulo by zero");
  return decToValue(decRem(da, db));
}

export function b_abs(a: usize): usize {
  num("abs", 1, a);
  if (numRepr(a) == NUM_INT && numInt(a) != i64.MIN_VALUE) {
    let x = numInt(a);
    return x < 0 ? makeInt(-x) : a;
  }
  return decToValue(decAbs(decOf(a)));
}

export function b_round(a: usize): usize {
  num("round", 1, a);
  if (numRepr(a) == NUM_INT) return a;
  return decToValue(decRound(decOf(a)));
}

export function b_ceil(a: usize): usize {
  num("ceil", 1, a);
  if (numRepr(a) == NUM_INT) return a;
  return decToValue(decCeil(decOf(a)));
}

export function b_floor(a: usize): usize {
  num("floor", 1, a);
  if (numRepr(a) == NUM_INT) return a;
  return decToValue(decFloor(decOf(a)));
}

export function negate(a: usize): usize { return decToValue(decNegate(decOf(a))); }
