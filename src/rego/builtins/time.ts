// time.* (OPA's topdown/time.go): Go layouts, IANA zones through Intl, int64 nanoseconds as bigints.
// Nanosecond arguments: the planner passes them as json.marshal text (HOST_BUILTIN_EXACT_ARGS), so
// int64 values beyond 2^53 arrive as exact bigints; direct callers may pass JS numbers.
import { builtinError, num, str, typeError } from './errors.js';
import { perEvaluation } from './eval-scope.js';
import { civil, formatGo, GoParseError, parseGo, WEEKDAYS, type GoTime } from './golayout.js';
import { resolveZone } from './tz.js';
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

/** OPA's tzTime: a number (ns, UTC) or [ns, tz?, layout?]. */
function tzTime(name: string, a: unknown): { t: GoTime; layout: string } {
  const want = 'either number (ns) or [number (ns), string (tz)]';
  let nsVal: unknown = a;
  let zone = 'UTC';
  let layout = NAMED_LAYOUTS.RFC3339Nano;
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
    if (a.length > 2) {
      const l = str(name, a[2], 1);
      layout = NAMED_LAYOUTS[l] ?? l;
    }
  } else if (!isNum(a)) throw typeError(name, 1, a, want);
  return { t: timeOf(nsToInt(name, nsVal as number | bigint), zone), layout };
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

/** Go's time.ParseDuration. */
export function parseDuration(s: string): bigint {
  const orig = s;
  const q = JSON.stringify(orig);
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw new Error(`time: invalid duration ${q}`);
  let total = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    if (m[0] === '' || m[0] === '.' ) throw new Error(`time: invalid duration ${q}`);
    s = s.slice(m[0].length);
    const u = /^[^\d.]*/.exec(s) as RegExpExecArray;
    if (u[0] === '') throw new Error(`time: missing unit in duration ${q}`);
    const unit = UNIT_NS[u[0]];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u[0])} in duration ${q}`);
    s = s.slice(u[0].length);
    const whole = BigInt(m[1] || '0');
    const fracDigits = m[2] ?? '';
    let v = whole * unit;
    if (fracDigits) v += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    total += v;
    if (total > 2n ** 63n) throw new Error(`time: invalid duration ${q}`);
  }
  if (neg) total = -total;
  if (total > INT64_MAX) throw new Error(`time: invalid duration ${q}`);
  return total;
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
    return parse(name, str(name, layout, 1), str(name, value, 2));
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
    return formatGo(t, layout);
  },
  'time.add_date': (ns, years, months, days) => {
    const name = 'time.add_date';
    const t = timeOf(nsToInt(name, isNum(ns) ? ns : num(name, ns, 1)), 'UTC');
    const y = num(name, years, 2);
    const mo = num(name, months, 3);
    const dd = num(name, days, 4);
    const c = civil(t);
    const d = new Date(0);
    d.setUTCFullYear(c.year + Math.trunc(y), c.month - 1 + Math.trunc(mo), c.day + Math.trunc(dd));
    d.setUTCHours(c.hour, c.minute, c.second, 0);
    const ms = d.getTime();
    if (!Number.isFinite(ms)) throw builtinError(name, 'time outside of valid range');
    return checkRange(name, BigInt(ms / 1000) * NS + BigInt(t.nsec));
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
