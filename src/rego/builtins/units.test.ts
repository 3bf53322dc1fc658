import { describe, expect, it } from 'vitest';
import { conformanceCases } from './testing/suite.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);
const text = (v: unknown) => (v instanceof ArrayBuffer ? new TextDecoder().decode(v) : JSON.stringify(v));

describe('units.* conformance (direct calls)', () => {
  const n = conformanceCases(['units']);
  it('finds the direct-call cases', () => expect(n).toBeGreaterThanOrEqual(105));
});

describe('units exactness', () => {
  it('big integers cross the boundary digit for digit', () => {
    expect(text(call('units.parse', '10Ei'))).toBe('11529215046068469760');
    expect(text(call('units.parse_bytes', '10eib'))).toBe('11529215046068469760');
    expect(text(call('units.parse', '1Pi'))).toBe('1125899906842624');
  });
  it('decimals are exact (no 0.1+0.2 artefacts)', () => {
    expect(text(call('units.parse', '100m'))).toBe('0.1000000000');
    expect(text(call('units.parse', '1.1Ki'))).toBe('1126.4000000000');
    expect(JSON.parse(text(call('units.parse', '500m')))).toBe(0.5);
  });
  it('parse_bytes truncates', () => {
    expect(call('units.parse_bytes', '1.1KiB')).toBe(1126);
  });
  it('OPA error texts', () => {
    expect(() => call('units.parse', '1x')).toThrow('eval_builtin_error: units.parse: units.parse: unit x not recognized');
    expect(() => call('units.parse', '1e1234567')).toThrow('exponent too large');
    expect(() => call('units.parse_bytes', 'kb')).toThrow('units.parse_bytes: no byte amount provided');
    expect(() => call('units.parse', 5)).toThrow('eval_type_error: units.parse: operand 1 must be string but got number');
  });
});

describe('semver', () => {
  const n = conformanceCases(['semvercompare', 'semverisvalid']);
  it('finds the direct-call cases', () => expect(n).toBe(6));
  it('orders pre-releases per SemVer 2.0.0 and ignores build metadata', () => {
    const order = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
    for (let i = 0; i + 1 < order.length; i++) {
      expect(call('semver.compare', order[i], order[i + 1])).toBe(-1);
      expect(call('semver.compare', order[i + 1], order[i])).toBe(1);
    }
    expect(call('semver.compare', '1.0.0+a', '1.0.0+b')).toBe(0);
  });
  it('rejects v prefixes and leading zeros', () => {
    expect(call('semver.is_valid', 'v1.0.0')).toBe(false);
    expect(call('semver.is_valid', '01.0.0')).toBe(false);
    expect(call('semver.is_valid', '1.0.0-01')).toBe(false);
    expect(() => call('semver.compare', '1.0', '1.0.0')).toThrow('eval_builtin_error: semver.compare: operand 1: string 1.0 is not a valid SemVer');
  });
});

describe('uuid', () => {
  const n = conformanceCases(['uuid']);
  it('has no direct-call cases (they read input)', () => expect(n).toBeGreaterThanOrEqual(0));
  it('parses the suite\'s v2 URN like google/uuid', () => {
    const r = JSON.parse(text(call('uuid.parse', 'urn:uuid:000003e8-48b9-21ee-b200-325096b39f47')));
    expect(r).toEqual({ clocksequence: 12800, domain: 'Person', id: 1000, macvariables: 'local:unicast', nodeid: '32-50-96-b3-9f-47', time: 1693566990121469600, variant: 'RFC4122', version: 2 });
    expect(text(call('uuid.parse', 'urn:uuid:000003e8-48b9-21ee-b200-325096b39f47'))).toContain('"time":1693566990121469600');
  });
  it('other forms and invalid input', () => {
    expect(call('uuid.parse', '{00000000-0000-4000-8000-000000000000}')).toEqual({ variant: 'RFC4122', version: 4 });
    expect(call('uuid.parse', '6bea8ef2d3d33cd184e09bab06a52ece')).toEqual({ variant: 'RFC4122', version: 3 });
    expect(call('uuid.parse', 'not-a-uuid')).toBeUndefined();
    expect(call('uuid.parse', 123)).toBeUndefined();
  });
  it('rfc4122 is stable per key within one evaluation, fresh afterwards', async () => {
    const a = call('uuid.rfc4122', 'k');
    expect(call('uuid.rfc4122', 'k')).toBe(a);
    expect(call('uuid.rfc4122', 'other')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await Promise.resolve();
    expect(call('uuid.rfc4122', 'k')).not.toBe(a);
  });
});
