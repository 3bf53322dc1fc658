// OPA's total order on values (v1/ast/compare.go): first by kind
// (null < boolean < number < string < var < ref < array < object < set <
// comprehensions < call), then within a kind. Numbers compare by exact decimal
// value, strings by code point (Go compares UTF-8 bytes, which is the same order).
import type { Body, Expr, Term, Value } from './types.js';

const KIND_ORDER: Record<Value['type'], number> = {
  null: 0,
  boolean: 1,
  number: 2,
  string: 3,
  var: 4,
  ref: 5,
  array: 6,
  object: 7,
  set: 8,
  arraycomprehension: 9,
  objectcomprehension: 10,
  setcomprehension: 11,
  call: 12,
  templatestring: 13,
};

/** A decimal number as sign, significant digits (no leading/trailing zeros) and exponent: 0.d1d2... × 10^exp. */
interface Decimal { neg: boolean; digits: string; exp: number }

export function parseDecimal(s: string): Decimal | undefined {
  const m = /^(-)?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  let digits = intPart + frac;
  let exp = intPart.length + (m[4] ? parseInt(m[4], 10) : 0);
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead);
  exp -= lead;
  digits = digits.replace(/0+$/, '');
  if (digits === '') return { neg: false, digits: '', exp: 0 };
  return { neg: m[1] === '-', digits, exp };
}

/** Compares two numbers given as decimal text (as kept in NumberValue). */
export function compareNumbers(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) {
    const fx = Number(a);
    const fy = Number(b);
    return fx < fy ? -1 : fx > fy ? 1 : 0;
  }
  const sx = x.digits === '' ? 0 : x.neg ? -1 : 1;
  const sy = y.digits === '' ? 0 : y.neg ? -1 : 1;
  if (sx !== sy) return sx < sy ? -1 : 1;
  if (sx === 0) return 0;
  let mag: number;
  if (x.exp !== y.exp) mag = x.exp < y.exp ? -1 : 1;
  else {
    const n = Math.max(x.digits.length, y.digits.length);
    const dx = x.digits.padEnd(n, '0');
    const dy = y.digits.padEnd(n, '0');
    mag = dx < dy ? -1 : dx > dy ? 1 : 0;
  }
  return sx < 0 ? -mag : mag;
}

/** Compares strings by Unicode code point. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      // Surrogates (astral code points) sort after all BMP characters.
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb) return sa ? 1 : -1;
      return ca < cb ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function compareSlices(a: Term[], b: Term[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareTerms(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

export function sortTerms(ts: Term[]): Term[] {
  return [...ts].sort(compareTerms);
}

export function compareTerms(a: Term, b: Term): number {
  return compareValues(a.value, b.value);
}

export function compareValues(a: Value, b: Value): number {
  const ka = KIND_ORDER[a.type];
  const kb = KIND_ORDER[b.type];
  if (ka !== kb) return ka < kb ? -1 : 1;
  switch (a.type) {
    case 'null':
      return 0;
    case 'boolean': {
      const y = (b as typeof a).value;
      return a.value === y ? 0 : a.value ? 1 : -1;
    }
    case 'number':
      return compareNumbers(a.value, (b as typeof a).value);
    case 'string':
    case 'var':
      return compareStrings(a.value, (b as typeof a).value);
    case 'ref':
    case 'array':
    case 'call':
      return compareSlices(a.value, (b as typeof a).value);
    case 'set':
      return compareSlices(sortTerms(a.value), sortTerms((b as typeof a).value));
    case 'object': {
      const x = [...a.value].sort((p, q) => compareTerms(p[0], q[0]));
      const y = [...(b as typeof a).value].sort((p, q) => compareTerms(p[0], q[0]));
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareTerms(x[i]![0], y[i]![0]) || compareTerms(x[i]![1], y[i]![1]);
        if (c !== 0) return c;
      }
      return x.length < y.length ? -1 : x.length > y.length ? 1 : 0;
    }
    case 'arraycomprehension':
    case 'setcomprehension': {
      const y = b as typeof a;
      return compareTerms(a.term, y.term) || compareBodies(a.body, y.body);
    }
    case 'objectcomprehension': {
      const y = b as typeof a;
      return compareTerms(a.key, y.key) || compareTerms(a.value, y.value) || compareBodies(a.body, y.body);
    }
    case 'templatestring':
      return compareStrings(JSON.stringify(a.parts), JSON.stringify((b as typeof a).parts));
  }
}

function compareBodies(a: Body, b: Body): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareExprs(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** A structural order on expressions (enough for comprehension comparison). */
function compareExprs(a: Expr, b: Expr): number {
  if (a.negated !== b.negated) return a.negated ? 1 : -1;
  return compareStrings(JSON.stringify(stripLoc(a.terms)), JSON.stringify(stripLoc(b.terms)));
}

function stripLoc(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'location' ? undefined : v)));
}

export function termsEqual(a: Term, b: Term): boolean {
  return compareTerms(a, b) === 0;
}
