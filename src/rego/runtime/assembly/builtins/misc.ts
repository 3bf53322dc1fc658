// to_number, format_int, numbers.range, bits.*, json.marshal/unmarshal, internal.template_string.
import {
  NULL, BOOLEAN, NUMBER, STRING, SET, kindOf, boolOf, makeInt, makeArray, arrAppend, arrLen, arrGet,
  collLen, collKey, strLen, strPtr, makeString, allocString,
} from "../value";
import { malloc } from "../alloc";
import { decParse, decOf, decFloor, decToValue, decToI64, lastInt, numToI64, decNeg, decN, decExp, decDigits } from "../number";
import { jsonParse, jsonDumpString, valueDump } from "../json";
import { typeError, builtinError } from "./util";
import { makeNumRef } from "../value";

export function b_to_number(v: usize): usize {
  let k = kindOf(v);
  if (k == NULL) return makeInt(0);
  if (k == BOOLEAN) return makeInt(boolOf(v) ? 1 : 0);
  if (k == NUMBER) return v;
  if (k != STRING) typeError("to_number", 1, "one of {null, boolean, number, string}", v);
  let p = strPtr(v), n = strLen(v);
  // Go's ParseFloat accepts a leading '+'; the number keeps its text otherwise
  let q = p, m = n;
  if (m > 0 && load<u8>(q) == 43) { q++; m--; }
  if (m == 0 || decParse(q, m) == 0) builtinError("eval_builtin_error", "to_number", "invalid syntax");
  return makeNumRef(q, m);
}

const DIGITS = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

export function b_format_int(v: usize, base: usize): usize {
  if (kindOf(v) != NUMBER) typeError("format_int", 1, "number", v);
  if (kindOf(base) != NUMBER) typeError("format_int", 2, "number", base);
  let b: i64 = 0;
  if (numToI64(base)) b = lastInt();
  if (b != 2 && b != 8 && b != 10 && b != 16) builtinError("eval_builtin_error", "format_int", "operand 2 must be one of {2, 8, 10, 16}");
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

export function b_numbers__range(a: usize, b: usize): usize {
  let x = intArg("numbers.range", 1, a), y = intArg("numbers.range", 2, b);
  let n = x <= y ? y - x + 1 : x - y + 1;
  if (n > 100000000) builtinError("eval_builtin_error", "numbers.range", "range too large");
  let r = makeArray(<i32>n);
  if (x <= y) for (let i = x; i <= y; i++) arrAppend(r, makeInt(i));
  else for (let i = x; i >= y; i--) arrAppend(r, makeInt(i));
  return r;
}

export function b_numbers__range_step(a: usize, b: usize, s: usize): usize {
  let x = intArg("numbers.range_step", 1, a), y = intArg("numbers.range_step", 2, b), st = intArg("numbers.range_step", 3, s);
  if (st <= 0) builtinError("eval_builtin_error", "numbers.range_step", "step must be a positive integer");
  let r = makeArray(0);
  if (x <= y) for (let i = x; i <= y; i += st) arrAppend(r, makeInt(i));
  else for (let i = x; i >= y; i -= st) arrAppend(r, makeInt(i));
  return r;
}

export function b_bits__or(a: usize, b: usize): usize { return makeInt(intArg("bits.or", 1, a) | intArg("bits.or", 2, b)); }
export function b_bits__and(a: usize, b: usize): usize { return makeInt(intArg("bits.and", 1, a) & intArg("bits.and", 2, b)); }
export function b_bits__xor(a: usize, b: usize): usize { return makeInt(intArg("bits.xor", 1, a) ^ intArg("bits.xor", 2, b)); }
export function b_bits__negate(a: usize): usize { return makeInt(~intArg("bits.negate", 1, a)); }
export function b_bits__lsh(a: usize, b: usize): usize {
  let x = intArg("bits.lsh", 1, a), s = intArg("bits.lsh", 2, b);
  if (s < 0) builtinError("eval_builtin_error", "bits.lsh", "operand 2 must be an unsigned integer number");
  if (s >= 63 || (x != 0 && (x << s) >> s != x)) builtinError("eval_builtin_error", "bits.lsh", "result out of range");
  return makeInt(x << s);
}
export function b_bits__rsh(a: usize, b: usize): usize {
  let x = intArg("bits.rsh", 1, a), s = intArg("bits.rsh", 2, b);
  if (s < 0) builtinError("eval_builtin_error", "bits.rsh", "operand 2 must be an unsigned integer number");
  return makeInt(s >= 63 ? (x < 0 ? -1 : 0) : x >> s);
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
