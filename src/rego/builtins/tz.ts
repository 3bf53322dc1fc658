// IANA time zones through Node's Intl (which carries the tz database): UTC offsets and zone
// abbreviations for an instant, as Go's time.LoadLocation would give them.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
      timeZoneName: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Go's time.LoadLocation names: "" and "UTC" are UTC, "Local" is the process zone. */
export function resolveZone(name: string): string {
  if (name === '' || name === 'UTC') return 'UTC';
  if (name === 'Local') return process.env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  // Go's LoadLocation refuses paths; zone files are named case-sensitively
  if (name.includes('..') || name.startsWith('/') || name.startsWith('\\')) throw new Error('time: invalid location name');
  let f: Intl.DateTimeFormat;
  try {
    f = formatter(name);
  } catch {
    throw new Error(`unknown time zone ${name}`);
  }
  const canonical = f.resolvedOptions().timeZone;
  if (canonical !== name && canonical.toLowerCase() === name.toLowerCase()) throw new Error(`unknown time zone ${name}`);
  return name;
}

export interface ZoneInfo {
  offset: number; // seconds east of UTC
  abbrev: string; // Go's zone name for MST layouts
}

/** Offset and abbreviation of `tz` at unix second `sec` (any second within int64 ns range). */
export function zoneAt(tz: string, sec: number): ZoneInfo {
  if (tz === 'UTC') return { offset: 0, abbrev: 'UTC' };
  const parts = formatter(tz).formatToParts(new Date(sec * 1000));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  let year = Number(get('year'));
  if (get('era') === 'BC' || get('era') === 'B') year = 1 - year;
  const local = Date.UTC(2000, Number(get('month')) - 1, Number(get('day')), Number(get('hour')), Number(get('minute')), Number(get('second')));
  const d = new Date(local);
  d.setUTCFullYear(year);
  const offset = Math.round((d.getTime() - sec * 1000) / 1000);
  let abbrev = get('timeZoneName');
  if (!/^[A-Z]{3,5}$/.test(abbrev) || abbrev === 'GMT') {
    // tzdata names such zones by their offset, e.g. "+0530"
    const sign = offset < 0 ? '-' : '+';
    const a = Math.abs(offset);
    const hh = String(Math.floor(a / 3600)).padStart(2, '0');
    const mm = Math.floor((a % 3600) / 60);
    abbrev = offset === 0 ? (abbrev === 'GMT' ? 'GMT' : 'UTC') : mm ? `${sign}${hh}${String(mm).padStart(2, '0')}` : `${sign}${hh}`;
  }
  return { offset, abbrev };
}
