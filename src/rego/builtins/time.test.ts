import { describe, expect, it } from 'vitest';
import { conformanceCases } from './testing/suite.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);
const text = (v: unknown) => (v instanceof ArrayBuffer ? new TextDecoder().decode(v) : JSON.stringify(v));

describe('time.* conformance (direct calls)', () => {
  const n = conformanceCases(['time']);
  it('finds the direct-call cases', () => expect(n).toBeGreaterThanOrEqual(10));
});

describe('time.* from the suite\'s compound cases', () => {
  const ns = 1670006453141828752; // rounded to a double, as it crosses the SDK boundary
  it('format: default, zone, layout, named layout', () => {
    expect(call('time.format', [1670006453141828608, 'Asia/Kolkata', 'Mon Jan 02 15:04:05 -0700 2006'])).toBe('Sat Dec 03 00:10:53 +0530 2022');
    expect(call('time.format', [ns, 'Asia/Kolkata', 'RFC1123Z'])).toBe('Sat, 03 Dec 2022 00:10:53 +0530');
    expect(call('time.format', 1670006453141828608)).toBe('2022-12-02T18:40:53.141828608Z');
    expect(call('time.format', [1670006453141828608, 'Asia/Kolkata'])).toBe('2022-12-03T00:10:53.141828608+05:30');
  });
  it('parse_rfc3339_ns at the int64 limits is exact', () => {
    expect(text(call('time.parse_rfc3339_ns', '1677-09-21T00:12:43.145224192-00:00'))).toBe('-9223372036854775808');
    expect(text(call('time.parse_rfc3339_ns', '2262-04-11T23:47:16.854775807-00:00'))).toBe('9223372036854775807');
    expect(text(call('time.parse_rfc3339_ns', '2017-06-02T19:00:00-07:00'))).toBe('1496455200000000000');
  });
  it('diff (leap years, zones)', () => {
    const p = (s: string) => JSON.parse(text(call('time.parse_ns', '2006-01-02', s)));
    expect(call('time.diff', p('2020-02-02'), p('2020-03-01'))).toEqual([0, 0, 28, 0, 0, 0]);
    expect(call('time.diff', p('2021-02-02'), p('2021-03-01'))).toEqual([0, 0, 27, 0, 0, 0]);
    expect(call('time.diff', p('2004-02-29'), p('2005-03-01'))).toEqual([1, 0, 1, 0, 0, 0]);
    const now = 1700000000000000000;
    expect(call('time.diff', [now + 60e9, 'UTC'], [now, 'Asia/Shanghai'])).toEqual([0, 0, 0, 0, 1, 0]);
    expect(call('time.diff', now + 61e9, now)).toEqual([0, 0, 0, 0, 1, 1]);
  });
  it('clock and date with zones', () => {
    expect(call('time.clock', [1517832000 * 1e9, 'America/New_York'])).toEqual([7, 0, 0]);
    expect(call('time.date', [1517832000 * 1e9, ''])).toEqual([2018, 2, 5]);
    expect(() => call('time.clock', [0, 'Mars/Olympus'])).toThrow('eval_builtin_error: time.clock: unknown time zone Mars/Olympus');
  });
  it('now_ns is stable within one evaluation and an exact integer', async () => {
    const a = text(call('time.now_ns'));
    expect(a).toMatch(/^\d{19}$/);
    expect(text(call('time.now_ns'))).toBe(a);
    await new Promise((r) => setTimeout(r, 5));
    expect(text(call('time.now_ns'))).not.toBe(a);
  });
});

describe('time.* Go details', () => {
  it('parse_duration_ns like Go', () => {
    expect(call('time.parse_duration_ns', '1h2m3.5s')).toBe(3723500000000);
    expect(call('time.parse_duration_ns', '-1.5µs')).toBe(-1500);
    expect(call('time.parse_duration_ns', '0')).toBe(0);
    expect(() => call('time.parse_duration_ns', '1')).toThrow('time: missing unit in duration "1"');
    expect(() => call('time.parse_duration_ns', '1d')).toThrow('time: unknown unit "d" in duration "1d"');
  });
  it('parse_ns with Go layouts', () => {
    expect(text(call('time.parse_ns', 'Jan 2 2006 3:04PM', 'Feb 5 2018 7:30PM'))).toBe(String(Date.UTC(2018, 1, 5, 19, 30) * 1e6));
    expect(text(call('time.parse_ns', '2006-01-02T15:04:05Z07:00', '2018-02-05T07:30:00.25+01:00'))).toBe('1517812200250000000');
    expect(() => call('time.parse_ns', '2006-01-02', '2021-02-30')).toThrow('day out of range');
    expect(() => call('time.parse_ns', '2006-01-02', 'x')).toThrow('parsing time "x" as "2006-01-02": cannot parse "x" as "2006"');
  });
  it('format layouts: 12h clock, padded days, fractional seconds', () => {
    const t = Date.UTC(2009, 10, 3, 23, 4, 5) * 1e6 + 120000000;
    expect(call('time.format', [t, 'UTC', '3:04PM _2 Jan 06 .000 .999 002'])).toBe('11:04PM  3 Nov 09 .120 .12 307');
  });
  it('add_date normalises like Go and checks the range', () => {
    expect(JSON.parse(text(call('time.add_date', 1585852421593912000, 3, 9, 12)))).toBe(1705257221593912000);
    const jan31 = Date.UTC(2021, 0, 31) * 1e6;
    expect(JSON.parse(text(call('time.add_date', jan31, 0, 1, 0)))).toBe(Date.UTC(2021, 2, 3) * 1e6);
    expect(() => call('time.add_date', 0, 2262, 1, 1)).toThrow('time outside of valid range');
  });
  it('too big timestamps', () => {
    expect(() => call('time.weekday', 1582977600 * 1e13)).toThrow('eval_builtin_error: time.weekday: timestamp too big');
    expect(() => call('time.date', 'x')).toThrow('eval_type_error: time.date: operand 1 must be either number (ns) or [number (ns), string (tz)] but got string');
  });
});
