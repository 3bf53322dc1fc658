// to_number, format_int, numbers.range, bits.*, json.marshal/unmarshal, internal.template_string.
import {
  NULL, BOOLEAN, NUMBER, STRING, SET, kindOf, boolOf, makeInt, makeArray, arrAppend, arrLen, arrGet,
  collLen, collKey, strLen, strPtr, makeString, allocString,
} from "../value";
import { malloc } from "../alloc";
import { decParse, decOf, decFloor, decToValue, decToI64, lastInt, numToI64, decNeg, decN, decExp, decDigits, decMul, decSub, decAdd, decCmp, decFromI64, decIsInt, decIsZero, decMake } from "../number";
import { jsonParse, jsonDumpString, valueDump } from "../json";
import { typeError, builtinError } from "./util";
import { operandErr } from "./errs";
import { makeNumRef } from "../value";

export function b_to_number(v: usize): usize {
  let k = kindOf(v);
  if (k == NULL) return makeInt(0);
  if (k == BOOLEAN) return makeInt(boolOf(v) ? 1 : 0);
  if (k == NUMBER) return v;
  if (k != STRING) typeError("to_number", 1, "one of {null, boolean, number, string}", v);
  let p = strPtr(v), n = strLen(v);
  // Go's ParseFloat accepts a leading '+'; the number keeps its text otherwise
  if (isNanOrInf(p, n)) typeError("to_number", 1, "valid number string", v);
  let q = p, m = n;
  if (m > 0 && load<u8>(q) == 43) { q++; m--; }
  if (m == 0 || decParse(q, m) == 0) builtinError("eval_builtin_error", "to_number", "invalid syntax");
  return makeNumRef(q, m);
}

/** OPA rejects the Go float spellings of NaN and infinities with a type error. */
function isNanOrInf(p: usize, n: usize): bool {
  let i: usize = 0;
  if (n > 0 && (load<u8>(p) == 43 || load<u8>(p) == 45)) i = 1;
  let m = n - i;
  if (m != 3 && m != 8) return false;
  let w = m == 3 ? (lc(p + i) == 110 && lc(p + i + 1) == 97 && lc(p + i + 2) == 110) || (lc(p + i) == 105 && lc(p + i + 1) == 110 && lc(p + i + 2) == 102) : false;
  if (m == 8) {
    let word = memory.data<u8>([105, 110, 102, 105, 110, 105, 116, 121]); // "infinity"
    w = true;
    for (let k: usize = 0; k < 8; k++) if (lc(p + i + k) != <u32>load<u8>(word + k)) { w = false; break; }
  }
  return w;
}

@inline function lc(p: usize): u32 { let c = <u32>load<u8>(p); return c >= 65 && c <= 90 ? c + 32 : c; }

const DIGITS = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

export function b_format_int(v: usize, base: usize): usize {
  if (kindOf(v) != NUMBER) typeError("format_int", 1, "number", v);
  if (kindOf(base) != NUMBER) typeError("format_int", 2, "number", base);
  let b: i64 = 0;
  if (numToI64(base)) b = lastInt();
  if (b != 2 && b != 8 && b != 10 && b != 16) builtinError("eval_type_error", "format_int", "operand 2 must be one of {2, 8, 10, 16}");
  let d = decFloor(decOf(v));
  if (decToI64(d)) {
    let x = lastInt();
    let neg = x < 0;
    let buf = malloc(72);
    let end = buf + 72;
    let o = end;
    // work on the negative value to cover i64.MIN
    let y = neg ? x : -x;
    do { o--; store<u8>(o, load<u8>(DIGITS + <usize>(-(y % b)))); y /= b; } while (y != 0);
    if (neg) { o--; store<u8>(o, 45); }
    return makeString(o, end - o);
  }
  // beyond i64: repeated division of the decimal digits
  let n = decN(d) + decExp(d);
  let digs = malloc(<usize>n);
  for (let i = 0; i < n; i++) store<u8>(digs + <usize>i, i < decN(d) ? load<u8>(decDigits(d) + <usize>i) : 0);
  let out = malloc(<usize>n * 4 + 2);
  let o = 0;
  let start = 0;
  let bb = <i32>b;
  while (start < n) {
    let rem = 0;
    for (let i = start; i < n; i++) {
      let cur = rem * 10 + <i32>load<u8>(digs + <usize>i);
      store<u8>(digs + <usize>i, <u8>(cur / bb));
      rem = cur % bb;
    }
    store<u8>(out + <usize>o, load<u8>(DIGITS + <usize>rem)); o++;
    while (start < n && load<u8>(digs + <usize>start) == 0) start++;
  }
  let r = allocString(<usize>o + (decNeg(d) ? 1 : 0));
  let w = strPtr(r);
  if (decNeg(d)) { store<u8>(w, 45); w++; }
  for (let i = o - 1; i >= 0; i--) { store<u8>(w, load<u8>(out + <usize>i)); w++; }
  return r;
}

function intArg(fn: string, i: i32, v: usize): i64 {
  if (kindOf(v) != NUMBER) typeError(fn, i, "number", v);
  if (!numToI64(v)) typeError(fn, i, "integer number", v);
  return lastInt();
}

/** OPA's BigIntOperand: any integer number (as a decimal); type errors as OPA words them. */
function rangeArg(fn: string, i: i32, v: usize): usize {
  if (kindOf(v) != NUMBER) typeError(fn, i, "integer", v);
  let d = decOf(v);
  if (!decIsInt(d)) operandErr(fn, i, "must be integer number but got floating-point number");
  return d;
}

/** Ranges longer than this are refused (OPA has no limit but the evaluation's deadline). */
const RANGE_MAX: i64 = 100000000;

/** OPA's generateRange: from x towards y (up or down) in steps of `step` > 0, y included when reached. */
function genRange(fn: string, x: usize, y: usize, step: usize): usize {
  let up = decCmp(x, y) <= 0;
  if (decToI64(x)) {
    let xi = lastInt();
    if (decToI64(y)) {
      let yi = lastInt();
      if (decToI64(step)) return genRangeI64(fn, xi, yi, lastInt(), up);
    }
  }
  // beyond 64 bits: decimal arithmetic
  let span = up ? decSub(y, x) : decSub(x, y);
  if (decCmp(span, decMul(step, decFromI64(RANGE_MAX))) >= 0) builtinError("eval_builtin_error", fn, "range too large");
  let r = makeArray(0);
  let i = x;
  while (up ? decCmp(i, y) <= 0 : decCmp(i, y) >= 0) {
    arrAppend(r, decToValue(i));
    i = up ? decAdd(i, step) : decSub(i, step);
  }
  return r;
}

function genRangeI64(fn: string, x: i64, y: i64, step: i64, up: bool): usize {
  // the number of elements, computed without overflowing 64 bits
  let span = up ? <u64>y - <u64>x : <u64>x - <u64>y;
  let n = span / <u64>step + 1;
  if (n > <u64>RANGE_MAX) builtinError("eval_builtin_error", fn, "range too large");
  let r = makeArray(<i32>n);
  let i = x;
  for (let k: u64 = 0; k < n; k++) {
    arrAppend(r, makeInt(i));
    if (k + 1 < n) i = up ? i + step : i - step;
  }
  return r;
}

export function b_numbers__range(a: usize, b: usize): usize {
  let x = rangeArg("numbers.range", 1, a), y = rangeArg("numbers.range", 2, b);
  return genRange("numbers.range", x, y, decFromI64(1));
}

export function b_numbers__range_step(a: usize, b: usize, s: usize): usize {
  let x = rangeArg("numbers.range_step", 1, a), y = rangeArg("numbers.range_step", 2, b), st = rangeArg("numbers.range_step", 3, s);
  // OPA's message (a plain error, prefixed with the builtin's name by topdown)
  if (decNeg(st) || decIsZero(st)) builtinError("eval_builtin_error", "numbers.range_step", "numbers.range_step: step must be a positive number above zero");
  return genRange("numbers.range_step", x, y, st);
}

export function b_bits__or(a: usize, b: usize): usize { return makeInt(intArg("bits.or", 1, a) | intArg("bits.or", 2, b)); }
export function b_bits__and(a: usize, b: usize): usize { return makeInt(intArg("bits.and", 1, a) & intArg("bits.and", 2, b)); }
export function b_bits__xor(a: usize, b: usize): usize { return makeInt(intArg("bits.xor", 1, a) ^ intArg("bits.xor", 2, b)); }
export function b_bits__negate(a: usize): usize { return makeInt(~intArg("bits.negate", 1, a)); }
export function b_bits__lsh(a: usize, b: usize): usize {
  let x = bitsInt("bits.lsh", 1, a), sh = bitsShift("bits.lsh", b);
  if (bitsIsSmall && sh < 63 && (x << sh) >> sh == x) return makeInt(x << sh);
  return decToValue(decMul(decOf(a), pow2(sh)));
}
export function b_bits__rsh(a: usize, b: usize): usize {
  let x = bitsInt("bits.rsh", 1, a), sh = bitsShift("bits.rsh", b);
  if (bitsIsSmall) return makeInt(sh >= 63 ? (x < 0 ? -1 : 0) : x >> sh);
  // big integers: floor(a / 2^sh) (Go's big.Int Rsh), one halving at a time on the digits
  return decToValue(halveFloor(decOf(a), sh));
}

// bits.* operands: integers of any size (OPA uses big.Int); small ones come back as i64.
let bitsIsSmall = false;
function bitsInt(fn: string, i: i32, v: usize): i64 {
  if (kindOf(v) != NUMBER) typeError(fn, i, "number", v);
  if (numToI64(v)) { bitsIsSmall = true; return lastInt(); }
  if (!decIsInt(decOf(v))) builtinError("eval_type_error", fn, i == 1 ? "operand 1 must be integer number but got floating-point number" : "operand 2 must be integer number but got floating-point number");
  bitsIsSmall = false;
  return 0;
}
function bitsShift(fn: string, v: usize): i64 {
  if (kindOf(v) != NUMBER) typeError(fn, 2, "number", v);
  if (!numToI64(v)) builtinError("eval_type_error", fn, "operand 2 must be integer number but got floating-point number");
  let s = lastInt();
  if (s < 0) builtinError("eval_type_error", fn, "operand 2 must be an unsigned integer number but got a negative integer");
  if (s > 400000) builtinError("eval_builtin_error", fn, "shift too large");
  return s;
}
function pow2(s: i64): usize {
  let r = decFromI64(1), base = decFromI64(2);
  while (s > 0) { if ((s & 1) != 0) r = decMul(r, base); s >>= 1; if (s > 0) base = decMul(base, base); }
  return r;
}
function halveFloor(d: usize, s: i64): usize {
  let n = decN(d) + decExp(d); // integer digits
  if (s > <i64>n * 4 + 8) return decFromI64(decNeg(d) ? -1 : 0);
  let digs = malloc(<usize>n);
  for (let i = 0; i < n; i++) store<u8>(digs + <usize>i, i < decN(d) ? load<u8>(decDigits(d) + <usize>i) : 0);
  let lost = false;
  for (let k: i64 = 0; k < s; k++) {
    let rem = 0;
    for (let i = 0; i < n; i++) {
      let cur = rem * 10 + <i32>load<u8>(digs + <usize>i);
      store<u8>(digs + <usize>i, <u8>(cur >> 1));
      rem = cur & 1;
    }
    if (rem != 0) lost = true;
  }
  let q = decMake(decNeg(d), digs, n, 0);
  // magnitude was truncated: for negatives floor means one further from zero
  if (decNeg(d) && lost) q = decSub(q, decFromI64(1));
  return q;
}

export function b_json__marshal(v: usize): usize { return jsonDumpString(v); }

export function b_json__unmarshal(s: usize): usize {
  if (kindOf(s) != STRING) typeError("json.unmarshal", 1, "string", s);
  let v = jsonParse(strPtr(s), strLen(s));
  if (v == 0) builtinError("eval_builtin_error", "json.unmarshal", "invalid JSON");
  return v;
}

/** `$"..."` strings: parts are strings (literal text) or sets holding the value (empty: undefined). */
export function b_internal__template_string(parts: usize): usize {
  if (kindOf(parts) == 5) {
    let n = arrLen(parts);
    let texts = malloc(<usize>n * 8);
    let total: usize = 0;
    for (let i = 0; i < n; i++) {
      let e = arrGet(parts, i);
      let p: usize = 0, l: usize = 0;
      if (kindOf(e) == SET) {
        if (collLen(e) == 0) { p = UNDEF; l = 11; }
        else {
          if (collLen(e) > 1) builtinError("eval_conflict_error", "internal.template_string", "template-strings must not produce multiple outputs");
          e = collKey(e, 0);
        }
      }
      if (p == 0) {
        if (kindOf(e) == STRING) { p = strPtr(e); l = strLen(e); }
        else { p = valueDump(e); l = 0; while (load<u8>(p + l) != 0) l++; }
      }
      store<i32>(texts + <usize>i * 8, <i32>p);
      store<i32>(texts + <usize>i * 8 + 4, <i32>l);
      total += l;
    }
    let r = allocString(total);
    let o = strPtr(r);
    for (let i = 0; i < n; i++) {
      let l = <usize>load<i32>(texts + <usize>i * 8 + 4);
      memory.copy(o, <usize>load<i32>(texts + <usize>i * 8), l);
      o += l;
    }
    return r;
  }
  typeError("internal.template_string", 1, "array", parts);
  return 0;
}

const UNDEF = memory.data<u8>([60, 117, 110, 100, 101, 102, 105, 110, 101, 100, 62]); // "<undefined>"

export { decToValue };
