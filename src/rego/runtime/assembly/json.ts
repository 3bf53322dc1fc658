// JSON in and out, as OPA reads and writes it: numbers keep their text, objects are dumped
// with keys in OPA's order, sets as arrays in OPA's order, strings escaped the way Go's
// encoding/json escapes them. The Rego-syntax dump (opa_value_dump) shares the writer.
import { malloc, heapGet } from "./alloc";
import {
  NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT, SET, NUM_INT,
  kindOf, boolOf, makeNull, makeBool, makeInt, makeNumRef, makeString, strLen, strPtr,
  makeArray, arrLen, arrGet, makeColl,
  collLen, collKey, collVal, numRepr, numInt, numRefPtr, numRefLen,
} from "./value";
import { stringCompare, stringEqual, prefix8, collSort } from "./compare";

const MAX_DEPTH: i32 = 4096;

// ---------------------------------------------------------------- parse
// One pass with a moving pointer. The members of the containers being parsed wait on a
// stack (a static block, moved to the heap if it overflows) and are copied into a right-sized
// array/object when the container closes. An object's keys (all strings) are sorted there
// once, so parsed objects are in OPA's key order from the start and never need a hash
// table: lookups in them are binary searches (value.ts).

let pos: usize = 0; // absolute address of the next byte
let end: usize = 0; // absolute address past the text
let failed = false;

const STACK_SLOTS: i32 = 2048;
const stack0 = memory.data(STACK_SLOTS << 2);
let stk: usize = 0;
let stkCap: i32 = 0;
let sp: i32 = 0;

function growStack(): void {
  let ncap = stkCap * 2;
  let ns = malloc(<usize>ncap << 2);
  memory.copy(ns, stk, <usize>sp << 2);
  stk = ns;
  stkCap = ncap;
}

@inline function push(x: usize): void {
  if (sp >= stkCap) growStack();
  store<i32>(stk + (<usize>sp << 2), <i32>x);
  sp++;
}

@inline function skipWs(): void {
  let p = pos;
  let e = end;
  while (p < e) {
    let c = load<u8>(p);
    if (c == 32 || c == 10 || c == 13 || c == 9) p++; else break;
  }
  pos = p;
}

/** The byte at pos, or 0 at the end (0 is never valid where this is asked). */
@inline function cur(): u32 { return pos < end ? <u32>load<u8>(pos) : 0; }

function hex4(at: usize): i32 {
  if (at + 4 > end) return -1;
  let v = 0;
  for (let i: usize = 0; i < 4; i++) {
    let c = <i32>load<u8>(at + i);
    let d = -1;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

export function utf8Put(p: usize, cp: u32): usize {
  if (cp < 0x80) { store<u8>(p, <u8>cp); return 1; }
  if (cp < 0x800) {
    store<u8>(p, <u8>(0xC0 | (cp >> 6))); store<u8>(p + 1, <u8>(0x80 | (cp & 63))); return 2;
  }
  if (cp < 0x10000) {
    store<u8>(p, <u8>(0xE0 | (cp >> 12))); store<u8>(p + 1, <u8>(0x80 | ((cp >> 6) & 63)));
    store<u8>(p + 2, <u8>(0x80 | (cp & 63))); return 3;
  }
  store<u8>(p, <u8>(0xF0 | (cp >> 18))); store<u8>(p + 1, <u8>(0x80 | ((cp >> 12) & 63)));
  store<u8>(p + 2, <u8>(0x80 | ((cp >> 6) & 63))); store<u8>(p + 3, <u8>(0x80 | (cp & 63)));
  return 4;
}

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/** Bit 7 of the lowest byte of x that is a quote, a backslash or a control byte is set. */
@inline function specialBytes(x: u64): u64 {
  let q = x ^ (ONES * 0x22);
  let b = x ^ (ONES * 0x5C);
  return ((q - ONES) & ~q | (b - ONES) & ~b | (x - ONES * 0x20) & ~x) & HIGHS;
}

function parseString(): usize {
  let start = pos + 1; // after the opening quote
  let q = start;
  let e = end;
  let escapes = false;
  while (true) {
    // eight bytes at a time up to the first quote, backslash or control byte
    while (q + 8 <= e) {
      let t = specialBytes(load<u64>(q));
      if (t != 0) { q += <usize>(ctz<u64>(t) >> 3); break; }
      q += 8;
    }
    if (q >= e) { failed = true; return 0; }
    let c = load<u8>(q);
    if (c == 34) break;
    if (c == 92) { escapes = true; q += 2; continue; }
    if (c < 0x20) { failed = true; return 0; }
    q++;
  }
  let rawEnd = q;
  pos = q + 1; // after the closing quote
  if (!escapes) return makeString(start, rawEnd - start);
  // unescaping never grows the text
  let out = malloc(rawEnd - start);
  let o: usize = 0;
  let i = start;
  while (i < rawEnd) {
    let c = load<u8>(i);
    if (c != 92) { store<u8>(out + o, c); o++; i++; continue; }
    if (i + 1 >= rawEnd) { failed = true; return 0; }
    let x = load<u8>(i + 1);
    i += 2;
    switch (x) {
      case 34: store<u8>(out + o, 34); o++; break;
      case 92: store<u8>(out + o, 92); o++; break;
      case 47: store<u8>(out + o, 47); o++; break;
      case 98: store<u8>(out + o, 8); o++; break;
      case 102: store<u8>(out + o, 12); o++; break;
      case 110: store<u8>(out + o, 10); o++; break;
      case 114: store<u8>(out + o, 13); o++; break;
      case 116: store<u8>(out + o, 9); o++; break;
      case 117: {
        let cp = hex4(i);
        if (cp < 0 || i + 4 > rawEnd) { failed = true; return 0; }
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
          // a surrogate pair, or a lone surrogate (Go replaces it with U+FFFD)
          let lo = -1;
          if (i + 6 <= rawEnd && load<u8>(i) == 92 && load<u8>(i + 1) == 117) lo = hex4(i + 2);
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else cp = 0xFFFD;
        } else if (cp >= 0xDC00 && cp < 0xE000) cp = 0xFFFD;
        o += utf8Put(out + o, <u32>cp);
        break;
      }
      default: failed = true; return 0;
    }
  }
  return makeString(out, o);
}

@inline function isDigit(c: u32): bool { return c - 48 < 10; }

@inline function at(p: usize, e: usize): u32 { return p < e ? <u32>load<u8>(p) : 0; }

function parseNumber(): usize {
  let start = pos;
  let p = pos;
  let e = end;
  if (at(p, e) == 45) p++;
  let intStart = p;
  let c = at(p, e);
  if (c == 48) p++;
  else if (c >= 49 && c <= 57) { p++; while (isDigit(at(p, e))) p++; }
  else { failed = true; return 0; }
  let intEnd = p;
  let simple = true;
  if (at(p, e) == 46) {
    simple = false; p++;
    if (!isDigit(at(p, e))) { failed = true; return 0; }
    while (isDigit(at(p, e))) p++;
  }
  c = at(p, e);
  if (c == 101 || c == 69) {
    simple = false; p++;
    c = at(p, e);
    if (c == 43 || c == 45) p++;
    if (!isDigit(at(p, e))) { failed = true; return 0; }
    while (isDigit(at(p, e))) p++;
  }
  pos = p;
  let n = intEnd - intStart;
  // Plain integers that surely fit in i64 become NUM_INT ("-0" keeps its text).
  if (simple && n <= 18 && !(n == 1 && load<u8>(intStart) == 48 && intStart != start)) {
    let x: i64 = 0;
    for (let i = intStart; i < intEnd; i++) x = x * 10 + <i64>(load<u8>(i) - 48);
    return makeInt(intStart != start ? -x : x);
  }
  return makeNumRef(start, p - start);
}

// Sorting an object's members: each becomes a 16-byte record [first 8 key bytes as a
// big-endian u64, key, value], so most comparisons are one integer compare; equal prefixes
// fall back to comparing the whole keys.

/** The first (up to) 8 bytes of a string as a big-endian number, zero-padded. */
@inline function keyPrefix(k: usize): u64 {
  return prefix8(strPtr(k), strLen(k));
}

/** Copies n 16-byte records (no memory.copy: for a few bytes it is a call out of wasm). */
@inline function copyRecs(to: usize, from: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    let o = i << 4;
    store<u64>(to + o, load<u64>(from + o));
    store<u64>(to + o, load<u64>(from + o, 8), 8);
  }
}

@inline function recLess(a: usize, b: usize): bool {
  let pa = load<u64>(a), pb = load<u64>(b);
  if (pa != pb) return pa < pb;
  return stringCompare(<usize>load<i32>(a, 8), <usize>load<i32>(b, 8)) < 0;
}

function insertionSortRecs(r: usize, n: i32): void {
  for (let i = 1; i < n; i++) {
    let x = r + (<usize>i << 4);
    if (!recLess(x, x - 16)) continue;
    let px = load<u64>(x), kv = load<u64>(x, 8);
    let j = i;
    while (j > 0) {
      let y = r + (<usize>(j - 1) << 4);
      let py = load<u64>(y);
      if (py < px || (py == px && stringCompare(<usize>load<i32>(y, 8), <usize><u32>kv) <= 0)) break;
      store<u64>(y + 16, py);
      store<u64>(y + 16, load<u64>(y, 8), 8);
      j--;
    }
    let d = r + (<usize>j << 4);
    store<u64>(d, px);
    store<u64>(d, kv, 8);
  }
}

/** Stable sort of n records at r (tmp: room for n more). Returns where the sorted records are. */
function sortRecs(r: usize, tmp: usize, n: i32): usize {
  const RUN: i32 = 8;
  for (let lo = 0; lo < n; lo += RUN) insertionSortRecs(r + (<usize>lo << 4), min(RUN, n - lo));
  let from = r, to = tmp;
  for (let w = RUN; w < n; w <<= 1) {
    for (let lo = 0; lo < n; lo += w << 1) {
      let mid = min(lo + w, n), hi = min(lo + (w << 1), n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        let a = from + (<usize>i << 4), b = from + (<usize>j << 4);
        let src = a;
        if (recLess(b, a)) { src = b; j++; } else i++;
        copyRecs(to + (<usize>k << 4), src, 1);
        k++;
      }
      if (i < mid) copyRecs(to + (<usize>k << 4), from + (<usize>i << 4), <usize>(mid - i));
      else if (j < hi) copyRecs(to + (<usize>k << 4), from + (<usize>j << 4), <usize>(hi - j));
    }
    let t = from; from = to; to = t;
  }
  return from;
}

function parseObject(depth: i32): usize {
  pos++;
  let base = sp;
  skipWs();
  if (cur() == 125) { pos++; return makeColl(OBJECT, 0); }
  while (true) {
    skipWs();
    if (cur() != 34) { failed = true; return 0; }
    let k = parseString();
    if (failed) return 0;
    skipWs();
    if (cur() != 58) { failed = true; return 0; }
    pos++;
    let v = parseValue(depth + 1);
    if (failed) return 0;
    push(k);
    push(v);
    skipWs();
    let d = cur();
    if (d == 44) { pos++; continue; }
    if (d == 125) { pos++; break; }
    failed = true; return 0;
  }
  return finishObject(base);
}

/**
 * The object whose members wait on the stack from `base` on. Kept out of parseObject so
 * that the parser's frame per nesting level stays small (deep documents must end in a
 * parse error at MAX_DEPTH, not in a stack overflow).
 */
function finishObject(base: i32): usize {
  let n = (sp - base) >> 1;
  let obj = makeColl(OBJECT, n);
  let e = <usize>load<i32>(obj, 12);
  if (n == 1) {
    store<i64>(e, load<i64>(stk + (<usize>base << 2)));
    store<u32>(e, 0, 8);
    store<i32>(obj, 1, 4);
    sp = base;
    return obj;
  }
  if (n <= LAZY_MAX && smallInTextOrder(obj, base, n)) {
    sp = base;
    return obj;
  }
  // records after the pairs on the stack, plus as much again for merging
  while (sp + (n << 3) > stkCap) growStack();
  let pairs = stk + (<usize>base << 2);
  let recs = stk + (<usize>sp << 2);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    let r = recs + (<usize>i << 4);
    store<u64>(r, keyPrefix(<usize>load<i32>(pairs + (<usize>i << 3))));
    store<i64>(r, load<i64>(pairs + (<usize>i << 3)), 8);
    if (sorted && i > 0 && !recLess(r - 16, r)) sorted = false;
  }
  if (!sorted) recs = sortRecs(recs, recs + (<usize>n << 4), n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    let r = recs + (<usize>i << 4);
    // of equal keys (adjacent now, in text order) the last one wins, as in Go
    if (i + 1 < n && load<u64>(r) == load<u64>(r + 16) &&
      stringEqual(<usize>load<i32>(r, 8), <usize>load<i32>(r, 24))) continue;
    store<i64>(e, load<i64>(r, 8));
    store<u32>(e, 0, 8); // hash: computed when needed
    e += 12;
    m++;
  }
  store<i32>(obj, m, 4);
  sp = base;
  return obj;
}

// Small objects without duplicate keys keep the text's order (collSort puts them in OPA's
// order, in place, if something iterates, compares or dumps them): most of an input's objects
// are only ever looked up, which for this size is a linear scan either way.
const LAZY_MAX: i32 = 8;

/**
 * Copies the n members waiting on the stack into obj in text order, marked sorted if they
 * are; false (obj untouched but its entries) when two keys are equal: the sorting path then
 * keeps the last of them, as Go does.
 */
function smallInTextOrder(obj: usize, base: i32, n: i32): bool {
  let pairs = stk + (<usize>base << 2);
  let e = <usize>load<i32>(obj, 12);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    let k = <usize>load<i32>(pairs + (<usize>i << 3));
    let kl = strLen(k);
    for (let j = 0; j < i; j++) {
      let kj = <usize>load<i32>(pairs + (<usize>j << 3));
      if (strLen(kj) == kl && stringEqual(kj, k)) return false;
    }
    if (sorted && i > 0 && stringCompare(<usize>load<i32>(pairs + (<usize>(i - 1) << 3)), k) > 0) sorted = false;
    let d = e + <usize>i * 12;
    store<i64>(d, load<i64>(pairs + (<usize>i << 3)));
    store<u32>(d, 0, 8); // hash: computed when needed
  }
  store<i32>(obj, n, 4);
  store<i32>(obj, sorted ? 1 : 0, 24);
  return true;
}

function parseArray(depth: i32): usize {
  pos++;
  let base = sp;
  skipWs();
  if (cur() == 93) { pos++; return makeArray(0); }
  while (true) {
    let v = parseValue(depth + 1);
    if (failed) return 0;
    push(v);
    skipWs();
    let d = cur();
    if (d == 44) { pos++; continue; }
    if (d == 93) { pos++; break; }
    failed = true; return 0;
  }
  let n = sp - base;
  let arr = makeArray(n);
  let dst = <usize>load<i32>(arr, 12), src = stk + (<usize>base << 2);
  if (n <= 16) for (let i: usize = 0; i < <usize>n << 2; i += 4) store<i32>(dst + i, load<i32>(src + i));
  else memory.copy(dst, src, <usize>n << 2);
  store<i32>(arr, n, 4);
  sp = base;
  return arr;
}

function parseValue(depth: i32): usize {
  if (depth > MAX_DEPTH) { failed = true; return 0; }
  skipWs();
  let c = cur();
  if (c == 34) return parseString();
  if (c == 123) return parseObject(depth);
  if (c == 91) return parseArray(depth);
  let left = end - pos;
  // literals compared four bytes at a time ("true", "null", "fals" + "e", little-endian)
  if (c == 116) { if (left >= 4 && load<u32>(pos) == 0x65757274) { pos += 4; return makeBool(true); } failed = true; return 0; }
  if (c == 102) { if (left >= 5 && load<u32>(pos) == 0x736C6166 && load<u8>(pos + 4) == 101) { pos += 5; return makeBool(false); } failed = true; return 0; }
  if (c == 110) { if (left >= 4 && load<u32>(pos) == 0x6C6C756E) { pos += 4; return makeNull(); } failed = true; return 0; }
  if (c == 45 || isDigit(c)) return parseNumber();
  failed = true;
  return 0;
}

/** Parses one JSON document; 0 when the text is not valid JSON. */
export function jsonParse(p: usize, len: usize): usize {
  pos = p; end = p + len; failed = false;
  stk = stack0; stkCap = STACK_SLOTS; sp = 0;
  let v = parseValue(0);
  if (failed) return 0;
  skipWs();
  if (pos != end) return 0;
  return v;
}

// ---------------------------------------------------------------- dump

let buf: usize = 0;
let blen: usize = 0;
let bcap: usize = 0;

@inline function ensure(n: usize): void {
  if (blen + n > bcap) grow(n);
}

function grow(n: usize): void {
  let ncap = bcap * 2;
  if (ncap < blen + n) ncap = blen + n;
  ncap = (ncap + 7) & ~(<usize>7);
  if (buf + bcap == heapGet()) {
    // the buffer is the last allocation: extend it in place
    malloc(ncap - bcap);
  } else {
    let nb = malloc(ncap);
    memory.copy(nb, buf, blen);
    buf = nb;
  }
  bcap = ncap;
}

@inline function putByte(b: u32): void { ensure(1); store<u8>(buf + blen, <u8>b); blen++; }

function putBytes(p: usize, n: usize): void {
  ensure(n);
  let d = buf + blen;
  if (n <= 16) {
    for (let i: usize = 0; i < n; i++) store<u8>(d + i, load<u8>(p + i));
  } else memory.copy(d, p, n);
  blen += n;
}

function putLit(s: string): void {
  let n = <usize>s.length;
  ensure(n);
  for (let i: usize = 0; i < n; i++) store<u8>(buf + blen + i, <u8>s.charCodeAt(<i32>i));
  blen += n;
}

function putI64(x: i64): void {
  let tmp = memory.data(24);
  let n = 0;
  let neg = x < 0;
  let y = neg ? x : -x;
  do { store<u8>(tmp + n, <u8>(48 - (y % 10))); n++; y /= 10; } while (y != 0);
  if (neg) putByte(45);
  ensure(<usize>n);
  while (n > 0) { n--; store<u8>(buf + blen, load<u8>(tmp + n)); blen++; }
}

const HEX = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

function putU4(cp: u32): void {
  putLit("\\u");
  putByte(<u32>load<u8>(HEX + ((cp >> 12) & 15)));
  putByte(<u32>load<u8>(HEX + ((cp >> 8) & 15)));
  putByte(<u32>load<u8>(HEX + ((cp >> 4) & 15)));
  putByte(<u32>load<u8>(HEX + (cp & 15)));
}

/** Length of the valid UTF-8 sequence at p (0 if invalid). ASCII is decided inline. */
@inline export function utf8SeqLen(p: usize, left: usize): i32 {
  return load<u8>(p) < 0x80 ? 1 : utf8SeqLenMulti(p, left);
}

function utf8SeqLenMulti(p: usize, left: usize): i32 {
  let c = <u32>load<u8>(p);
  let n = 0;
  let min: u32 = 0;
  let cp: u32 = 0;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (<usize>n > left) return 0;
  for (let i = 1; i < n; i++) {
    let d = <u32>load<u8>(p + <usize>i);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return 0;
  return n;
}

// Bytes that Go's encoding/json writes as they are inside a string: printable ASCII except
// the quote, the backslash and the HTML-sensitive <, > and &.
const PLAIN = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]);

function putString(p: usize, n: usize): void {
  ensure(n + 2); // enough unless something needs escaping
  store<u8>(buf + blen, 34);
  blen++;
  let i: usize = 0;
  while (i < n) {
    // a run of bytes written as they are
    let run = i;
    while (i < n && load<u8>(PLAIN + <usize>load<u8>(p + i)) != 0) i++;
    if (i > run) putBytes(p + run, i - run);
    if (i >= n) break;
    let c = <u32>load<u8>(p + i);
    if (c < 0x80) {
      if (c == 34) putLit("\\\"");
      else if (c == 92) putLit("\\\\");
      else if (c == 10) putLit("\\n");
      else if (c == 13) putLit("\\r");
      else if (c == 9) putLit("\\t");
      else if (c == 8) putLit("\\b");
      else if (c == 12) putLit("\\f");
      else putU4(c); // other control characters and Go's HTML-safe <, >, &
      i++;
      continue;
    }
    let sl = utf8SeqLen(p + i, n - i);
    if (sl == 0) { putLit("\\ufffd"); i++; continue; }
    // U+2028 and U+2029 are escaped by Go
    if (sl == 3 && c == 0xE2 && load<u8>(p + i + 1) == 0x80 && (load<u8>(p + i + 2) == 0xA8 || load<u8>(p + i + 2) == 0xA9)) {
      putU4(load<u8>(p + i + 2) == 0xA8 ? 0x2028 : 0x2029);
      i += 3;
      continue;
    }
    putBytes(p + i, <usize>sl);
    i += <usize>sl;
  }
  putByte(34);
}

/** Writes v; rego selects Rego syntax (sets as {..}/set(), non-string keys as terms). */
function putValue(v: usize, rego: bool): void {
  switch (kindOf(v)) {
    case NULL: putLit("null"); return;
    case BOOLEAN: if (boolOf(v)) putLit("true"); else putLit("false"); return;
    case NUMBER:
      if (numRepr(v) == NUM_INT) putI64(numInt(v));
      else putBytes(numRefPtr(v), numRefLen(v));
      return;
    case STRING: putString(strPtr(v), strLen(v)); return;
    case ARRAY: {
      putByte(91);
      let n = arrLen(v);
      for (let i = 0; i < n; i++) {
        if (i > 0) { putByte(44); if (rego) putByte(32); }
        putValue(arrGet(v, i), rego);
      }
      putByte(93);
      return;
    }
    case OBJECT: {
      collSort(v);
      putByte(123);
      let n = collLen(v);
      for (let i = 0; i < n; i++) {
        if (i > 0) { putByte(44); if (rego) putByte(32); }
        let k = collKey(v, i);
        if (kindOf(k) == STRING || rego) putValue(k, rego);
        else {
          // JSON has string keys only: use the key's JSON text
          let start = blen;
          putValue(k, false);
          let klen = blen - start;
          let tmp = malloc(klen);
          memory.copy(tmp, buf + start, klen);
          blen = start;
          putString(tmp, klen);
        }
        putByte(58);
        if (rego) putByte(32);
        putValue(collVal(v, i), rego);
      }
      putByte(125);
      return;
    }
    case SET: {
      collSort(v);
      let n = collLen(v);
      if (rego && n == 0) { putLit("set()"); return; }
      putByte(rego ? 123 : 91);
      for (let i = 0; i < n; i++) {
        if (i > 0) { putByte(44); if (rego) putByte(32); }
        putValue(collKey(v, i), rego);
      }
      putByte(rego ? 125 : 93);
      return;
    }
  }
}

function dump(v: usize, rego: bool): usize {
  bcap = 256;
  buf = malloc(bcap);
  blen = 0;
  if (v == 0) putLit("null"); // nothing sensible to print; never expected
  else putValue(v, rego);
  putByte(0);
  return buf;
}

/** NUL-terminated JSON text of v. */
export function jsonDump(v: usize): usize { return dump(v, false); }

/** NUL-terminated Rego text of v. */
export function valueDump(v: usize): usize { return dump(v, true); }

/** JSON text of v as a string value (json.marshal), without the NUL. */
export function jsonDumpString(v: usize): usize {
  let p = dump(v, false);
  return makeString(p, blen - 1);
}
