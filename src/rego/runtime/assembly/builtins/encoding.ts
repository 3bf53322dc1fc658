// base64.*, base64url.*, hex.*, urlquery.*: Go's encoding/base64, encoding/hex and net/url
// semantics and error texts (OPA's topdown/encoding.go wraps them).
import {
  STRING, ARRAY, SET, OBJECT, kindOf, makeBool, makeString, allocString, strLen, strPtr,
  makeObject, collLen, collKey, collVal, makeArray, arrAppend, arrLen, arrGet,
} from "../value";
import { collInsert, collGet } from "../collection";
import { collSort } from "../compare";
import { malloc } from "../alloc";
import { typeError } from "./util";
import { builtinErrBegin, operandErr, needString, errStr, errInt, errByte, errBytes, errAbort } from "./errs";

const STD = memory.data<u8>([
  65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90,
  97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,
  48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 43, 47,
]);

@inline function b64Char(i: u32, url: bool): u8 {
  if (url) { if (i == 62) return 45; if (i == 63) return 95; }
  return load<u8>(STD + i);
}

/** 6-bit value of c in the alphabet, or 0xFF. */
function b64Val(c: u32, url: bool): u32 {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (url) { if (c == 45) return 62; if (c == 95) return 63; }
  else { if (c == 43) return 62; if (c == 47) return 63; }
  return 0xFF;
}

function b64Encode(s: usize, url: bool, pad: bool): usize {
  let p = strPtr(s), n = strLen(s);
  let full = n / 3, rem = n % 3;
  let outLen = full * 4 + (rem == 0 ? 0 : (pad ? 4 : rem + 1));
  let r = allocString(outLen);
  let o = strPtr(r);
  let i: usize = 0;
  for (let k: usize = 0; k < full; k++) {
    let v = (<u32>load<u8>(p + i) << 16) | (<u32>load<u8>(p + i + 1) << 8) | <u32>load<u8>(p + i + 2);
    store<u8>(o, b64Char(v >> 18, url)); store<u8>(o + 1, b64Char((v >> 12) & 63, url));
    store<u8>(o + 2, b64Char((v >> 6) & 63, url)); store<u8>(o + 3, b64Char(v & 63, url));
    o += 4; i += 3;
  }
  if (rem > 0) {
    let v = <u32>load<u8>(p + i) << 16;
    if (rem == 2) v |= <u32>load<u8>(p + i + 1) << 8;
    store<u8>(o, b64Char(v >> 18, url)); store<u8>(o + 1, b64Char((v >> 12) & 63, url));
    if (rem == 2) store<u8>(o + 2, b64Char((v >> 6) & 63, url));
    else if (pad) store<u8>(o + 2, 61);
    if (pad) store<u8>(o + 3, 61);
  }
  return r;
}

// Decoder state: error offset (-1 when fine) and decoded length.
let decErrAt: i64 = -1;
let decOut: usize = 0;

@inline function isNl(c: u32): bool { return c == 10 || c == 13; }

/** Go's (non-strict) base64 decoding with padding; returns the bytes written to decOut. */
function b64Decode(p: usize, n: usize, url: bool): usize {
  decErrAt = -1;
  decOut = malloc(n / 4 * 3 + 3);
  let o: usize = 0;
  let si: usize = 0;
  let dbuf = memory.data(4);
  while (si < n) {
    store<u32>(dbuf, 0);
    let dlen = 4;
    let j = 0;
    let stop = false;
    while (j < 4) {
      if (si == n) {
        if (j == 0) return o;
        decErrAt = <i64>(si - <usize>j); return o; // j == 1 or padding expected
      }
      let c = <u32>load<u8>(p + si); si++;
      let v = b64Val(c, url);
      if (v != 0xFF) { store<u8>(dbuf + <usize>j, <u8>v); j++; continue; }
      if (isNl(c)) continue;
      if (c != 61) { decErrAt = <i64>(si - 1); return o; }
      // padding
      if (j < 2) { decErrAt = <i64>(si - 1); return o; }
      if (j == 2) {
        while (si < n && isNl(<u32>load<u8>(p + si))) si++;
        if (si == n) { decErrAt = <i64>n; return o; }
        if (<u32>load<u8>(p + si) != 61) { decErrAt = <i64>(si - 1); return o; }
        si++;
      }
      while (si < n && isNl(<u32>load<u8>(p + si))) si++;
      if (si < n) decErrAt = <i64>si;
      dlen = j;
      stop = true;
      break;
    }
    let val = (<u32>load<u8>(dbuf) << 18) | (<u32>load<u8>(dbuf + 1) << 12) | (<u32>load<u8>(dbuf + 2) << 6) | <u32>load<u8>(dbuf + 3);
    if (dlen >= 2) { store<u8>(decOut + o, <u8>(val >> 16)); o++; }
    if (dlen >= 3) { store<u8>(decOut + o, <u8>(val >> 8)); o++; }
    if (dlen == 4) { store<u8>(decOut + o, <u8>val); o++; }
    if (stop || decErrAt >= 0) return o;
  }
  return o;
}

function decodeOrFail(fn: string, p: usize, n: usize, url: bool): usize {
  let len = b64Decode(p, n, url);
  if (decErrAt >= 0) {
    builtinErrBegin(fn);
    errStr("illegal base64 data at input byte ");
    errInt(decErrAt);
    errAbort();
  }
  return makeString(decOut, len);
}

export function b_base64__encode(s: usize): usize { needString("base64.encode", 1, s); return b64Encode(s, false, true); }
export function b_base64url__encode(s: usize): usize { needString("base64url.encode", 1, s); return b64Encode(s, true, true); }
export function b_base64url__encode_no_pad(s: usize): usize { needString("base64url.encode_no_pad", 1, s); return b64Encode(s, true, false); }

export function b_base64__decode(s: usize): usize {
  needString("base64.decode", 1, s);
  return decodeOrFail("base64.decode", strPtr(s), strLen(s), false);
}

export function b_base64__is_valid(s: usize): usize {
  if (kindOf(s) != STRING) return makeBool(false);
  b64Decode(strPtr(s), strLen(s), false);
  return makeBool(decErrAt < 0);
}

export function b_base64url__decode(s: usize): usize {
  needString("base64url.decode", 1, s);
  let p = strPtr(s), n = strLen(s);
  // Unpadded input is padded first (RFC 7515 appendix C), as OPA does.
  if (n == 0 || load<u8>(p + n - 1) != 61) {
    let m = n % 4;
    if (m == 1) {
      builtinErrBegin("base64url.decode");
      errStr("illegal base64url string: ");
      errBytes(p, n);
      errAbort();
    }
    if (m != 0) {
      let q = malloc(n + 2);
      memory.copy(q, p, n);
      store<u8>(q + n, 61); store<u8>(q + n + 1, 61);
      p = q; n += 4 - m;
    }
  }
  return decodeOrFail("base64url.decode", p, n, true);
}

// ---------------------------------------------------------------- hex

const HEXL = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);
const HEXU = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 65, 66, 67, 68, 69, 70]);

/** Lower-case hex of n bytes at p, as a new string value. */
export function hexOf(p: usize, n: usize): usize {
  let r = allocString(n * 2);
  let o = strPtr(r);
  for (let i: usize = 0; i < n; i++) {
    let b = <u32>load<u8>(p + i);
    store<u8>(o + i * 2, load<u8>(HEXL + (b >> 4)));
    store<u8>(o + i * 2 + 1, load<u8>(HEXL + (b & 15)));
  }
  return r;
}

function hexVal(c: u32): i32 {
  if (c >= 48 && c <= 57) return <i32>c - 48;
  if (c >= 97 && c <= 102) return <i32>c - 87;
  if (c >= 65 && c <= 70) return <i32>c - 55;
  return -1;
}

/** Go's %#U of a byte value: `U+0067 'g'` (the quoted rune only when printable). */
function errRuneU(c: u32): void {
  errStr("U+00");
  errByte(<u32>load<u8>(HEXU + (c >> 4)));
  errByte(<u32>load<u8>(HEXU + (c & 15)));
  let printable = (c >= 0x20 && c < 0x7F) || (c >= 0xA1 && c != 0xAD);
  if (printable) {
    errStr(" '");
    if (c < 0x80) errByte(c);
    else { errByte(0xC0 | (c >> 6)); errByte(0x80 | (c & 63)); }
    errByte(39);
  }
}

function hexInvalid(c: u32): void {
  builtinErrBegin("hex.decode");
  errStr("encoding/hex: invalid byte: ");
  errRuneU(c);
  errAbort();
}

export function b_hex__encode(s: usize): usize {
  needString("hex.encode", 1, s);
  return hexOf(strPtr(s), strLen(s));
}

export function b_hex__decode(s: usize): usize {
  needString("hex.decode", 1, s);
  let p = strPtr(s), n = strLen(s);
  let r = allocString(n / 2);
  let o = strPtr(r);
  let j: usize = 1;
  for (; j < n; j += 2) {
    let a = hexVal(<u32>load<u8>(p + j - 1)), b = hexVal(<u32>load<u8>(p + j));
    if (a < 0) hexInvalid(<u32>load<u8>(p + j - 1));
    if (b < 0) hexInvalid(<u32>load<u8>(p + j));
    store<u8>(o + (j >> 1), <u8>((a << 4) | b));
  }
  if (n % 2 == 1) {
    if (hexVal(<u32>load<u8>(p + j - 1)) < 0) hexInvalid(<u32>load<u8>(p + j - 1));
    builtinErrBegin("hex.decode");
    errStr("encoding/hex: odd length hex string");
    errAbort();
  }
  return r;
}

// ---------------------------------------------------------------- urlquery

@inline function unreserved(c: u32): bool {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 95 || c == 46 || c == 126;
}

/** Go's url.QueryEscape of n bytes at p, appended at o; returns the bytes written. */
function queryEscapeTo(p: usize, n: usize, o: usize): usize {
  let w: usize = 0;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    if (unreserved(c)) { store<u8>(o + w, <u8>c); w++; }
    else if (c == 32) { store<u8>(o + w, 43); w++; }
    else {
      store<u8>(o + w, 37);
      store<u8>(o + w + 1, load<u8>(HEXU + (c >> 4)));
      store<u8>(o + w + 2, load<u8>(HEXU + (c & 15)));
      w += 3;
    }
  }
  return w;
}

export function b_urlquery__encode(s: usize): usize {
  needString("urlquery.encode", 1, s);
  let buf = malloc(strLen(s) * 3);
  let w = queryEscapeTo(strPtr(s), strLen(s), buf);
  return makeString(buf, w);
}

// Unescape failure: where the bad escape starts (-1 when fine).
let unescErr: isize = -1;

/** Go's url.QueryUnescape; the result is written to a fresh buffer (see unescErr). */
function queryUnescape(p: usize, n: usize): usize {
  unescErr = -1;
  let out = malloc(n);
  let o: usize = 0;
  let i: usize = 0;
  while (i < n) {
    let c = <u32>load<u8>(p + i);
    if (c == 37) {
      if (i + 2 >= n || hexVal(<u32>load<u8>(p + i + 1)) < 0 || hexVal(<u32>load<u8>(p + i + 2)) < 0) {
        unescErr = <isize>i;
        return 0;
      }
      store<u8>(out + o, <u8>((hexVal(<u32>load<u8>(p + i + 1)) << 4) | hexVal(<u32>load<u8>(p + i + 2))));
      o++; i += 3;
      continue;
    }
    store<u8>(out + o, c == 43 ? 32 : <u8>c);
    o++; i++;
  }
  return makeString(out, o);
}

function unescapeFail(fn: string, p: usize, n: usize): void {
  builtinErrBegin(fn);
  errStr("invalid URL escape \"");
  let at = <usize>unescErr;
  let len = n - at < 3 ? n - at : 3;
  for (let i: usize = 0; i < len; i++) {
    let c = <u32>load<u8>(p + at + i);
    if (c == 34 || c == 92) errByte(92);
    errByte(c);
  }
  errByte(34);
  errAbort();
}

export function b_urlquery__decode(s: usize): usize {
  needString("urlquery.decode", 1, s);
  let r = queryUnescape(strPtr(s), strLen(s));
  if (r == 0) unescapeFail("urlquery.decode", strPtr(s), strLen(s));
  return r;
}

export function b_urlquery__encode_object(obj: usize): usize {
  if (kindOf(obj) != OBJECT) typeError("urlquery.encode_object", 1, "object", obj);
  collSort(obj); // url.Values.Encode sorts by key
  let n = collLen(obj);
  // size the output
  let total: usize = 0;
  for (let i = 0; i < n; i++) {
    let k = collKey(obj, i), v = collVal(obj, i);
    if (kindOf(k) != STRING) typeError("urlquery.encode_object", 1, "object", obj);
    let kv = kindOf(v);
    if (kv == STRING) total += (strLen(k) + strLen(v)) * 3 + 2;
    else if (kv == ARRAY || kv == SET) {
      if (kv == SET) collSort(v);
      let m = kv == ARRAY ? arrLen(v) : collLen(v);
      for (let j = 0; j < m; j++) {
        let e = kv == ARRAY ? arrGet(v, j) : collKey(v, j);
        if (kindOf(e) != STRING) operandErr("urlquery.encode_object", 1, "values must be string, array[string], or set[string]");
        total += (strLen(k) + strLen(e)) * 3 + 2;
      }
    } else operandErr("urlquery.encode_object", 1, "values must be string, array[string], or set[string]");
  }
  let buf = malloc(total + 1);
  let w: usize = 0;
  for (let i = 0; i < n; i++) {
    let k = collKey(obj, i), v = collVal(obj, i);
    let kv = kindOf(v);
    let m = kv == STRING ? 1 : (kv == ARRAY ? arrLen(v) : collLen(v));
    for (let j = 0; j < m; j++) {
      let e = kv == STRING ? v : (kv == ARRAY ? arrGet(v, j) : collKey(v, j));
      if (w > 0) { store<u8>(buf + w, 38); w++; }
      w += queryEscapeTo(strPtr(k), strLen(k), buf + w);
      store<u8>(buf + w, 61); w++;
      w += queryEscapeTo(strPtr(e), strLen(e), buf + w);
    }
  }
  return makeString(buf, w);
}

export function b_urlquery__decode_object(s: usize): usize {
  needString("urlquery.decode_object", 1, s);
  let p = strPtr(s), n = strLen(s);
  let r = makeObject();
  // url.ParseQuery: '&'-separated; a ';' or a bad escape makes the whole call fail (first error)
  let start: usize = 0;
  let semicolon = false;
  let badAt: isize = -1;
  let badP: usize = 0, badN: usize = 0;
  while (start <= n) {
    let end = start;
    while (end < n && load<u8>(p + end) != 38) end++;
    if (end > start) {
      let hasSemi = false;
      for (let i = start; i < end; i++) if (load<u8>(p + i) == 59) { hasSemi = true; break; }
      if (hasSemi) { if (!semicolon && badAt < 0) semicolon = true; }
      else {
        let eq = start;
        while (eq < end && load<u8>(p + eq) != 61) eq++;
        let k = queryUnescape(p + start, eq - start);
        if (k == 0) { if (badAt < 0 && !semicolon) { badAt = unescErr; badP = p + start; badN = eq - start; } }
        else {
          let vs = eq < end ? eq + 1 : end;
          let v = queryUnescape(p + vs, end - vs);
          if (v == 0) { if (badAt < 0 && !semicolon) { badAt = unescErr; badP = p + vs; badN = end - vs; } }
          else {
            let arr = collGet(r, k);
            if (arr == 0) { arr = makeArray(1); collInsert(r, k, arr); }
            arrAppend(arr, v);
          }
        }
      }
    }
    start = end + 1;
  }
  if (semicolon) {
    builtinErrBegin("urlquery.decode_object");
    errStr("invalid semicolon separator in query");
    errAbort();
  }
  if (badAt >= 0) { unescErr = badAt; unescapeFail("urlquery.decode_object", badP, badN); }
  return r;
}
