// sprintf with Go's fmt semantics for the argument types OPA hands to fmt.Sprintf: integers
// that fit int64 (`int`), other integers (`*big.Int`), other numbers (`float64`, or their text
// when out of float64 range), strings, and anything else as its Rego text (a `string`).
// Floats are formatted from the number's decimal value (exact for up to 15 significant
// digits, which is what a float64 round-trips), rounding half to even.
import { NUMBER, STRING, ARRAY, NUM_INT, kindOf, numRepr, numInt, numRefPtr, numRefLen, strLen, strPtr, makeString, arrLen, arrGet } from "../value";
import { malloc } from "../alloc";
import { numToI64, lastInt, decOf, decN, decExp, decNeg, decDigits, decMul, decFromI64, decMake } from "../number";
import { valueDump, utf8Put } from "../json";
import { typeError } from "./util";
import { runeCount, runeLen, runeAt } from "./strutil";

// ---- output buffer
let out: usize = 0;
let olen: usize = 0;
let ocap: usize = 0;

function ensure(n: usize): void {
  if (olen + n <= ocap) return;
  let nc = ocap * 2 + n + 64;
  let nb = malloc(nc);
  if (olen > 0) memory.copy(nb, out, olen);
  out = nb; ocap = nc;
}
function put(b: u32): void { ensure(1); store<u8>(out + olen, <u8>b); olen++; }
function putBytes(p: usize, n: usize): void { ensure(n); memory.copy(out + olen, p, n); olen += n; }
function putLit(s: string): void { for (let i = 0; i < s.length; i++) put(<u32>s.charCodeAt(i)); }

// ---- scratch for one formatted operand (before padding)
let sb: usize = 0;
let slen: usize = 0;
let scap: usize = 0;
function sEnsure(n: usize): void {
  if (slen + n <= scap) return;
  let nc = scap * 2 + n + 64;
  let nb = malloc(nc);
  if (slen > 0) memory.copy(nb, sb, slen);
  sb = nb; scap = nc;
}
function sPut(b: u32): void { sEnsure(1); store<u8>(sb + slen, <u8>b); slen++; }
function sBytes(p: usize, n: usize): void { sEnsure(n); memory.copy(sb + slen, p, n); slen += n; }

// ---- argument kinds
const K_INT = 0;
const K_BIG = 1;
const K_FLOAT = 2;
const K_STR = 3;

let argKind = 0;
let argInt: i64 = 0;
let argDec: usize = 0;       // K_BIG / K_FLOAT
let argP: usize = 0, argN: usize = 0; // K_STR bytes

function isIntText(p: usize, n: usize): bool {
  let i: usize = 0;
  if (n > 0 && load<u8>(p) == 45) i = 1;
  if (i >= n) return false;
  for (; i < n; i++) { let c = load<u8>(p + i); if (c < 48 || c > 57) return false; }
  return true;
}

function classify(v: usize): void {
  let k = kindOf(v);
  if (k == NUMBER) {
    if (numRepr(v) == NUM_INT) { argKind = K_INT; argInt = numInt(v); return; }
    let p = numRefPtr(v), n = numRefLen(v);
    if (isIntText(p, n) && numToI64(v)) { argKind = K_INT; argInt = lastInt(); return; }
    let d = decOf(v);
    if (isIntText(p, n)) { argKind = K_BIG; argDec = d; return; }
    let x = decN(d) + decExp(d) - 1;
    if (decN(d) != 0 && (x > 308 || x < -324 || (x == 308 && beyondMaxFloat(d)))) { argKind = K_STR; argP = p; argN = n; return; }
    argKind = K_FLOAT; argDec = d; return;
  }
  if (k == STRING) { argKind = K_STR; argP = strPtr(v); argN = strLen(v); return; }
  let t = valueDump(v);
  let n: usize = 0;
  while (load<u8>(t + n) != 0) n++;
  argKind = K_STR; argP = t; argN = n;
}

const MAXF = memory.data<u8>([1, 7, 9, 7, 6, 9, 3, 1, 3, 4, 8, 6, 2, 3, 1, 5, 7]); // 1.7976931348623157e308

/** Whether |d| (with leading digit at 10^308) is above float64's largest value. */
function beyondMaxFloat(d: usize): bool {
  let n = decN(d);
  for (let i = 0; i < 17; i++) {
    let a = i < n ? <i32>load<u8>(decDigits(d) + <usize>i) : 0, b = <i32>load<u8>(MAXF + <usize>i);
    if (a != b) return a > b;
  }
  return n > 17;
}

// ---- flags of the current verb
let fMinus = false, fPlus = false, fSharp = false, fSpace = false, fZero = false;
let width: i32 = -1, prec: i32 = -1;

const HEXL = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);
const HEXU = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 65, 66, 67, 68, 69, 70]);

/** Pads the scratch (sign-aware zero padding for numbers) and appends it to the output. */
function emitPadded(numeric: bool): void {
  let runes = runeCount(sb, slen);
  let pad = width > runes ? width - runes : 0;
  if (pad == 0) { putBytes(sb, slen); return; }
  if (fMinus) { putBytes(sb, slen); for (let i = 0; i < pad; i++) put(32); return; }
  if (fZero) {
    let start: usize = 0;
    if (numeric && slen > 0 && (load<u8>(sb) == 45 || load<u8>(sb) == 43 || load<u8>(sb) == 32)) { put(<u32>load<u8>(sb)); start = 1; }
    for (let i = 0; i < pad; i++) put(48);
    putBytes(sb + start, slen - start);
    return;
  }
  for (let i = 0; i < pad; i++) put(32);
  putBytes(sb, slen);
}

// ---- integers

/** Digits of |x| (i64) in base b into the scratch, with precision and sign/prefix handling. */
function fmtI64(x: i64, base: i32, upper: bool, verb: u32): void {
  slen = 0;
  let neg = x < 0;
  let digits = memory.data(72);
  let n = 0;
  let y = neg ? x : -x; // negative magnitude covers i64.MIN
  let tbl = upper ? HEXU : HEXL;
  if (x == 0) { store<u8>(digits, 48); n = 1; }
  while (y != 0) { store<u8>(digits + n, load<u8>(tbl + <usize>(-(y % base)))); n++; y /= base; }
  writeSignedDigits(neg, digits, n, true, base, upper, verb, x == 0);
}

/** Sign, prefix, precision zeros, then the digits (given reversed when rev). */
function writeSignedDigits(neg: bool, digits: usize, n: i32, rev: bool, base: i32, upper: bool, verb: u32, zero: bool): void {
  if (prec == 0 && zero) { if (neg) sPut(45); else if (fPlus) sPut(43); else if (fSpace) sPut(32); return; }
  if (neg) sPut(45); else if (fPlus) sPut(43); else if (fSpace) sPut(32);
  if (fSharp || verb == 79) {
    if (base == 16) { sPut(48); sPut(upper ? 88 : 120); }
    else if (base == 8 && verb == 79) { sPut(48); sPut(111); }
    else if (base == 8) sPut(48);
    else if (base == 2) { sPut(48); sPut(98); }
  }
  for (let i = n; i < prec; i++) sPut(48);
  if (rev) for (let i = n - 1; i >= 0; i--) sPut(<u32>load<u8>(digits + <usize>i));
  else for (let i = 0; i < n; i++) sPut(<u32>load<u8>(digits + <usize>i));
}

/** A big integer (Dec) in base b. */
function fmtBig(d: usize, base: i32, upper: bool, verb: u32): void {
  slen = 0;
  let n = decN(d) + decExp(d);
  let digs = malloc(<usize>n + 1);
  for (let i = 0; i < n; i++) store<u8>(digs + <usize>i, i < decN(d) ? load<u8>(decDigits(d) + <usize>i) : 0);
  if (base == 10) {
    for (let i = 0; i < n; i++) store<u8>(digs + <usize>i, 48 + load<u8>(digs + <usize>i));
    writeSignedDigits(decNeg(d), digs, n, false, 10, upper, verb, n == 0);
    return;
  }
  let outd = malloc(<usize>n * 4 + 4);
  let o = 0, start = 0;
  let tbl = upper ? HEXU : HEXL;
  while (start < n) {
    let rem = 0;
    for (let i = start; i < n; i++) {
      let cur = rem * 10 + <i32>load<u8>(digs + <usize>i);
      store<u8>(digs + <usize>i, <u8>(cur / base));
      rem = cur % base;
    }
    store<u8>(outd + <usize>o, load<u8>(tbl + <usize>rem)); o++;
    while (start < n && load<u8>(digs + <usize>start) == 0) start++;
  }
  writeSignedDigits(decNeg(d), outd, o, true, base, upper, verb, o == 0);
}

// ---- floats (from a Dec: digits d0 d1 ... with value 0.d0d1... * 10^(n+exp))

let fd: usize = 0;   // digit values
let fn_: i32 = 0;    // digit count
let fdp: i32 = 0;    // decimal point position (value = 0.digits * 10^fdp)

/** d^k as a Dec (square and multiply). */
function decPow(base: i64, k: i32): usize {
  let r = decFromI64(1), b = decFromI64(base);
  while (k > 0) { if ((k & 1) != 0) r = decMul(r, b); k >>= 1; if (k > 0) b = decMul(b, b); }
  return r;
}

/**
 * The exact decimal value of the float64 nearest to d, when that float is found by one
 * correctly rounded operation (<= 15 digits, |exponent| <= 22); otherwise d itself. Fixed
 * precision verbs round this exact value, as Go does (0.05 is 0.05000000000000000277...).
 */
function nearestFloatExact(d: usize): usize {
  let n = decN(d), k = decExp(d);
  if (n == 0 || n > 15 || k > 22 || k < -22) return d;
  let m: i64 = 0;
  for (let i = 0; i < n; i++) m = m * 10 + <i64>load<u8>(decDigits(d) + <usize>i);
  let p: f64 = 1;
  for (let i = 0; i < (k < 0 ? -k : k); i++) p *= 10;
  let f = k < 0 ? <f64>m / p : <f64>m * p;
  let bits = reinterpret<u64>(f);
  let be = <i32>((bits >> 52) & 0x7FF);
  let mant = bits & 0xFFFFFFFFFFFFF;
  let e: i32;
  if (be == 0) e = -1074; else { mant |= <u64>1 << 52; e = be - 1075; }
  let x: usize;
  if (e >= 0) x = decMul(decFromI64(<i64>mant), decPow(2, e));
  else {
    let y = decMul(decFromI64(<i64>mant), decPow(5, -e)); // mant * 2^e = mant * 5^-e * 10^e
    x = decMake(false, decDigits(y), decN(y), <i64>decExp(y) + e);
  }
  return decNeg(d) ? decMake(true, decDigits(x), decN(x), decExp(x)) : x;
}

function loadFloat(d: usize): void {
  fn_ = decN(d);
  fd = malloc(<usize>fn_ + 2);
  memory.copy(fd, decDigits(d), <usize>fn_);
  fdp = fn_ + decExp(d);
  if (fn_ > 17) roundTo(17); // beyond float64 precision
  trimZeros();
}

function trimZeros(): void { while (fn_ > 0 && load<u8>(fd + <usize>fn_ - 1) == 0) fn_--; if (fn_ == 0) fdp = 0; }

/** Keeps nd digits, rounding half to even. */
function roundTo(nd: i32): void {
  if (nd < 0) { fn_ = 0; fdp = 0; return; }
  if (nd >= fn_) return;
  let up = false;
  let first = <i32>load<u8>(fd + <usize>nd);
  if (first > 5) up = true;
  else if (first == 5) {
    let rest = false;
    for (let i = nd + 1; i < fn_; i++) if (load<u8>(fd + <usize>i) != 0) { rest = true; break; }
    up = rest || (nd > 0 && (load<u8>(fd + <usize>nd - 1) & 1) == 1);
  }
  fn_ = nd;
  if (up) {
    let i = nd - 1;
    while (i >= 0) {
      let v = load<u8>(fd + <usize>i) + 1;
      if (v < 10) { store<u8>(fd + <usize>i, v); break; }
      store<u8>(fd + <usize>i, 0);
      i--;
    }
    if (i < 0) { // carried out: 1 followed by zeros
      let nd2 = malloc(<usize>fn_ + 2);
      store<u8>(nd2, 1);
      memory.copy(nd2 + 1, fd, <usize>fn_);
      fd = nd2; fn_++; fdp++;
    }
  }
  trimZeros();
}

@inline function digitAt(i: i32): u32 { return i >= 0 && i < fn_ ? 48 + <u32>load<u8>(fd + <usize>i) : 48; }

function fmtF(p: i32): void {
  // integer part
  if (fdp <= 0) sPut(48);
  else for (let i = 0; i < fdp; i++) sPut(digitAt(i));
  if (p > 0 || fSharp) {
    sPut(46);
    for (let i = 0; i < p; i++) sPut(digitAt(fdp + i));
  }
}

function fmtE(p: i32, upper: bool): void {
  sPut(fn_ == 0 ? 48 : digitAt(0));
  if (p > 0 || fSharp) {
    sPut(46);
    for (let i = 1; i <= p; i++) sPut(digitAt(i));
  }
  sPut(upper ? 69 : 101);
  let e = fn_ == 0 ? 0 : fdp - 1;
  if (e < 0) { sPut(45); e = -e; } else sPut(43);
  if (e < 10) sPut(48);
  let tmp = memory.data(8);
  let k = 0;
  do { store<u8>(tmp + k, <u8>(48 + e % 10)); k++; e /= 10; } while (e > 0);
  while (k > 0) { k--; sPut(<u32>load<u8>(tmp + k)); }
}

function fmtFloat(d: usize, verb: u32): void {
  slen = 0;
  let fixed = verb == 102 || verb == 70 || verb == 101 || verb == 69 || ((verb == 103 || verb == 71) && prec >= 0);
  if (fixed) {
    // round the float's exact value (all its digits, not just 17)
    let x = nearestFloatExact(d);
    fn_ = decN(x);
    fd = malloc(<usize>fn_ + 2);
    memory.copy(fd, decDigits(x), <usize>fn_);
    fdp = fn_ + decExp(x);
    trimZeros();
  } else loadFloat(d);
  let neg = decNeg(d) && decN(d) != 0;
  if (neg) sPut(45); else if (fPlus) sPut(43); else if (fSpace) sPut(32);
  if (verb == 102 || verb == 70) {
    let p = prec < 0 ? 6 : prec;
    roundTo(fdp + p);
    fmtF(p);
    return;
  }
  if (verb == 101 || verb == 69) {
    let p = prec < 0 ? 6 : prec;
    roundTo(p + 1);
    fmtE(p, verb == 69);
    return;
  }
  // g, G, v: shortest (or prec significant digits)
  let shortest = prec < 0;
  let eprec: i32;
  if (shortest) eprec = 6;
  else {
    let p = prec == 0 ? 1 : prec;
    roundTo(p);
    eprec = p;
  }
  let nd = fn_ == 0 ? 1 : fn_;
  if (!shortest && eprec > nd && nd >= fdp) eprec = nd;
  if (fSharp && !shortest) { /* keep trailing zeros: not supported beyond Go's default */ }
  let exp = fn_ == 0 ? 0 : fdp - 1;
  if (exp < -4 || exp >= eprec) { fmtE(nd - 1, verb == 71); return; }
  fmtF(fn_ > fdp ? fn_ - fdp : 0);
}

// ---- strings

function fmtQuoted(p: usize, n: usize): void {
  slen = 0;
  sPut(34);
  let i: usize = 0;
  while (i < n) {
    let c = <u32>load<u8>(p + i);
    if (c == 34 || c == 92) { sPut(92); sPut(c); i++; continue; }
    if (c == 10) { sPut(92); sPut(110); i++; continue; }
    if (c == 13) { sPut(92); sPut(114); i++; continue; }
    if (c == 9) { sPut(92); sPut(116); i++; continue; }
    if (c < 0x20 || c == 0x7F) { sPut(92); sPut(120); sPut(<u32>load<u8>(HEXL + (c >> 4))); sPut(<u32>load<u8>(HEXL + (c & 15))); i++; continue; }
    let l = runeLen(p + i, n - i);
    if (c >= 0x80 && runeAt(p + i, n - i) == 0xFFFD && l == 1) { sPut(92); sPut(120); sPut(<u32>load<u8>(HEXL + (c >> 4))); sPut(<u32>load<u8>(HEXL + (c & 15))); i++; continue; }
    sBytes(p + i, l);
    i += l;
  }
  sPut(34);
}

function fmtString(p: usize, n: usize): void {
  slen = 0;
  if (prec >= 0) {
    // precision truncates to that many runes
    let i: usize = 0, r = 0;
    while (i < n && r < prec) { i += runeLen(p + i, n - i); r++; }
    n = i;
  }
  sBytes(p, n);
}

function fmtHexBytes(p: usize, n: usize, upper: bool): void {
  slen = 0;
  let tbl = upper ? HEXU : HEXL;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    sPut(<u32>load<u8>(tbl + (c >> 4))); sPut(<u32>load<u8>(tbl + (c & 15)));
  }
}

// ---- bad verbs: %!v(type=value)

function typeNameLit(): string {
  if (argKind == K_INT) return "int";
  if (argKind == K_BIG) return "*big.Int";
  if (argKind == K_FLOAT) return "float64";
  return "string";
}

/** %v of the current argument into the scratch. */
function fmtV(): void {
  let sp = prec; prec = -1;
  let sPlus = fPlus, sSharp = fSharp, sSpace = fSpace;
  fPlus = false; fSharp = false; fSpace = false;
  if (argKind == K_INT) fmtI64(argInt, 10, false, 100);
  else if (argKind == K_BIG) fmtBig(argDec, 10, false, 100);
  else if (argKind == K_FLOAT) fmtFloat(argDec, 103);
  else { slen = 0; sBytes(argP, argN); }
  prec = sp; fPlus = sPlus; fSharp = sSharp; fSpace = sSpace;
}

function badVerb(verb: u32): void {
  putLit("%!");
  putRune(verb);
  put(40);
  putLit(typeNameLit());
  put(61);
  fmtV();
  putBytes(sb, slen);
  put(41);
}

function putRune(c: u32): void { ensure(4); olen += utf8Put(out + olen, c); }

/** Formats the current argument with verb; returns false for a verb the type does not take. */
function formatArg(verb: u32): bool {
  let k = argKind;
  if (verb == 118) { // v
    if (k == K_INT) fmtI64(argInt, 10, false, 100);
    else if (k == K_BIG) fmtBig(argDec, 10, false, 100);
    else if (k == K_FLOAT) fmtFloat(argDec, 118);
    else fmtString(argP, argN);
    emitPadded(k != K_STR);
    return true;
  }
  if (verb == 84) { slen = 0; let t = typeNameLit(); for (let i = 0; i < t.length; i++) sPut(<u32>t.charCodeAt(i)); emitPadded(false); return true; } // T
  if (k == K_INT || k == K_BIG) {
    let base = 0; let upper = false;
    if (verb == 100) base = 10;
    else if (verb == 120) base = 16;
    else if (verb == 88) { base = 16; upper = true; }
    else if (verb == 111 || verb == 79) base = 8;
    else if (verb == 98) base = 2;
    else if (verb == 115 && k == K_BIG) base = 10; // big.Int formats %s as decimal
    if (base > 0) {
      if (k == K_INT) fmtI64(argInt, base, upper, verb); else fmtBig(argDec, base, upper, verb);
      emitPadded(true);
      return true;
    }
    if (k == K_INT && verb == 99) { slen = 0; sEnsure(4); slen += utf8Put(sb, <u32>argInt); emitPadded(false); return true; } // c
    if (k == K_INT && verb == 85) { // U
      slen = 0; sPut(85); sPut(43);
      let x = argInt; let digits = memory.data(16); let n = 0;
      do { store<u8>(digits + n, load<u8>(HEXU + <usize>(x & 15))); n++; x >>= 4; } while (x > 0);
      for (let i = n; i < 4; i++) sPut(48);
      for (let i = n - 1; i >= 0; i--) sPut(<u32>load<u8>(digits + i));
      emitPadded(false);
      return true;
    }
    return false;
  }
  if (k == K_FLOAT) {
    if (verb == 102 || verb == 70 || verb == 101 || verb == 69 || verb == 103 || verb == 71) { fmtFloat(argDec, verb); emitPadded(true); return true; }
    return false;
  }
  // strings
  if (verb == 115) { fmtString(argP, argN); emitPadded(false); return true; }
  if (verb == 113) { fmtQuoted(argP, argN); emitPadded(false); return true; }
  if (verb == 120 || verb == 88) { fmtHexBytes(argP, argN, verb == 88); emitPadded(false); return true; }
  return false;
}

export function b_sprintf(format: usize, args: usize): usize {
  if (kindOf(format) != STRING) typeError("sprintf", 1, "string", format);
  if (kindOf(args) != ARRAY) typeError("sprintf", 2, "array", args);
  // heap buffers never outlive a call: the host rewinds the heap between evaluations
  out = 0; olen = 0; ocap = 0;
  sb = 0; slen = 0; scap = 0;
  let p = strPtr(format), n = strLen(format);
  let nargs = arrLen(args);
  let argi = 0;
  let i: usize = 0;
  while (i < n) {
    let c = <u32>load<u8>(p + i);
    if (c != 37) {
      let j = i;
      while (j < n && load<u8>(p + j) != 37) j++;
      putBytes(p + i, j - i);
      i = j;
      continue;
    }
    i++;
    fMinus = false; fPlus = false; fSharp = false; fSpace = false; fZero = false;
    width = -1; prec = -1;
    while (i < n) {
      let f = <u32>load<u8>(p + i);
      if (f == 45) { fMinus = true; fZero = false; }
      else if (f == 43) fPlus = true;
      else if (f == 35) fSharp = true;
      else if (f == 32) fSpace = true;
      else if (f == 48) fZero = !fMinus;
      else break;
      i++;
    }
    while (i < n && load<u8>(p + i) >= 48 && load<u8>(p + i) <= 57) {
      width = (width < 0 ? 0 : width) * 10 + <i32>(load<u8>(p + i) - 48);
      if (width > 1000000) width = 1000000;
      i++;
    }
    if (i < n && load<u8>(p + i) == 46) {
      i++;
      prec = 0;
      while (i < n && load<u8>(p + i) >= 48 && load<u8>(p + i) <= 57) {
        prec = prec * 10 + <i32>(load<u8>(p + i) - 48);
        if (prec > 100000) prec = 100000;
        i++;
      }
    }
    if (i >= n) { putLit("%!(NOVERB)"); break; }
    let verb = runeAt(p + i, n - i);
    i += runeLen(p + i, n - i);
    if (verb == 37) { put(37); continue; }
    if (argi >= nargs) { putLit("%!"); putRune(verb); putLit("(MISSING)"); continue; }
    classify(arrGet(args, argi));
    argi++;
    if (!formatArg(verb)) badVerb(verb);
  }
  if (argi < nargs) {
    putLit("%!(EXTRA ");
    for (let k = argi; k < nargs; k++) {
      if (k > argi) putLit(", ");
      classify(arrGet(args, k));
      putLit(typeNameLit());
      put(61);
      prec = -1; width = -1; fPlus = false; fSharp = false; fSpace = false;
      fmtV();
      putBytes(sb, slen);
    }
    put(41);
  }
  return makeString(out, olen);
}
