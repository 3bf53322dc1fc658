// String builtins with Go's semantics (runes, not bytes, where Go uses runes).
import {
  STRING, ARRAY, SET, NUMBER, kindOf, makeBool, makeInt, makeString, allocString, strLen, strPtr,
  makeArray, arrAppend, arrLen, arrGet, collLen, collKey, makeSet,
} from "../value";
import { setAdd } from "../collection";
import { collSort } from "../compare";
import { malloc } from "../alloc";
import { utf8Put } from "../json";
import { typeError, builtinError } from "./util";
import { runeLen, runeCount, runeAt, runeOffset, bytesFind, isSpace, toLowerRune, toUpperRune } from "./strutil";
import { numToI64, lastInt } from "../number";

function str(fn: string, i: i32, v: usize): void {
  if (kindOf(v) != STRING) typeError(fn, i, "string", v);
}

function sub(p: usize, n: usize): usize { return makeString(p, n); }

export function b_startswith(a: usize, b: usize): usize {
  str("startswith", 1, a); str("startswith", 2, b);
  let n = strLen(b);
  if (n > strLen(a)) return makeBool(false);
  return makeBool(memory.compare(strPtr(a), strPtr(b), n) == 0);
}

export function b_endswith(a: usize, b: usize): usize {
  str("endswith", 1, a); str("endswith", 2, b);
  let n = strLen(b), m = strLen(a);
  if (n > m) return makeBool(false);
  return makeBool(memory.compare(strPtr(a) + m - n, strPtr(b), n) == 0);
}

export function b_contains(a: usize, b: usize): usize {
  str("contains", 1, a); str("contains", 2, b);
  return makeBool(bytesFind(strPtr(a), strLen(a), strPtr(b), strLen(b), 0) >= 0);
}

function mapCase(fn: string, a: usize, upper: bool): usize {
  str(fn, 1, a);
  let p = strPtr(a), n = strLen(a);
  let out = malloc(n * 2 + 4);
  // ASCII prefix byte by byte, no rune decoding (most strings end here)
  let i: usize = 0;
  if (upper) {
    for (; i < n; i++) {
      let b = <u32>load<u8>(p + i);
      if (b >= 0x80) break;
      store<u8>(out + i, <u8>(b - 97 < 26 ? b - 32 : b));
    }
  } else {
    for (; i < n; i++) {
      let b = <u32>load<u8>(p + i);
      if (b >= 0x80) break;
      store<u8>(out + i, <u8>(b - 65 < 26 ? b + 32 : b));
    }
  }
  let o: usize = i;
  while (i < n) {
    let rl = runeLen(p + i, n - i);
    let c = runeAt(p + i, n - i);
    if (c < 0x80 || c == 0xFFFD && rl == 1) {
      // ASCII fast path; invalid bytes are copied as they are
      let b = <u32>load<u8>(p + i);
      if (b < 0x80) b = upper ? toUpperRune(b) : toLowerRune(b);
      store<u8>(out + o, <u8>b); o++;
    } else {
      o += utf8Put(out + o, upper ? toUpperRune(c) : toLowerRune(c));
    }
    i += rl;
  }
  return makeString(out, o);
}

export function b_lower(a: usize): usize { return mapCase("lower", a, false); }
export function b_upper(a: usize): usize { return mapCase("upper", a, true); }

export function b_concat(delim: usize, coll: usize): usize {
  str("concat", 1, delim);
  let k = kindOf(coll);
  if (k != ARRAY && k != SET) typeError("concat", 2, "one of {array, set}", coll);
  if (k == SET) collSort(coll);
  let n = k == ARRAY ? arrLen(coll) : collLen(coll);
  let total: usize = 0;
  for (let i = 0; i < n; i++) {
    let e = k == ARRAY ? arrGet(coll, i) : collKey(coll, i);
    if (kindOf(e) != STRING) typeError("concat", 2, k == ARRAY ? "array of strings" : "set of strings", coll);
    total += strLen(e);
  }
  let dl = strLen(delim);
  if (n > 1) total += dl * <usize>(n - 1);
  let r = allocString(total);
  let o = strPtr(r);
  for (let i = 0; i < n; i++) {
    if (i > 0) { memory.copy(o, strPtr(delim), dl); o += dl; }
    let e = k == ARRAY ? arrGet(coll, i) : collKey(coll, i);
    memory.copy(o, strPtr(e), strLen(e));
    o += strLen(e);
  }
  return r;
}

export function b_split(s: usize, d: usize): usize {
  str("split", 1, s); str("split", 2, d);
  let p = strPtr(s), n = strLen(s), dp = strPtr(d), dn = strLen(d);
  let r = makeArray(0);
  if (dn == 0) {
    let i: usize = 0;
    while (i < n) { let l = runeLen(p + i, n - i); arrAppend(r, sub(p + i, l)); i += l; }
    return r;
  }
  let start: usize = 0;
  while (true) {
    let at = bytesFind(p, n, dp, dn, start);
    if (at < 0) break;
    arrAppend(r, sub(p + start, <usize>at - start));
    start = <usize>at + dn;
  }
  arrAppend(r, sub(p + start, n - start));
  return r;
}

function inCutset(c: u32, cp: usize, cn: usize): bool {
  let i: usize = 0;
  while (i < cn) {
    let l = runeLen(cp + i, cn - i);
    if (runeAt(cp + i, cn - i) == c) return true;
    i += l;
  }
  return false;
}

/** Byte range [lo, hi) after trimming runes in the cutset (or spaces when cn == -1). */
function trimRange(p: usize, n: usize, cp: usize, cn: usize, left: bool, right: bool, spaces: bool): usize {
  let lo: usize = 0, hi = n;
  if (left) {
    while (lo < hi) {
      let c = runeAt(p + lo, hi - lo);
      if (spaces ? !isSpace(c) : !inCutset(c, cp, cn)) break;
      lo += runeLen(p + lo, hi - lo);
    }
  }
  if (right) {
    while (hi > lo) {
      // step back to the start of the last rune
      let s = hi - 1;
      while (s > lo && (load<u8>(p + s) & 0xC0) == 0x80 && hi - s < 4) s--;
      if (runeLen(p + s, hi - s) != hi - s) s = hi - 1;
      let c = runeAt(p + s, hi - s);
      if (spaces ? !isSpace(c) : !inCutset(c, cp, cn)) break;
      hi = s;
    }
  }
  return sub(p + lo, hi - lo);
}

export function b_trim(s: usize, c: usize): usize {
  str("trim", 1, s); str("trim", 2, c);
  return trimRange(strPtr(s), strLen(s), strPtr(c), strLen(c), true, true, false);
}
export function b_trim_left(s: usize, c: usize): usize {
  str("trim_left", 1, s); str("trim_left", 2, c);
  return trimRange(strPtr(s), strLen(s), strPtr(c), strLen(c), true, false, false);
}
export function b_trim_right(s: usize, c: usize): usize {
  str("trim_right", 1, s); str("trim_right", 2, c);
  return trimRange(strPtr(s), strLen(s), strPtr(c), strLen(c), false, true, false);
}
export function b_trim_space(s: usize): usize {
  str("trim_space", 1, s);
  return trimRange(strPtr(s), strLen(s), 0, 0, true, true, true);
}
export function b_trim_prefix(s: usize, pre: usize): usize {
  str("trim_prefix", 1, s); str("trim_prefix", 2, pre);
  let n = strLen(pre);
  if (n <= strLen(s) && memory.compare(strPtr(s), strPtr(pre), n) == 0) return sub(strPtr(s) + n, strLen(s) - n);
  return s;
}
export function b_trim_suffix(s: usize, suf: usize): usize {
  str("trim_suffix", 1, s); str("trim_suffix", 2, suf);
  let n = strLen(suf), m = strLen(s);
  if (n <= m && memory.compare(strPtr(s) + m - n, strPtr(suf), n) == 0) return sub(strPtr(s), m - n);
  return s;
}

export function b_indexof(s: usize, t: usize): usize {
  str("indexof", 1, s); str("indexof", 2, t);
  let at = bytesFind(strPtr(s), strLen(s), strPtr(t), strLen(t), 0);
  if (at < 0) return makeInt(-1);
  return makeInt(runeCount(strPtr(s), <usize>at));
}

export function b_indexof_n(s: usize, t: usize): usize {
  str("indexof_n", 1, s); str("indexof_n", 2, t);
  let r = makeArray(0);
  let p = strPtr(s), n = strLen(s);
  let from: usize = 0;
  while (from <= n) {
    let at = bytesFind(p, n, strPtr(t), strLen(t), from);
    if (at < 0) break;
    arrAppend(r, makeInt(runeCount(p, <usize>at)));
    from = <usize>at + (strLen(t) == 0 ? 1 : 1);
  }
  return r;
}

function intArg(fn: string, i: i32, v: usize): i64 {
  if (kindOf(v) != NUMBER) typeError(fn, i, "number", v);
  if (!numToI64(v)) typeError(fn, i, "integer number", v);
  return lastInt();
}

export function b_substring(s: usize, start: usize, len: usize): usize {
  str("substring", 1, s);
  let st = intArg("substring", 2, start);
  let ln = intArg("substring", 3, len);
  if (st < 0) builtinError("eval_builtin_error", "substring", "negative offset");
  let p = strPtr(s), n = strLen(s);
  let runes = runeCount(p, n);
  if (st >= <i64>runes) return sub(p, 0);
  let a = runeOffset(p, n, <i32>st);
  let b = n;
  if (ln >= 0 && st + ln < <i64>runes) b = runeOffset(p, n, <i32>(st + ln));
  return sub(p + a, b - a);
}

function replaceAll(s: usize, old: usize, nw: usize): usize {
  let p = strPtr(s), n = strLen(s), op = strPtr(old), on = strLen(old), np = strPtr(nw), nn = strLen(nw);
  // worst case size: every rune boundary gets a replacement
  let cap = n + (nn + 1) * (n + 1) + 8;
  if (on > 0) {
    let count: usize = 0;
    let from: usize = 0;
    while (true) { let at = bytesFind(p, n, op, on, from); if (at < 0) break; count++; from = <usize>at + on; }
    if (count == 0) return s;
    cap = n + count * nn;
  }
  let out = malloc(cap);
  let o: usize = 0;
  if (on == 0) {
    // Go inserts `new` before every rune and at the end
    let i: usize = 0;
    memory.copy(out + o, np, nn); o += nn;
    while (i < n) {
      let l = runeLen(p + i, n - i);
      memory.copy(out + o, p + i, l); o += l; i += l;
      memory.copy(out + o, np, nn); o += nn;
    }
    return makeString(out, o);
  }
  let from: usize = 0;
  while (true) {
    let at = bytesFind(p, n, op, on, from);
    if (at < 0) break;
    let chunk = <usize>at - from;
    memory.copy(out + o, p + from, chunk); o += chunk;
    memory.copy(out + o, np, nn); o += nn;
    from = <usize>at + on;
  }
  memory.copy(out + o, p + from, n - from); o += n - from;
  return makeString(out, o);
}

export function b_replace(s: usize, old: usize, nw: usize): usize {
  str("replace", 1, s); str("replace", 2, old); str("replace", 3, nw);
  return replaceAll(s, old, nw);
}

export function b_strings__reverse(s: usize): usize {
  str("strings.reverse", 1, s);
  let p = strPtr(s), n = strLen(s);
  let r = allocString(n);
  let o = strPtr(r) + n;
  let i: usize = 0;
  while (i < n) { let l = runeLen(p + i, n - i); o -= l; memory.copy(o, p + i, l); i += l; }
  return r;
}

export function b_strings__count(s: usize, t: usize): usize {
  str("strings.count", 1, s); str("strings.count", 2, t);
  let p = strPtr(s), n = strLen(s), tn = strLen(t);
  if (tn == 0) return makeInt(runeCount(p, n) + 1);
  let c = 0;
  let from: usize = 0;
  while (true) { let at = bytesFind(p, n, strPtr(t), tn, from); if (at < 0) break; c++; from = <usize>at + tn; }
  return makeInt(c);
}

/** Number of runes (count() on strings). */
export function stringRunes(s: usize): i32 { return runeCount(strPtr(s), strLen(s)); }

export { makeSet, setAdd };
