// Go's reference-time layouts ("2006-01-02T15:04:05Z07:00"): formatting (Time.Format) and
// parsing (time.Parse), for time.format and time.parse_ns.
import { zoneAt } from './tz.js';

export interface GoTime {
  sec: bigint; // unix seconds (floor)
  nsec: number; // 0..999999999
  zone: string; // IANA name or "UTC"
  fixedOffset?: { offset: number; abbrev: string }; // a parsed numeric offset (Go's FixedZone)
}

type Std =
  | 'January' | 'Jan' | 'Monday' | 'Mon' | 'MST' | '1' | '01' | '2' | '02' | '_2' | '002' | '__2'
  | '15' | '3' | '03' | '4' | '04' | '5' | '05' | '2006' | '06' | 'PM' | 'pm'
  | '-070000' | '-07:00:00' | '-0700' | '-07:00' | '-07' | 'Z070000' | 'Z07:00:00' | 'Z0700' | 'Z07:00' | 'Z07'
  | 'frac0' | 'frac9';

interface Chunk {
  lit?: string;
  std?: Std;
  digits?: number; // fractional seconds
  sep?: string; // '.' or ','
}

const isLower = (c: string | undefined) => c !== undefined && c >= 'a' && c <= 'z';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** Go's nextStdChunk, applied over the whole layout. */
export function chunks(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let lit = '';
  const push = (c: Chunk, len: number, i: number): number => {
    if (lit) out.push({ lit });
    lit = '';
    out.push(c);
    return i + len;
  };
  for (let i = 0; i < layout.length; ) {
    const s = layout.slice(i);
    const c = s[0];
    let m: Std | undefined;
    switch (c) {
      case 'J':
        if (s.startsWith('January')) m = 'January';
        else if (s.startsWith('Jan') && !isLower(s[3])) m = 'Jan';
        break;
      case 'M':
        if (s.startsWith('Monday')) m = 'Monday';
        else if (s.startsWith('Mon') && !isLower(s[3])) m = 'Mon';
        else if (s.startsWith('MST')) m = 'MST';
        break;
      case '0':
        if (s.startsWith('002')) m = '002';
        else if (s[1] >= '1' && s[1] <= '6') m = s.slice(0, 2) as Std;
        break;
      case '1':
        m = s.startsWith('15') ? '15' : '1';
        break;
      case '2':
        m = s.startsWith('2006') ? '2006' : '2';
        break;
      case '_':
        if (s.startsWith('_2')) {
          if (s.startsWith('_2006')) {
            lit += '_';
            i++;
            continue;
          }
          m = '_2';
        } else if (s.startsWith('__2')) m = '__2';
        break;
      case '3':
      case '4':
      case '5':
        m = c;
        break;
      case 'P':
        if (s.startsWith('PM')) m = 'PM';
        break;
      case 'p':
        if (s.startsWith('pm')) m = 'pm';
        break;
      case '-':
      case 'Z':
        for (const z of ['070000', '07:00:00', '0700', '07:00', '07']) {
          if (s.startsWith(c + z)) {
            m = (c + z) as Std;
            break;
          }
        }
        break;
      case '.':
      case ',':
        if (s[1] === '0' || s[1] === '9') {
          let j = 1;
          while (s[j] === s[1]) j++;
          if (!isDigit(s[j])) {
            i = push({ std: s[1] === '0' ? 'frac0' : 'frac9', digits: j - 1, sep: c }, j, i);
            continue;
          }
        }
        break;
    }
    if (m) {
      i = push({ std: m }, m.length, i);
      continue;
    }
    lit += c;
    i++;
  }
  if (lit) out.push({ lit });
  return out;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export interface Civil {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
  yday: number; // 1..366
  offset: number;
  abbrev: string;
}

export function civil(t: GoTime): Civil {
  const z = t.fixedOffset ?? zoneAt(t.zone, Number(t.sec));
  const d = new Date((Number(t.sec) + z.offset) * 1000);
  const year = d.getUTCFullYear();
  const start = new Date(0);
  start.setUTCFullYear(year, 0, 1);
  start.setUTCHours(0, 0, 0, 0);
  const yday = Math.floor((d.getTime() - start.getTime()) / 86400000) + 1;
  return {
    year,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
    yday,
    offset: z.offset,
    abbrev: z.abbrev,
  };
}

const pad = (n: number, w: number, ch = '0') => {
  const s = String(Math.abs(n)).padStart(w, ch);
  return n < 0 ? `-${s}` : s;
};

function formatOffset(std: Std, offset: number): string {
  if (std.startsWith('Z') && offset === 0) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const hh = pad(Math.floor(a / 3600), 2);
  const mm = pad(Math.floor((a % 3600) / 60), 2);
  const ss = pad(a % 60, 2);
  const kind = std.slice(1);
  switch (kind) {
    case '07':
      return `${sign}${hh}`;
    case '0700':
      return `${sign}${hh}${mm}`;
    case '07:00':
      return `${sign}${hh}:${mm}`;
    case '070000':
      return `${sign}${hh}${mm}${ss}`;
    default:
      return `${sign}${hh}:${mm}:${ss}`;
  }
}

/** Time.Format. */
export function formatGo(t: GoTime, layout: string): string {
  const c = civil(t);
  let out = '';
  for (const ch of chunks(layout)) {
    if (ch.lit !== undefined) {
      out += ch.lit;
      continue;
    }
    switch (ch.std) {
      case 'January': out += MONTHS[c.month - 1]; break;
      case 'Jan': out += MONTHS[c.month - 1].slice(0, 3); break;
      case 'Monday': out += WEEKDAYS[c.weekday]; break;
      case 'Mon': out += WEEKDAYS[c.weekday].slice(0, 3); break;
      case 'MST': out += c.abbrev; break;
      case '1': out += c.month; break;
      case '01': out += pad(c.month, 2); break;
      case '2': out += c.day; break;
      case '02': out += pad(c.day, 2); break;
      case '_2': out += pad(c.day, 2, ' '); break;
      case '002': out += pad(c.yday, 3); break;
      case '__2': out += pad(c.yday, 3, ' '); break;
      case '15': out += pad(c.hour, 2); break;
      case '3': out += c.hour % 12 === 0 ? 12 : c.hour % 12; break;
      case '03': out += pad(c.hour % 12 === 0 ? 12 : c.hour % 12, 2); break;
      case '4': out += c.minute; break;
      case '04': out += pad(c.minute, 2); break;
      case '5': out += c.second; break;
      case '05': out += pad(c.second, 2); break;
      case '2006': out += pad(c.year, 4); break;
      case '06': out += pad(((c.year % 100) + 100) % 100, 2); break;
      case 'PM': out += c.hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += c.hour >= 12 ? 'pm' : 'am'; break;
      case 'frac0':
        out += ch.sep + String(t.nsec).padStart(9, '0').slice(0, ch.digits);
        break;
      case 'frac9': {
        const digits = String(t.nsec).padStart(9, '0').slice(0, ch.digits).replace(/0+$/, '');
        if (digits) out += ch.sep + digits;
        break;
      }
      default:
        out += formatOffset(ch.std as Std, c.offset);
    }
  }
  return out;
}

export class GoParseError extends Error {}

function parseErr(value: string, layout: string, rest: string, elem: string, extra = ''): GoParseError {
  const q = (s: string) => JSON.stringify(s);
  return new GoParseError(`parsing time ${q(value)} as ${q(layout)}: cannot parse ${q(rest)} as ${q(elem)}${extra}`);
}

const DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** time.Parse(layout, value) → nanoseconds since the epoch (UTC unless the value has an offset). */
export function parseGo(layout: string, value: string): bigint {
  let year = 1;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nsec = 0;
  let pm: boolean | undefined;
  let offset: number | undefined;
  let yday = -1;
  let v = value;
  const list = chunks(layout);
  const num = (min: number, max: number, elem: string): number => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(v);
    if (!m) throw parseErr(value, layout, v, elem);
    v = v.slice(m[0].length);
    return Number(m[0]);
  };
  const lookup = (names: string[], elem: string): number => {
    for (let i = 0; i < names.length; i++) {
      if (v.slice(0, names[i].length).toLowerCase() === names[i].toLowerCase()) {
        v = v.slice(names[i].length);
        return i;
      }
    }
    throw parseErr(value, layout, v, elem);
  };
  for (let k = 0; k < list.length; k++) {
    const ch = list[k];
    if (ch.lit !== undefined) {
      // Go skips leading spaces in both when the literal starts with a space
      if (!v.startsWith(ch.lit)) throw parseErr(value, layout, v, ch.lit);
      v = v.slice(ch.lit.length);
      continue;
    }
    const std = ch.std as Std;
    const elem = ch.std === 'frac0' || ch.std === 'frac9' ? `${ch.sep}${(ch.std === 'frac0' ? '0' : '9').repeat(ch.digits ?? 0)}` : std;
    switch (std) {
      case '2006':
        year = num(4, 4, elem);
        break;
      case '06': {
        const y = num(2, 2, elem);
        year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case 'January':
        month = lookup(MONTHS, elem) + 1;
        break;
      case 'Jan':
        month = lookup(MONTHS.map((m) => m.slice(0, 3)), elem) + 1;
        break;
      case 'Monday':
        lookup(WEEKDAYS, elem);
        break;
      case 'Mon':
        lookup(WEEKDAYS.map((d) => d.slice(0, 3)), elem);
        break;
      case '1':
      case '01':
        month = num(std === '01' ? 2 : 1, 2, elem);
        if (month < 1 || month > 12) throw parseErr(value, layout, v, elem, ': month out of range');
        break;
      case '2':
      case '02':
      case '_2':
        if (std === '_2' && v.startsWith(' ')) v = v.slice(1);
        day = num(std === '02' ? 2 : 1, 2, elem);
        break;
      case '002':
      case '__2':
        if (std === '__2') v = v.replace(/^ {1,2}/, '');
        yday = num(std === '002' ? 3 : 1, 3, elem);
        break;
      case '15':
        hour = num(1, 2, elem);
        if (hour > 23) throw parseErr(value, layout, v, elem, ': hour out of range');
        break;
      case '3':
      case '03':
        hour = num(std === '03' ? 2 : 1, 2, elem);
        if (hour > 12) throw parseErr(value, layout, v, elem, ': hour out of range');
        break;
      case '4':
      case '04':
        minute = num(std === '04' ? 2 : 1, 2, elem);
        if (minute > 59) throw parseErr(value, layout, v, elem, ': minute out of range');
        break;
      case '5':
      case '05': {
        second = num(std === '05' ? 2 : 1, 2, elem);
        if (second > 59) throw parseErr(value, layout, v, elem, ': second out of range');
        // a fractional second in the value is accepted even when the layout has none
        const next = list[k + 1];
        if (/^[.,]\d/.test(v) && !(next && (next.std === 'frac0' || next.std === 'frac9'))) {
          const m = /^[.,](\d+)/.exec(v) as RegExpExecArray;
          nsec = Number(m[1].slice(0, 9).padEnd(9, '0'));
          v = v.slice(m[0].length);
        }
        break;
      }
      case 'PM':
      case 'pm': {
        const ap = v.slice(0, 2).toUpperCase();
        if (ap !== 'AM' && ap !== 'PM') throw parseErr(value, layout, v, elem);
        pm = ap === 'PM';
        v = v.slice(2);
        break;
      }
      case 'MST': {
        const m = /^(UTC|GMT|[A-Z]{3,5})/.exec(v);
        if (!m) throw parseErr(value, layout, v, elem);
        v = v.slice(m[0].length);
        if (offset === undefined) offset = 0;
        break;
      }
      case 'frac0':
      case 'frac9': {
        const m = ch.std === 'frac0' ? new RegExp(`^[.,](\\d{${ch.digits}})`).exec(v) : /^[.,](\d+)/.exec(v);
        if (!m) {
          if (ch.std === 'frac9') break;
          throw parseErr(value, layout, v, elem);
        }
        nsec = Number(m[1].slice(0, 9).padEnd(9, '0'));
        v = v.slice(m[0].length);
        break;
      }
      default: {
        if (std.startsWith('Z') && v.startsWith('Z')) {
          v = v.slice(1);
          offset = 0;
          break;
        }
        const kind = std.slice(1);
        const re =
          kind === '07' ? /^([+-])(\d\d)/ :
          kind === '0700' ? /^([+-])(\d\d)(\d\d)/ :
          kind === '07:00' ? /^([+-])(\d\d):(\d\d)/ :
          kind === '070000' ? /^([+-])(\d\d)(\d\d)(\d\d)/ : /^([+-])(\d\d):(\d\d):(\d\d)/;
        const m = re.exec(v);
        if (!m) throw parseErr(value, layout, v, elem);
        const hh = Number(m[2]);
        const mm = Number(m[3] ?? 0);
        const ss = Number(m[4] ?? 0);
        if (hh > 24 || mm > 60 || ss > 60) throw parseErr(value, layout, v, elem, ': time zone offset out of range');
        offset = (m[1] === '-' ? -1 : 1) * (hh * 3600 + mm * 60 + ss);
        v = v.slice(m[0].length);
      }
    }
  }
  if (v !== '') {
    throw new GoParseError(`parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(v)}`);
  }
  if (pm !== undefined) {
    if (pm && hour < 12) hour += 12;
    else if (!pm && hour === 12) hour = 0;
  }
  if (yday >= 0) {
    const leap = isLeap(year);
    if (yday < 1 || yday > (leap ? 366 : 365)) throw new GoParseError(`parsing time ${JSON.stringify(value)}: day-of-year out of range`);
    const d = new Date(0);
    d.setUTCFullYear(year, 0, yday);
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
  }
  const dim = month === 2 && isLeap(year) ? 29 : DAYS_IN[month - 1];
  if (day < 1 || day > dim) throw new GoParseError(`parsing time ${JSON.stringify(value)}: day out of range`);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  const sec = BigInt(d.getTime() / 1000) - BigInt(offset ?? 0);
  return sec * 1000000000n + BigInt(nsec);
}
