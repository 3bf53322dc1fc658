// Arbitrary-precision numbers. A number is an i64 (NUM_INT) or the text of a JSON number
// (NUM_REF, kept verbatim so `1.0`, `-0`, `1e400` print back as they came). Arithmetic on
// anything beyond i64 goes through Dec, an exact decimal: sign, coefficient digits (values
// 0-9, most significant first, no leading or trailing zeros) and a base-10 exponent.
// Results are printed as OPA's Go builtins print them (big.Float Text: 'f' for integers,
// shortest 'g' otherwise).
import { malloc } from "./alloc";
import { NUMBER, NUM_INT, makeInt, makeNumRef, numRepr, numInt, numRefPtr, numRefLen, kindOf } from "./value";
import { errBegin, errStr, errAbort } from "./abort";

/** Significant digits kept by a division whose quotient does not terminate. */
const DIV_PREC: i32 = 20;
/** Refuse to build numbers with more digits than this (a policy asking 1e1000000 * 1e1000000). */
const MAX_DIGITS: i32 = 100000;

// Dec layout: +0 neg (i32), +4 digits ptr, +8 n digits, +12 exp
@inline export function decNeg(d: usize): bool { return load<i32>(d) != 0; }
@inline export function decDigits(d: usize): usize { return <usize>load<i32>(d, 4); }
@inline export function decN(d: usize): i32 { return load<i32>(d, 8); }
@inline export function decExp(d: usize): i32 { return load<i32>(d, 12); }

function tooBig(): void {
  errBegin();
  errStr("eval_builtin_error: number too large");
  errAbort();
}

/** Builds a normalized Dec from raw digits (values 0-9) in place. */
export function decMake(neg: bool, digits: usize, n: i32, exp: i64): usize {
  // strip leading zeros
  while (n > 0 && load<u8>(digits) == 0) { digits++; n--; }
  // strip trailing zeros into the exponent
  while (n > 0 && load<u8>(digits + <usize>n - 1) == 0) { n--; exp++; }
  if (n == 0) { neg = false; exp = 0; }
  if (exp > 1000000000 || exp < -1000000000) tooBig();
  let d = malloc(16);
  store<i32>(d, neg ? 1 : 0);
  store<i32>(d, <i32>digits, 4);
  store<i32>(d, n, 8);
  store<i32>(d, <i32>exp, 12);
  return d;
}

export function decFromI64(x: i64): usize {
  let neg = x < 0;
  let buf = malloc(20);
  let n = 0;
  // work with negative numbers to handle i64.MIN
  let y = x < 0 ? x : -x;
  let tmp = memory.data(20);
  do { store<u8>(tmp + n, <u8>(-(y % 10))); n++; y /= 10; } while (y != 0);
  for (let i = 0; i < n; i++) store<u8>(buf + i, load<u8>(tmp + n - 1 - i));
  return decMake(neg, buf, n, 0);
}

/** Parses JSON/Rego number text. Returns 0 when the text is not a number. */
export function decParse(p: usize, len: usize): usize {
  let i: usize = 0;
  let neg = false;
  if (i < len && load<u8>(p) == 45) { neg = true; i++; }
  let buf = malloc(len + 1);
  let n = 0;
  let exp: i64 = 0;
  let sawDigit = false;
  while (i < len) {
    let c = load<u8>(p + i);
    if (c < 48 || c > 57) break;
    store<u8>(buf + n, c - 48); n++; i++; sawDigit = true;
  }
  if (i < len && load<u8>(p + i) == 46) {
    i++;
    while (i < len) {
      let c = load<u8>(p + i);
      if (c < 48 || c > 57) break;
      store<u8>(buf + n, c - 48); n++; i++; exp--; sawDigit = true;
    }
  }
  if (!sawDigit) return 0;
  if (i < len && (load<u8>(p + i) == 101 || load<u8>(p + i) == 69)) {
    i++;
    let eneg = false;
    if (i < len && (load<u8>(p + i) == 43 || load<u8>(p + i) == 45)) { eneg = load<u8>(p + i) == 45; i++; }
    let e: i64 = 0;
    let any = false;
    while (i < len) {
      let c = load<u8>(p + i);
      if (c < 48 || c > 57) break;
      if (e < 100000000000) e = e * 10 + <i64>(c - 48);
      i++; any = true;
    }
    if (!any) return 0;
    exp += eneg ? -e : e;
  }
  if (i != len) return 0;
  if (exp > 1000000000 || exp < -1000000000) {
    // Only representable when the coefficient is zero.
    let allZero = true;
    for (let k = 0; k < n; k++) if (load<u8>(buf + k) != 0) allZero = false;
    if (!allZero) tooBig();
    exp = 0;
  }
  return decMake(neg, buf, n, exp);
}

export function decOf(v: usize): usize {
  if (numRepr(v) == NUM_INT) return decFromI64(numInt(v));
  let d = decParse(numRefPtr(v), numRefLen(v));
  if (d == 0) return decFromI64(0);
  return d;
}

@inline function dig(d: usize, i: i32): i32 { return <i32>load<u8>(decDigits(d) + <usize>i); }

export function decIsZero(d: usize): bool { return decN(d) == 0; }
export function decIsInt(d: usize): bool { return decExp(d) >= 0; }

/** Compares magnitudes. */
function magCmp(a: usize, b: usize): i32 {
  let na = decN(a), nb = decN(b);
  if (na == 0 || nb == 0) return na == nb ? 0 : (na == 0 ? -1 : 1);
  let aa = na + decExp(a), ab = nb + decExp(b); // position of the leading digit
  if (aa != ab) return aa < ab ? -1 : 1;
  let m = na < nb ? na : nb;
  for (let i = 0; i < m; i++) {
    let x = dig(a, i), y = dig(b, i);
    if (x != y) return x < y ? -1 : 1;
  }
  return na == nb ? 0 : (na < nb ? -1 : 1);
}

export function decCmp(a: usize, b: usize): i32 {
  let za = decN(a) == 0, zb = decN(b) == 0;
  let sa = za ? 0 : (decNeg(a) ? -1 : 1);
  let sb = zb ? 0 : (decNeg(b) ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  let c = magCmp(a, b);
  return sa < 0 ? -c : c;
}

/** k-th digit from the right of d's coefficient scaled to exponent e (e <= exp). */
@inline function digitAt(d: usize, k: i32, e: i32): i32 {
  let off = decExp(d) - e;
  if (k < off) return 0;
  let j = k - off;
  let n = decN(d);
  if (j >= n) return 0;
  return dig(d, n - 1 - j);
}

function checkSize(n: i64): void { if (n > MAX_DIGITS) tooBig(); }

function magAdd(a: usize, b: usize, neg: bool): usize {
  let e = decExp(a) < decExp(b) ? decExp(a) : decExp(b);
  let la = <i64>decN(a) + decExp(a) - e, lb = <i64>decN(b) + decExp(b) - e;
  let len = (la > lb ? la : lb) + 1;
  checkSize(len);
  let n = <i32>len;
  let out = malloc(<usize>n);
  let carry = 0;
  for (let k = 0; k < n; k++) {
    let s = digitAt(a, k, e) + digitAt(b, k, e) + carry;
    carry = s >= 10 ? 1 : 0;
    store<u8>(out + <usize>(n - 1 - k), <u8>(s - carry * 10));
  }
  return decMake(neg, out, n, e);
}

/** |a| - |b| where |a| >= |b|. */
function magSub(a: usize, b: usize, neg: bool): usize {
  let e = decExp(a) < decExp(b) ? decExp(a) : decExp(b);
  let len = <i64>decN(a) + decExp(a) - e;
  checkSize(len);
  let n = <i32>len;
  let out = malloc(<usize>n);
  let borrow = 0;
  for (let k = 0; k < n; k++) {
    let s = digitAt(a, k, e) - digitAt(b, k, e) - borrow;
    borrow = s < 0 ? 1 : 0;
    store<u8>(out + <usize>(n - 1 - k), <u8>(s + borrow * 10));
  }
  return decMake(neg, out, n, e);
}

export function decAdd(a: usize, b: usize): usize {
  if (decNeg(a) == decNeg(b)) return magAdd(a, b, decNeg(a));
  let c = magCmp(a, b);
  if (c == 0) return decFromI64(0);
  if (c > 0) return magSub(a, b, decNeg(a));
  return magSub(b, a, decNeg(b));
}

export function decNegate(a: usize): usize {
  if (decN(a) == 0) return a;
  return decMake(!decNeg(a), decDigits(a), decN(a), decExp(a));
}

export function decAbs(a: usize): usize {
  return decNeg(a) ? decNegate(a) : a;
}

export function decSub(a: usize, b: usize): usize { return decAdd(a, decNegate(b)); }

export function decMul(a: usize, b: usize): usize {
  let na = decN(a), nb = decN(b);
  if (na == 0 || nb == 0) return decFromI64(0);
  checkSize(<i64>na + nb);
  let n = na + nb;
  let acc = malloc(<usize>n << 2);
  memory.fill(acc, 0, <usize>n << 2);
  for (let i = na - 1; i >= 0; i--) {
    let x = dig(a, i);
    if (x == 0) continue;
    for (let j = nb - 1; j >= 0; j--) {
      let p = acc + (<usize>(i + j + 1) << 2);
      store<i32>(p, load<i32>(p) + x * dig(b, j));
    }
  }
  let out = malloc(<usize>n);
  let carry = 0;
  for (let k = n - 1; k >= 0; k--) {
    let s = load<i32>(acc + (<usize>k << 2)) + carry;
    store<u8>(out + <usize>k, <u8>(s % 10));
    carry = s / 10;
  }
  return decMake(decNeg(a) != decNeg(b), out, n, <i64>decExp(a) + decExp(b));
}

// Long division state (remainder of the last decDivide / decIntDivmod).
let lastRem: usize = 0;

/**
 * Divides the coefficients digit by digit. With intOnly the quotient stops at the units
 * digit (exact integer division); otherwise it continues until exact or DIV_PREC+1
 * significant digits, then rounds half up.
 */
function longDiv(a: usize, b: usize, intOnly: bool): usize {
  let na = decN(a), nb = decN(b);
  let w = nb + 1;
  let r = malloc(<usize>w);
  memory.fill(r, 0, <usize>w);
  let maxQ = na + DIV_PREC + 2;
  if (intOnly) maxQ = na + (decExp(a) - decExp(b) > 0 ? decExp(a) - decExp(b) : 0);
  checkSize(<i64>maxQ + 1);
  let q = malloc(<usize>maxQ + 1);
  let qn = 0, sig = 0, extra = 0;
  let rZero = true;
  while (qn < maxQ) {
    let next = 0;
    if (qn < na) next = dig(a, qn); else extra++;
    // r = r * 10 + next
    for (let i = 0; i < w - 1; i++) store<u8>(r + <usize>i, load<u8>(r + <usize>i + 1));
    store<u8>(r + <usize>w - 1, <u8>next);
    let qd = 0;
    while (true) {
      // compare r (width w) with b (nb digits, right aligned)
      let c = 0;
      if (load<u8>(r) != 0) c = 1;
      else {
        for (let i = 0; i < nb; i++) {
          let x = <i32>load<u8>(r + <usize>i + 1), y = dig(b, i);
          if (x != y) { c = x < y ? -1 : 1; break; }
        }
      }
      if (c < 0) break;
      let borrow = 0;
      for (let i = w - 1; i >= 0; i--) {
        let y = i >= 1 ? dig(b, i - 1) : 0;
        let s = <i32>load<u8>(r + <usize>i) - y - borrow;
        borrow = s < 0 ? 1 : 0;
        store<u8>(r + <usize>i, <u8>(s + borrow * 10));
      }
      qd++;
    }
    store<u8>(q + <usize>qn, <u8>qd);
    qn++;
    if (sig > 0 || qd != 0) sig++;
    rZero = true;
    for (let i = 0; i < w; i++) if (load<u8>(r + <usize>i) != 0) { rZero = false; break; }
    if (intOnly) {
      if (qn >= na && extra >= (decExp(a) - decExp(b))) break;
      continue;
    }
    if (qn >= na && rZero) break;
    if (sig >= DIV_PREC + 1) break;
  }
  lastRem = decMake(false, r, w, 0);
  // value = q * 10^(exp_a - exp_b - extra)
  let exp = <i64>decExp(a) - decExp(b) - extra;
  if (!intOnly && sig >= DIV_PREC + 1 && !(qn >= na && rZero && load<u8>(q + <usize>qn - 1) == 0)) {
    // round the last digit away
    let last = <i32>load<u8>(q + <usize>qn - 1);
    qn--;
    exp++;
    if (last >= 5) {
      let k = qn - 1;
      while (k >= 0) {
        let d = <i32>load<u8>(q + <usize>k) + 1;
        if (d < 10) { store<u8>(q + <usize>k, <u8>d); break; }
        store<u8>(q + <usize>k, 0);
        k--;
      }
      if (k < 0) {
        // all nines rolled over: prepend a one
        let q2 = malloc(<usize>qn + 1);
        store<u8>(q2, 1);
        memory.copy(q2 + 1, q, <usize>qn);
        q = q2; qn++;
      }
    }
  }
  return decMake(decNeg(a) != decNeg(b), q, qn, exp);
}

/** a / b; b must be non-zero. */
export function decDiv(a: usize, b: usize): usize {
  if (decN(a) == 0) return a;
  return longDiv(a, b, false);
}

/** Truncated integer remainder of integers a % b (b non-zero); sign of a. */
export function decRem(a: usize, b: usize): usize {
  if (decN(a) == 0) return a;
  // scale both to exponent 0 so the coefficients are the integers themselves
  let ai = decScaleToInt(a), bi = decScaleToInt(b);
  longDiv(ai, bi, true);
  let r = lastRem;
  if (decNeg(a)) r = decNegate(r);
  return r;
}

function decScaleToInt(d: usize): usize {
  let e = decExp(d);
  if (e <= 0) return d;
  checkSize(<i64>decN(d) + e);
  let n = decN(d) + e;
  let buf = malloc(<usize>n);
  memory.copy(buf, decDigits(d), <usize>decN(d));
  memory.fill(buf + <usize>decN(d), 0, <usize>e);
  // build without normalizing trailing zeros away
  let r = malloc(16);
  store<i32>(r, decNeg(d) ? 1 : 0);
  store<i32>(r, <i32>buf, 4);
  store<i32>(r, n, 8);
  store<i32>(r, 0, 12);
  return r;
}

/** Integer part (truncated toward zero). */
export function decTrunc(d: usize): usize {
  if (decExp(d) >= 0) return d;
  let keep = decN(d) + decExp(d);
  if (keep <= 0) return decFromI64(0);
  return decMake(decNeg(d), decDigits(d), keep, 0);
}

const ONE_DIGIT = memory.data<u8>([1]);
function decOne(neg: bool): usize { return decMake(neg, ONE_DIGIT, 1, 0); }

export function decFloor(d: usize): usize {
  if (decExp(d) >= 0) return d;
  let t = decTrunc(d);
  return decNeg(d) ? decAdd(t, decOne(true)) : t;
}

export function decCeil(d: usize): usize {
  if (decExp(d) >= 0) return d;
  let t = decTrunc(d);
  return decNeg(d) ? t : decAdd(t, decOne(false));
}

/** Rounds half away from zero (Go's math.Round, OPA's round). */
export function decRound(d: usize): usize {
  if (decExp(d) >= 0) return d;
  let t = decTrunc(d);
  let firstFrac = decN(d) + decExp(d); // index of the first fractional digit
  let fd = firstFrac < 0 ? 0 : dig(d, firstFrac);
  if (firstFrac < 0 || fd < 5) return t;
  return decAdd(t, decOne(decNeg(d)));
}

/** If d is an integer that fits in i64, stores it in intOut and returns true. */
let intOut: i64 = 0;
export function lastInt(): i64 { return intOut; }

export function decToI64(d: usize): bool {
  if (decExp(d) < 0) return false;
  let n = decN(d) + decExp(d);
  if (n > 19) return false;
  let acc: i64 = 0; // accumulate negatively to reach i64.MIN
  for (let i = 0; i < n; i++) {
    let x = i < decN(d) ? dig(d, i) : 0;
    if (acc < (i64.MIN_VALUE + x) / 10) return false;
    acc = acc * 10 - x;
  }
  if (!decNeg(d)) {
    if (acc == i64.MIN_VALUE) return false;
    acc = -acc;
  }
  intOut = acc;
  return true;
}

// ---- number values ----

/** A number value from a Dec, printed as OPA's Go builtins print results. */
export function decToValue(d: usize): usize {
  if (decToI64(d)) return makeInt(intOut);
  let neg = decNeg(d);
  let n = decN(d);
  let e = decExp(d);
  let x = n + e - 1; // decimal exponent of the leading digit
  let cap: i64 = 32 + <i64>n + (e > 0 ? <i64>e : 0) + (x < 0 ? <i64>(-x) : 0);
  if (cap > <i64>MAX_DIGITS * 2) tooBig();
  let buf = malloc(<usize>cap);
  let p = buf;
  if (neg) { store<u8>(p, 45); p++; }
  let digits = decDigits(d);
  if (e >= 0) {
    // 'f' format of an integer
    for (let i = 0; i < n; i++) { store<u8>(p, 48 + load<u8>(digits + <usize>i)); p++; }
    for (let i = 0; i < e; i++) { store<u8>(p, 48); p++; }
  } else if (x < -4 || x >= 6) {
    // %e with the shortest digits
    store<u8>(p, 48 + load<u8>(digits)); p++;
    if (n > 1) {
      store<u8>(p, 46); p++;
      for (let i = 1; i < n; i++) { store<u8>(p, 48 + load<u8>(digits + <usize>i)); p++; }
    }
    store<u8>(p, 101); p++;
    let ex = x;
    if (ex < 0) { store<u8>(p, 45); ex = -ex; } else store<u8>(p, 43);
    p++;
    if (ex < 10) { store<u8>(p, 48); p++; }
    let tmp = memory.data(12);
    let k = 0;
    do { store<u8>(tmp + k, <u8>(48 + ex % 10)); k++; ex /= 10; } while (ex > 0);
    while (k > 0) { k--; store<u8>(p, load<u8>(tmp + k)); p++; }
  } else if (x < 0) {
    store<u8>(p, 48); p++;
    store<u8>(p, 46); p++;
    for (let i = 0; i < -x - 1; i++) { store<u8>(p, 48); p++; }
    for (let i = 0; i < n; i++) { store<u8>(p, 48 + load<u8>(digits + <usize>i)); p++; }
  } else {
    for (let i = 0; i < n; i++) {
      if (i == x + 1) { store<u8>(p, 46); p++; }
      store<u8>(p, 48 + load<u8>(digits + <usize>i)); p++;
    }
  }
  return makeNumRef(buf, p - buf);
}

/** True when the number value is an integer; stores it (if it fits) for lastInt(). */
export function numIsInt(v: usize): bool {
  if (numRepr(v) == NUM_INT) { intOut = numInt(v); return true; }
  return decIsInt(decOf(v));
}

/** The number as i64 if it is an integer that fits; see lastInt(). */
export function numToI64(v: usize): bool {
  if (numRepr(v) == NUM_INT) { intOut = numInt(v); return true; }
  return decToI64(decOf(v));
}

export function numCompare(a: usize, b: usize): i32 {
  if (numRepr(a) == NUM_INT && numRepr(b) == NUM_INT) {
    let x = numInt(a), y = numInt(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  return decCmp(decOf(a), decOf(b));
}

/** Hash consistent with numCompare: equal numbers hash alike whatever their text. */
export function numHash(v: usize): u32 {
  let h: u32 = 0x811c9dc5;
  if (numRepr(v) == NUM_INT) {
    let x = numInt(v);
    if (x == 0) return h ^ 0x30;
    // normalized digits of the integer, as decOf would give
    let neg = x < 0;
    let y = x < 0 ? x : -x;
    let exp = 0;
    while (y % 10 == 0) { y /= 10; exp++; }
    let tmp = memory.data(20);
    let n = 0;
    while (y != 0) { store<u8>(tmp + n, <u8>(-(y % 10))); n++; y /= 10; }
    h = (h ^ (neg ? 1 : 2)) * 16777619;
    h = (h ^ <u32>exp) * 16777619;
    for (let i = n - 1; i >= 0; i--) h = (h ^ <u32>load<u8>(tmp + i)) * 16777619;
    return h;
  }
  let d = decOf(v);
  if (decN(d) == 0) return h ^ 0x30;
  h = (h ^ (decNeg(d) ? 1 : 2)) * 16777619;
  h = (h ^ <u32>decExp(d)) * 16777619;
  for (let i = 0; i < decN(d); i++) h = (h ^ <u32>dig(d, i)) * 16777619;
  return h;
}

export function isNumber(v: usize): bool { return kindOf(v) == NUMBER; }
