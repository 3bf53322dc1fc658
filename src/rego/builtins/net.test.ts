import { describe, expect, it } from 'vitest';
import { conformanceCases } from './testing/suite.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);

describe('net.* conformance (direct calls)', () => {
  const n = conformanceCases(['netcidrcontains', 'netcidrcontainsmatches', 'netcidrexpand', 'netcidrintersects', 'netcidrisvalid', 'netcidrmerge', 'netlookupipaddr'], {
    'netcidrcontainsmatches/sets of tuples': 'direct calls pass sets as arrays; policies get element keys because the planner tags set arguments (planner/host-calls.test.ts)',
  });
  it('finds the direct-call cases', () => expect(n).toBeGreaterThanOrEqual(40));
});

describe('net.cidr_* edge cases', () => {
  it('parses like Go: no leading zeros, no zones, prefix within family', () => {
    expect(call('net.cidr_is_valid', '010.0.0.0/8')).toBe(false);
    expect(call('net.cidr_is_valid', 'fe80::1%eth0/64')).toBe(false);
    expect(call('net.cidr_is_valid', '10.0.0.0/33')).toBe(false);
    expect(call('net.cidr_is_valid', '::/128')).toBe(true);
    expect(call('net.cidr_is_valid', 5)).toBe(false);
  });
  it('contains: IPv4-mapped IPv6 counts as IPv4', () => {
    expect(call('net.cidr_contains', '10.0.0.0/8', '::ffff:10.1.2.3')).toBe(true);
    expect(call('net.cidr_contains', '::/0', '10.1.2.3')).toBe(false);
  });
  it('errors are OPA\'s', () => {
    expect(() => call('net.cidr_contains', 'nope', '1.2.3.4')).toThrow('eval_builtin_error: net.cidr_contains: invalid CIDR address: nope');
    expect(() => call('net.cidr_contains', '10.0.0.0/8', 'nope')).toThrow('not a valid textual representation of an IP address or CIDR: nope');
    expect(() => call('net.cidr_contains', 1, 'x')).toThrow('eval_type_error: net.cidr_contains: operand 1 must be string but got number');
  });
  it('expand prints IPv6 like Go', () => {
    expect(call('net.cidr_expand', '2001:db8::/127')).toEqual(['2001:db8::', '2001:db8::1']);
    expect(() => call('net.cidr_expand', '10.0.0.0/8')).toThrow(/too many addresses/);
  });
  it('merge keeps unmerged networks as written and reports IPv6 without prefix', () => {
    expect(call('net.cidr_merge', ['10.0.0.0/24', '10.0.1.0/24', '2001:db8::/33', '2001:db8:8000::/33'])).toEqual(['10.0.0.0/23', '2001:db8::/32']);
    expect(() => call('net.cidr_merge', ['::1'])).toThrow('eval_builtin_error: net.cidr_merge: IPv6 invalid: needs prefix length');
  });
  it('lookup_ip_addr resolves literals and localhost synchronously', () => {
    expect(call('net.lookup_ip_addr', '2001:0db8:0:0::1')).toEqual(['2001:db8::1']);
    expect(call('net.lookup_ip_addr', 'localhost')).toContain('127.0.0.1');
  });
});
