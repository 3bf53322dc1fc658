// Exact decimal arithmetic for units.parse / units.parse_bytes (OPA uses big.Rat / big.Float).
import { RawNumber } from './json-out.js';

export interface Rat {
  num: bigint;
  den: bigint; // > 0
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b) [a, b] = [b, a % b];
  return a;
}

export function rat(num: bigint, den = 1n): Rat {
  if (den < 0n) [num, den] = [-num, -den];
  const g = gcd(num, den) || 1n;
  return { num: num / g, den: den / g };
}

export function mul(a: Rat, b: Rat): Rat {
  return rat(a.num * b.num, a.den * b.den);
}

/** big.Rat.SetString for decimal text: [+-]digits[.digits][e[+-]digits]; undefined when invalid. */
export function parseDecimal(s: string): Rat | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const digits = `${m[2]}${m[3] ?? ''}` || '0';
  let num = BigInt(digits);
  let den = 10n ** BigInt((m[3] ?? '').length);
  const exp = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exp) > 100000) return undefined;
  if (exp > 0) num *= 10n ** BigInt(exp);
  else if (exp < 0) den *= 10n ** BigInt(-exp);
  if (m[1] === '-') num = -num;
  return rat(num, den);
}

/** An integer as bigint, or big.Rat.FloatString(10) (rounded half away from zero) as a RawNumber. */
export function ratToNumber(r: Rat): bigint | number | RawNumber {
  if (r.den === 1n) return Number.isSafeInteger(Number(r.num)) ? Number(r.num) : r.num;
  const neg = r.num < 0n;
  const n = neg ? -r.num : r.num;
  const scale = 10n ** 10n;
  let q = (n * scale) / r.den;
  const rem = (n * scale) % r.den;
  if (rem * 2n >= r.den) q += 1n;
  const int = q / scale;
  const frac = (q % scale).toString().padStart(10, '0');
  return new RawNumber(`${neg ? '-' : ''}${int}.${frac}`);
}

/** Truncation toward zero. */
export function ratTrunc(r: Rat): bigint {
  return r.num / r.den;
}
