// units.parse and units.parse_bytes (OPA's topdown/parse_units.go, parse_bytes.go), exact.
import { builtinError, str } from './errors.js';
import { mul, parseDecimal, rat, ratToNumber, ratTrunc } from './rational.js';
import type { BuiltinTable } from './types.js';

const MAX_EXPONENT_DIGITS = 6;
const K = 1000n;
const Ki = 1024n;

/** Splits "10.5e3Ki" into number and unit text as OPA's extractNumAndUnit does. */
function extractNumAndUnit(s: string): { num: string; unit: string } | 'exponent' {
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  let first = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (!isDigit(c) && c !== '.' && c !== 'e' && c !== 'E' && c !== '+' && c !== '-') {
      first = i;
      break;
    }
    if (c === 'e' || c === 'E') {
      const nx = s[i + 1];
      if (i === s.length - 1 || (!isDigit(nx) && nx !== '+' && nx !== '-')) {
        first = i;
        break;
      }
      if (nx === '+' || nx === '-') i++;
      let end = i + 1;
      while (isDigit(s[end])) end++;
      if (end - (i + 1) > MAX_EXPONENT_DIGITS) return 'exponent';
    }
  }
  if (first === -1) return { num: s, unit: '' };
  if (first === 0) return { num: '', unit: s };
  return { num: s.slice(0, first), unit: s.slice(first) };
}

const UNITS: Record<string, [bigint, bigint]> = {
  m: [1n, 1000n],
  '': [1n, 1n],
  k: [K, 1n],
  K: [K, 1n],
  ki: [Ki, 1n],
  Ki: [Ki, 1n],
  M: [K ** 2n, 1n],
  mi: [Ki ** 2n, 1n],
  Mi: [Ki ** 2n, 1n],
  g: [K ** 3n, 1n],
  G: [K ** 3n, 1n],
  gi: [Ki ** 3n, 1n],
  Gi: [Ki ** 3n, 1n],
  t: [K ** 4n, 1n],
  T: [K ** 4n, 1n],
  ti: [Ki ** 4n, 1n],
  Ti: [Ki ** 4n, 1n],
  p: [K ** 5n, 1n],
  P: [K ** 5n, 1n],
  pi: [Ki ** 5n, 1n],
  Pi: [Ki ** 5n, 1n],
  e: [K ** 6n, 1n],
  E: [K ** 6n, 1n],
  ei: [Ki ** 6n, 1n],
  Ei: [Ki ** 6n, 1n],
};

const BYTE_UNITS: Record<string, bigint> = {
  '': 1n,
  kb: K, k: K, kib: Ki, ki: Ki,
  mb: K ** 2n, m: K ** 2n, mib: Ki ** 2n, mi: Ki ** 2n,
  gb: K ** 3n, g: K ** 3n, gib: Ki ** 3n, gi: Ki ** 3n,
  tb: K ** 4n, t: K ** 4n, tib: Ki ** 4n, ti: Ki ** 4n,
  pb: K ** 5n, p: K ** 5n, pib: Ki ** 5n, pi: Ki ** 5n,
  eb: K ** 6n, e: K ** 6n, eib: Ki ** 6n, ei: Ki ** 6n,
};

export const unitsBuiltins: BuiltinTable = {
  'units.parse': (x) => {
    const name = 'units.parse';
    // OPA's messages repeat the builtin name (`units.parse: units.parse: no amount provided`).
    const fail = (msg: string) => builtinError(name, `${name}: ${msg}`);
    const s = str(name, x, 1).replaceAll('"', '');
    if (s.includes(' ')) throw fail('spaces not allowed in resource strings');
    const parts = extractNumAndUnit(s);
    if (parts === 'exponent') throw fail('exponent too large');
    if (parts.num === '') throw fail('no amount provided');
    let unit = parts.unit;
    if (unit.length > 1) unit = unit[0] + unit.slice(1).toLowerCase();
    const factor = Object.hasOwn(UNITS, unit) ? UNITS[unit] : undefined;
    if (!factor) throw fail(`unit ${unit} not recognized`);
    const n = parseDecimal(parts.num);
    if (!n) throw fail('could not parse amount to a number');
    return ratToNumber(mul(n, rat(factor[0], factor[1])));
  },
  'units.parse_bytes': (x) => {
    const name = 'units.parse_bytes';
    const fail = (msg: string) => builtinError(name, `${name}: ${msg}`);
    const s = str(name, x, 1).toLowerCase().replaceAll('"', '');
    if (s.includes(' ')) throw fail('spaces not allowed in resource strings');
    const parts = extractNumAndUnit(s);
    if (parts === 'exponent') throw fail('exponent too large');
    if (parts.num === '') throw fail('no byte amount provided');
    const factor = Object.hasOwn(BYTE_UNITS, parts.unit) ? BYTE_UNITS[parts.unit] : undefined;
    if (factor === undefined) throw fail(`byte unit ${parts.unit} not recognized`);
    const n = parseDecimal(parts.num);
    if (!n) throw fail('could not parse byte amount to a number');
    const total = ratTrunc(mul(n, rat(factor)));
    return Number.isSafeInteger(Number(total)) ? Number(total) : total;
  },
};
