// JSON in and out, as OPA reads and writes it: numbers keep their text, objects are dumped
// with keys in OPA's order, sets as arrays in OPA's order, strings escaped the way Go's
// encoding/json escapes them. The Rego-syntax dump (opa_value_dump) shares the writer.
import { malloc, heapGet } from "./alloc";
import {
  NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT, SET, NUM_INT,
  kindOf, boolOf, makeNull, makeBool, makeInt, makeNumRef, makeString, strLen, strPtr,
  makeArray, arrAppend, arrLen, arrGet, makeObject, makeSet, collInsert, setAdd,
  collLen, collKey, collVal, collSort, numRepr, numInt, numRefPtr, numRefLen,
} from "./value";

const MAX_DEPTH: i32 = 4096;

// ---------------------------------------------------------------- parse

let src: usize = 0;
let pos: usize = 0;
let end: usize = 0;
let failed = false;

@inline function peek(): u32 { return pos < end ? <u32>load<u8>(src + pos) : 0xFFFF; }

function skipWs(): void {
  while (pos < end) {
    let c = load<u8>(src + pos);
    if (c == 32 || c == 9 || c == 10 || c == 13) pos++; else break;
  }
}

function expectLit(s: string): bool {
  let n = <usize>s.length;
  if (pos + n > end) return false;
  for (let i: usize = 0; i < n; i++) if (<i32>load<u8>(src + pos + i) != s.charCodeAt(<i32>i)) return false;
  pos += n;
  return true;
}

function hex4(at: usize): i32 {
  if (at + 4 > end) return -1;
  let v = 0;
  for (let i: usize = 0; i < 4; i++) {
    let c = <i32>load<u8>(src + at + i);
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

function parseString(): usize {
  pos++; // opening quote
  let start = pos;
  let escapes = false;
  while (true) {
    if (pos >= end) { failed = true; return 0; }
    let c = load<u8>(src + pos);
    if (c == 34) break;
    if (c < 0x20) { failed = true; return 0; }
    if (c == 92) { escapes = true; pos += 2; continue; }
    pos++;
  }
  let rawEnd = pos;
  pos++; // closing quote
  if (!escapes) return makeString(src + start, rawEnd - start);
  // unescaping never grows the text
  let out = malloc(rawEnd - start);
  let o: usize = 0;
  let i = start;
  while (i < rawEnd) {
    let c = load<u8>(src + i);
    if (c != 92) { store<u8>(out + o, c); o++; i++; continue; }
    if (i + 1 >= rawEnd) { failed = true; return 0; }
    let e = load<u8>(src + i + 1);
    i += 2;
    switch (e) {
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
          if (i + 6 <= rawEnd && load<u8>(src + i) == 92 && load<u8>(src + i + 1) == 117) lo = hex4(i + 2);
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

function parseNumber(): usize {
  let start = pos;
  if (peek() == 45) pos++;
  let intStart = pos;
  if (peek() == 48) pos++;
  else if (peek() >= 49 && peek() <= 57) { while (peek() >= 48 && peek() <= 57) pos++; }
  else { failed = true; return 0; }
  let intEnd = pos;
  let simple = true;
  if (peek() == 46) {
    simple = false; pos++;
    if (!(peek() >= 48 && peek() <= 57)) { failed = true; return 0; }
    while (peek() >= 48 && peek() <= 57) pos++;
  }
  if (peek() == 101 || peek() == 69) {
    simple = false; pos++;
    if (peek() == 43 || peek() == 45) pos++;
    if (!(peek() >= 48 && peek() <= 57)) { failed = true; return 0; }
    while (peek() >= 48 && peek() <= 57) pos++;
  }
  let n = intEnd - intStart;
  // Plain integers that surely fit in i64 become NUM_INT ("-0" keeps its text).
  if (simple && n <= 18 && !(n == 1 && load<u8>(src + intStart) == 48 && intStart != start)) {
    let x: i64 = 0;
    for (let i = intStart; i < intEnd; i++) x = x * 10 + <i64>(load<u8>(src + i) - 48);
    return makeInt(intStart != start ? -x : x);
  }
  return makeNumRef(src + start, pos - start);
}

function parseValue(depth: i32): usize {
  if (depth > MAX_DEPTH) { failed = true; return 0; }
  skipWs();
  let c = peek();
  if (c == 123) { // {
    pos++;
    let obj = makeObject();
    skipWs();
    if (peek() == 125) { pos++; return obj; }
    while (true) {
      skipWs();
      if (peek() != 34) { failed = true; return 0; }
      let k = parseString();
      if (failed) return 0;
      skipWs();
      if (peek() != 58) { failed = true; return 0; }
      pos++;
      let v = parseValue(depth + 1);
      if (failed) return 0;
      collInsert(obj, k, v);
      skipWs();
      let d = peek();
      if (d == 44) { pos++; continue; }
      if (d == 125) { pos++; break; }
      failed = true; return 0;
    }
    collSort(obj);
    return obj;
  }
  if (c == 91) { // [
    pos++;
    let arr = makeArray(0);
    skipWs();
    if (peek() == 93) { pos++; return arr; }
    while (true) {
      let v = parseValue(depth + 1);
      if (failed) return 0;
      arrAppend(arr, v);
      skipWs();
      let d = peek();
      if (d == 44) { pos++; continue; }
      if (d == 93) { pos++; break; }
      failed = true; return 0;
    }
    return arr;
  }
  if (c == 34) return parseString();
  if (c == 116) { if (expectLit("true")) return makeBool(true); failed = true; return 0; }
  if (c == 102) { if (expectLit("false")) return makeBool(false); failed = true; return 0; }
  if (c == 110) { if (expectLit("null")) return makeNull(); failed = true; return 0; }
  if (c == 45 || (c >= 48 && c <= 57)) return parseNumber();
  failed = true;
  return 0;
}

/** Parses one JSON document; 0 when the text is not valid JSON. */
export function jsonParse(p: usize, len: usize): usize {
  src = p; pos = 0; end = len; failed = false;
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

function ensure(n: usize): void {
  if (blen + n <= bcap) return;
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

function putBytes(p: usize, n: usize): void { ensure(n); memory.copy(buf + blen, p, n); blen += n; }

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

/** Length of the valid UTF-8 sequence at p (0 if invalid). */
export function utf8SeqLen(p: usize, left: usize): i32 {
  let c = <u32>load<u8>(p);
  if (c < 0x80) return 1;
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

function putString(p: usize, n: usize): void {
  putByte(34);
  let i: usize = 0;
  while (i < n) {
    let c = <u32>load<u8>(p + i);
    if (c >= 0x20 && c < 0x80 && c != 34 && c != 92 && c != 60 && c != 62 && c != 38) {
      putByte(c); i++; continue;
    }
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
