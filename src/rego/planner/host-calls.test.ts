// How the planner bridges what JSON loses at the SDK's host-builtin boundary: set results, set
// arguments (tagged), results that echo an argument, and SDK-shadowed names (aliases).
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { describe, expect, it } from 'vitest';
import { createHostBuiltins } from '../builtins/host.js';
import { compile } from '../index.js';
import { parseModule, parseQuery } from '../parser/index.js';
import { compileModules } from '../compiler/index.js';
import type { Stmt } from '../ir/types.js';
import { planPolicy } from './planner.js';

async function evalQuery(query: string, source = 'package t'): Promise<unknown> {
  const r = await compile({ modules: [{ file: 't.rego', source }], queries: [{ name: 'q', query }], strictBuiltinErrors: true });
  expect(r.errors).toEqual([]);
  const policy = await loadPolicy(r.wasm!, undefined, createHostBuiltins() as never);
  return policy.evaluate({}, 'q');
}

function planCalls(query: string): { calls: string[]; kinds: Set<string>; declared: string[] } {
  const m = parseModule('package t', 't.rego').module!;
  const c = compileModules({ modules: [{ file: 't.rego', module: m }], queries: [{ name: 'q', body: parseQuery(query).body! }] });
  expect(c.errors).toEqual([]);
  const ir = planPolicy(c.policy!);
  const calls: string[] = [];
  const kinds = new Set<string>();
  const walk = (stmts: Stmt[]) => {
    for (const s of stmts) {
      kinds.add(s.type);
      if (s.type === 'CallStmt') calls.push(s.func);
      for (const v of Object.values(s)) {
        if (v && typeof v === 'object' && 'stmts' in v) walk((v as { stmts: Stmt[] }).stmts);
        if (Array.isArray(v)) for (const b of v) if (b && typeof b === 'object' && 'stmts' in b) walk(b.stmts);
      }
    }
  };
  for (const p of ir.plans) for (const b of p.blocks) walk(b.stmts);
  return { calls, kinds, declared: ir.static.builtinFuncs.map((f) => f.name) };
}

describe('host builtin results that OPA gives as sets', () => {
  it('net.cidr_merge / net.cidr_expand results compare equal to set literals', async () => {
    expect(await evalQuery('x := net.cidr_merge(["10.0.0.0/24", "10.0.1.0/24"]) == {"10.0.0.0/23"}')).toEqual([{ x: true }]);
    expect(await evalQuery('s := net.cidr_expand("10.0.0.0/31"); x := [is_set(s), count(s & {"10.0.0.1"})]')).toEqual([{ s: ['10.0.0.0', '10.0.0.1'], x: [true, 1] }]);
  });
  it('the plan scans the JSON array into a new set', () => {
    const { kinds } = planCalls('x := net.cidr_merge(["10.0.0.0/24"])');
    expect(kinds.has('MakeSetStmt')).toBe(true);
    expect(kinds.has('ScanStmt')).toBe(true);
  });
});

describe('set arguments of net.cidr_contains_matches are tagged', () => {
  it('a set keys matches by element, an array by index (OPA semantics)', async () => {
    const q = (coll: string) => `x := net.cidr_contains_matches(${coll}, {["1.1.1.1", "baz"]})`;
    expect(await evalQuery(q('{["1.1.1.0/24", "bar"]}'))).toEqual([{ x: [[['1.1.1.0/24', 'bar'], ['1.1.1.1', 'baz']]] }]);
    expect(await evalQuery(q('[["1.1.1.0/24", "bar"]]'))).toEqual([{ x: [[0, ['1.1.1.1', 'baz']]] }]);
  });
  it('the host unwraps tags; untagged callers still work', () => {
    const b = createHostBuiltins();
    expect(b['internal.bastion.typed.net.cidr_contains_matches'](['set', [['1.1.1.0/24', 'a']]], ['value', '1.1.1.1'])).toEqual([[['1.1.1.0/24', 'a'], '1.1.1.1']]);
    expect(b['internal.bastion.typed.net.cidr_contains_matches'](['value', [['1.1.1.0/24', 'a']]], '1.1.1.1')).toEqual([[0, '1.1.1.1']]);
  });
  it('the call goes to the private name with IsSetStmt tests', () => {
    const { calls, kinds, declared } = planCalls('x := net.cidr_contains_matches({"10.0.0.0/8"}, "10.1.1.1")');
    expect(calls).toContain('internal.bastion.typed.net.cidr_contains_matches');
    expect(declared).toContain('internal.bastion.typed.net.cidr_contains_matches');
    expect(declared).not.toContain('net.cidr_contains_matches');
    expect(kinds.has('IsSetStmt')).toBe(true);
  });
});

describe('providers.aws.sign_req keeps the request as the policy holds it', () => {
  const cfg = '{"aws_access_key": "AK", "aws_secret_access_key": "SK", "aws_service": "s3", "aws_region": "us-east-1"}';
  it('a body holding a set comes back as a set, headers come from the host', async () => {
    const got = (await evalQuery(
      `r := providers.aws.sign_req({"method": "get", "url": "http://example.com", "body": {"s": {2, 1}}, "extra": [1]}, ${cfg}, 1451311705000000000)
       x := [is_set(r.body.s), r.body.s == {1, 2}, r.extra, r.headers.host, startswith(r.headers.Authorization, "AWS4-HMAC-SHA256 ")]`,
    )) as Array<{ x: unknown[] }>;
    expect(got[0].x).toEqual([true, true, [1], 'example.com', true]);
  });
});

describe('builtins the SDK shadows are called by their private alias', () => {
  it('yaml.unmarshal is declared and called as internal.bastion.yaml.unmarshal', () => {
    const { calls, declared } = planCalls('x := yaml.unmarshal("a: 1")');
    expect(calls).toEqual(['internal.bastion.yaml.unmarshal']);
    expect(declared).toEqual(['internal.bastion.yaml.unmarshal']);
  });
});

describe('int64 nanosecond arguments arrive exact (json.marshal text)', () => {
  it('time.format and time.diff see every nanosecond digit beyond 2^53', async () => {
    expect(await evalQuery('x := time.format(1670006453141828752)')).toEqual([{ x: '2022-12-02T18:40:53.141828752Z' }]);
    expect(await evalQuery('x := time.format([1670006453141828753, "Asia/Kolkata"])')).toEqual([{ x: '2022-12-03T00:10:53.141828753+05:30' }]);
    expect(await evalQuery('x := time.clock(1670006453141828752)')).toEqual([{ x: [18, 40, 53] }]);
  });
  it('providers.aws.sign_req rejects a timestamp whose text is not an integer, as OPA', async () => {
    const cfg = '{"aws_access_key": "AK", "aws_secret_access_key": "SK", "aws_service": "s3", "aws_region": "us-east-1"}';
    await expect(evalQuery(`x := providers.aws.sign_req({"method": "get", "url": "http://e.test"}, ${cfg}, -1e9)`)).rejects.toThrow(
      'eval_type_error: providers.aws.sign_req: operand 3 could not convert time_ns value into a unix timestamp',
    );
    const got = (await evalQuery(`x := providers.aws.sign_req({"method": "get", "url": "http://e.test"}, ${cfg}, -1000000000)`)) as Array<{ x: { headers: Record<string, string> } }>;
    expect(got[0].x.headers['x-amz-date']).toBe('19691231T235959Z');
  });
  it('the plan marshals the argument with json.marshal and calls the private name', () => {
    const { calls } = planCalls('x := time.format(1)');
    expect(calls).toEqual(['json.marshal', 'internal.bastion.exact.time.format']);
  });
});
