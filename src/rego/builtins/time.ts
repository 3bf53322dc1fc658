// time.* (OPA's topdown/time.go): Go layouts, IANA zones through Intl, int64 nanoseconds as bigints.
// Nanosecond arguments: the planner passes them as json.marshal text (HOST_BUILTIN_EXACT_ARGS), so
// int64 values beyond 2^53 arrive as exact bigints; direct callers may pass JS numbers.
import { builtinError, operandError, str, typeError } from './errors.js';
import { perEvaluation } from './eval-scope.js';
import { civil, formatGo, GoParseError, parseGo, WEEKDAYS, type GoTime } from './golayout.js';
import { resolveZone, zoneAt } from './tz.js';
import type { BuiltinTable } from './types.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NS = 1000000000n;

const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
};

function nsToInt(name: string, v: number | bigint): bigint {
  if (typeof v === 'bigint') {
    if (v > INT64_MAX || v < INT64_MIN) throw builtinError(name, 'timestamp too big');
    return v;
  }
  if (!Number.isInteger(v) || v >= 2 ** 63 || v < -(2 ** 63)) throw builtinError(name, 'timestamp too big');
  return BigInt(v);
}

const isNum = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';

function timeOf(ns: bigint, zone: string): GoTime {
  let sec = ns / NS;
  let rem = ns % NS;
  if (rem < 0n) {
    rem += NS;
    sec -= 1n;
  }
  return { sec, nsec: Number(rem), zone };
}

/** OPA's tzTime: a number (ns, UTC) or [ns, tz?, layout?]; the layout as given ("" when none). */
function tzTime(name: string, a: unknown): { t: GoTime; layout: string } {
  const want = 'either number (ns) or [number (ns), string (tz)]';
  let nsVal: unknown = a;
  let zone = 'UTC';
  let layout = '';
  if (Array.isArray(a)) {
    if (a.length === 0) throw typeError(name, 1, a, want);
    nsVal = a[0];
    if (!isNum(nsVal)) throw typeError(name, 1, nsVal, 'number');
    if (a.length > 1) {
      const tz = str(name, a[1], 1);
      try {
        zone = resolveZone(tz);
      } catch (err) {
        throw builtinError(name, (err as Error).message);
      }
    }
    if (a.length > 2) layout = str(name, a[2], 1);
  } else if (!isNum(a)) throw typeError(name, 1, a, want);
  return { t: timeOf(nsToInt(name, nsVal as number | bigint), zone), layout };
}

/** OPA's IntOperand: a number that is an integer. */
function intOperand(name: string, v: unknown, pos: number): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw typeError(name, pos, v, 'number');
  if (!Number.isInteger(v)) throw operandError(name, pos, 'must be integer number but got floating-point number');
  return v;
}

function checkRange(name: string, ns: bigint): bigint {
  if (ns < INT64_MIN || ns > INT64_MAX) throw builtinError(name, 'time outside of valid range');
  return ns;
}

function parse(name: string, layout: string, value: string): bigint {
  let ns: bigint;
  try {
    ns = parseGo(layout, value);
  } catch (err) {
    if (err instanceof GoParseError) throw builtinError(name, err.message);
    throw err;
  }
  return checkRange(name, ns);
}

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n, // U+00B5
  'μs': 1000n, // U+03BC
  ms: 1000000n,
  s: NS,
  m: 60n * NS,
  h: 3600n * NS,
};

/** Go's time.quote: ASCII as it is (quotes and backslashes escaped), other bytes as \xNN. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += '\\x' + b.toString(16).padStart(2, '0');
    } else out += ch === '"' || ch === '\\' ? '\\' + ch : ch;
  }
  return out + '"';
}

const U64_LIMIT = 1n << 63n;

/** Go's time.ParseDuration, digit for digit (fractions through float64, as Go computes them). */
export function parseDuration(orig: string): bigint {
  const invalid = () => new Error(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let d = 0n;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  while (s !== '') {
    if (!(s[0] === '.' || (s[0]! >= '0' && s[0]! <= '9'))) throw invalid();
    // leadingInt: [0-9]*, an error past 2^63
    let i = 0;
    let v = 0n;
    for (; i < s.length && s[i]! >= '0' && s[i]! <= '9'; i++) {
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > U64_LIMIT) throw invalid();
    }
    const pre = i > 0;
    s = s.slice(i);
    // leadingFraction: (\.[0-9]*)?, digits past overflow dropped
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s !== '' && s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; j < s.length && s[j]! >= '0' && s[j]! <= '9'; j++) {
        if (overflow) continue;
        if (f > (U64_LIMIT - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (y > U64_LIMIT) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid();
    let k = 0;
    while (k < s.length && s[k] !== '.' && !(s[k]! >= '0' && s[k]! <= '9')) k++;
    if (k === 0) throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const u = s.slice(0, k);
    s = s.slice(k);
    const unit = UNIT_NS[u];
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`);
    if (v > U64_LIMIT / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      // float64, as Go: nanosecond-accurate for fractions of the largest unit
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > U64_LIMIT) throw invalid();
    }
    d += v;
    if (d > U64_LIMIT) throw invalid();
  }
  if (neg) return -d;
  if (d > INT64_MAX) throw invalid();
  return d;
}

/**
 * Unix seconds of a civil time in `tz`, as Go's time.Date finds them (fields normalized, the
 * offset looked up at the local time taken as UTC, then at the result if that crossed a change).
 */
function unixOfCivil(tz: string, year: number, month: number, day: number, hour: number, min: number, sec: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  const local = d.getTime() / 1000;
  if (!Number.isFinite(local)) return NaN;
  if (tz === 'UTC') return local;
  const off = zoneAt(tz, local).offset;
  if (off === 0) return local;
  const utc = local - off;
  const off2 = zoneAt(tz, utc).offset;
  return off2 === off ? utc : local - off2;
}

function civilOf(name: string, a: unknown) {
  return civil(tzTime(name, a).t);
}

/** Days in the month of (y, m) as Go finds them: Date(y, m, 32).Day() gives 32 - days. */
function daysIn(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0);
  return d.getUTCDate();
}

export const timeBuiltins: BuiltinTable = {
  'time.now_ns': () => perEvaluation('time.now_ns', () => BigInt(Date.now()) * 1000000n),
  'time.parse_ns': (layout, value) => {
    const name = 'time.parse_ns';
    const l = str(name, layout, 1);
    return parse(name, NAMED_LAYOUTS[l] ?? l, str(name, value, 2));
  },
  'time.parse_rfc3339_ns': (value) => {
    const name = 'time.parse_rfc3339_ns';
    return parse(name, NAMED_LAYOUTS.RFC3339, str(name, value, 1));
  },
  'time.parse_duration_ns': (d) => {
    const name = 'time.parse_duration_ns';
    try {
      return parseDuration(str(name, d, 1));
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('time: ')) throw builtinError(name, err.message);
      throw err;
    }
  },
  'time.date': (x) => {
    const c = civilOf('time.date', x);
    return [c.year, c.month, c.day];
  },
  'time.clock': (x) => {
    const c = civilOf('time.clock', x);
    return [c.hour, c.minute, c.second];
  },
  'time.weekday': (x) => WEEKDAYS[civilOf('time.weekday', x).weekday],
  'time.format': (x) => {
    const { t, layout } = tzTime('time.format', x);
    return formatGo(t, layout === '' ? NAMED_LAYOUTS.RFC3339Nano : (NAMED_LAYOUTS[layout] ?? layout));
  },
  'time.add_date': (ns, years, months, days) => {
    // Go's t.AddDate: the civil date in the time's zone moved and normalized, the clock kept
    const name = 'time.add_date';
    const { t } = tzTime(name, ns);
    const y = intOperand(name, years, 2);
    const mo = intOperand(name, months, 3);
    const dd = intOperand(name, days, 4);
    const c = civil(t);
    const unix = unixOfCivil(t.zone, c.year + y, c.month + mo, c.day + dd, c.hour, c.minute, c.second);
    if (!Number.isFinite(unix)) throw builtinError(name, 'time outside of valid range');
    return checkRange(name, BigInt(unix) * NS + BigInt(t.nsec));
  },
  'time.diff': (a, b) => {
    const name = 'time.diff';
    let t1 = tzTime(name, a).t;
    let t2 = tzTime(name, b).t;
    t2 = { ...t2, zone: t1.zone }; // compared in the first operand's zone
    if (t1.sec > t2.sec || (t1.sec === t2.sec && t1.nsec > t2.nsec)) [t1, t2] = [t2, t1];
    const c1 = civil(t1);
    const c2 = civil(t2);
    let year = c2.year - c1.year;
    let month = c2.month - c1.month;
    let day = c2.day - c1.day;
    let hour = c2.hour - c1.hour;
    let min = c2.minute - c1.minute;
    let sec = c2.second - c1.second;
    if (sec < 0) {
      sec += 60;
      min--;
    }
    if (min < 0) {
      min += 60;
      hour--;
    }
    if (hour < 0) {
      hour += 24;
      day--;
    }
    if (day < 0) {
      day += daysIn(c1.year, c1.month);
      month--;
    }
    if (month < 0) {
      month += 12;
      year--;
    }
    return [year, month, day, hour, min, sec];
  },
};
