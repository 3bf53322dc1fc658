// The `bastion policy` commands, run in-process through the real commander program, the real
// compiler and the SDK. Output shapes follow OPA's documented formats (cmd/eval, tester/reporter,
// cover/cover.go).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bastion } from '../../cli/testing/run-cli.js';
import { readBundle } from '../bundle.js';
import { PolicyEngine } from '../engine.js';
import { compilerReady } from '../testing/compiler-ready.js';
import { goDuration } from './common.js';

const ready = await compilerReady();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-cli-'));
  await mkdir(join(dir, 'ok'));
  await writeFile(
    join(dir, 'ok', 'p.rego'),
    'package p\n\nallow if input.user == "bob"\n\nroles := {"bob": ["admin"], "eve": []}\n\nunused if input.never == 1\n',
  );
  await writeFile(
    join(dir, 'ok', 'p_test.rego'),
    [
      'package p_test',
      '',
      'import data.p',
      '',
      'test_bob if p.allow with input as {"user": "bob"}',
      '',
      'test_eve_denied if not p.allow with input as {"user": "eve"}',
      '',
      'test_wrong if p.allow with input as {"user": "eve"}',
      '',
      'todo_test_later if false',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'ok', 'data.json'), '{"limits": {"max": 3}}');
  await writeFile(join(dir, 'input.json'), '{"user": "bob"}');
  await mkdir(join(dir, 'bad'));
  await writeFile(join(dir, 'bad', 'syntax.rego'), 'package bad\n\nallow if {\n  input.x ==\n');
  await writeFile(join(dir, 'unsafe.rego'), 'package unsafe\n\nallow if x == 1\n');
  await writeFile(join(dir, 'conflict.rego'), 'package conflict\n\np := 1\n\np(x) := x\n');
  await writeFile(join(dir, 'missing_import.rego'), 'package mi\n\nallow if lib.check(input)\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('goDuration (what opa test prints)', () => {
  it('formats like Go time.Duration', () => {
    expect(goDuration(0)).toBe('0s');
    expect(goDuration(999)).toBe('999ns');
    expect(goDuration(38_287)).toBe('38.287µs');
    expect(goDuration(11_510_487)).toBe('11.510487ms');
    expect(goDuration(1_500_000_000)).toBe('1.5s');
  });
});

describe.skipIf(!ready)('bastion policy (needs the compiler)', () => {
  it('test: per-test lines and summary like opa test, exit 2 on a failing test', async () => {
    const r = await bastion('policy', 'test', join(dir, 'ok'), '-v');
    expect(r.code).toBe(2);
    const file = join(dir, 'ok', 'p_test.rego');
    expect(r.stdout).toContain(`${file}:5:\ndata.p_test.test_bob: PASS (`);
    expect(r.stdout).toMatch(/data\.p_test\.test_wrong: FAIL \([0-9.]+(ns|µs|ms|s)\)/);
    expect(r.stdout).toContain('data.p_test.todo_test_later: SKIPPED\n');
    expect(r.stdout).toContain('-'.repeat(80) + '\nPASS: 2/4\nFAIL: 1/4\nSKIPPED: 1/4\n');
  });

  it('test: without -v only non-passing tests are listed; --run filters by full name', async () => {
    const quiet = await bastion('policy', 'test', join(dir, 'ok'));
    expect(quiet.stdout).not.toContain('test_bob');
    expect(quiet.stdout).toContain('test_wrong: FAIL');
    const only = await bastion('policy', 'test', join(dir, 'ok'), '--run', 'data\\.p_test\\.test_(bob|eve)');
    expect(only).toMatchObject({ code: 0, stdout: 'PASS: 2/2\n' });
  });

  it('test --format json: OPA result objects', async () => {
    const r = await bastion('policy', 'test', join(dir, 'ok'), '--format', 'json');
    const results = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(results).toHaveLength(4);
    const wrong = results.find((x) => x.name === 'test_wrong')!;
    expect(wrong).toMatchObject({ location: { file: join(dir, 'ok', 'p_test.rego'), row: 9, col: 1 }, package: 'data.p_test', fail: true });
    expect(typeof wrong.duration).toBe('number');
    expect(results.find((x) => x.name === 'test_bob')!.fail).toBeUndefined();
  });

  it('test: a compile or load error exits 1 with a precise location', async () => {
    const r = await bastion('policy', 'test', join(dir, 'bad'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^1 error occurred: ${join(dir, 'bad', 'syntax.rego').replace(/[.]/g, '\\.')}:\\d+:\\d+: rego_parse_error: `));
    expect((await bastion('policy', 'test', join(dir, 'nope'))).code).toBe(1);
  });

  it('test --coverage: OPA coverage JSON with covered and not covered rows', async () => {
    const r = await bastion('policy', 'test', join(dir, 'ok'), '--coverage', '--run', 'test_(bob|eve)');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { files: Record<string, { covered?: unknown[]; not_covered?: Array<{ start: { row: number }; end: { row: number } }>; coverage?: number }>; coverage: number; covered_lines: number; not_covered_lines: number };
    const p = report.files[join(dir, 'ok', 'p.rego')]!;
    expect(p.covered).toEqual([{ start: { row: 3 }, end: { row: 3 } }]);
    expect(p.not_covered).toEqual([{ start: { row: 5 }, end: { row: 5 } }, { start: { row: 7 }, end: { row: 7 } }]);
    expect(p.coverage).toBeCloseTo(100 / 3, 5);
    expect(report.not_covered_lines).toBeGreaterThanOrEqual(2);
    expect(report.coverage).toBeLessThan(100);
    const t = await bastion('policy', 'test', join(dir, 'ok'), '--coverage', '--run', 'test_(bob|eve)', '--threshold', '100', '-v');
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/^Code coverage threshold not met: got \d+\.\d\d instead of 100\.00\nLines not covered:\n\t/);
    expect(t.stderr).toContain(`\t${join(dir, 'ok', 'p.rego')}:5\n`);
  });

  it('check: file:line:col: code: message and exit 1 (syntax, unsafe var, conflict, missing import)', async () => {
    const cases: Array<[string, RegExp]> = [
      ['bad/syntax.rego', /syntax\.rego:\d+:\d+: rego_parse_error: /],
      ['unsafe.rego', /unsafe\.rego:3:\d+: rego_unsafe_var_error: var x is unsafe/],
      ['conflict.rego', /conflict\.rego:3:\d+: rego_type_error: conflicting rules data\.conflict\.p found/],
      ['missing_import.rego', /missing_import\.rego:3:\d+: rego_type_error: undefined function lib\.check/],
    ];
    for (const [file, msg] of cases) {
      const r = await bastion('policy', 'check', join(dir, file));
      expect(r.code, file).toBe(1);
      expect(r.stderr, file).toMatch(msg);
    }
    expect(await bastion('policy', 'check', join(dir, 'ok'), '--strict')).toMatchObject({ code: 0, stderr: '' });
    const json = await bastion('policy', 'check', join(dir, 'unsafe.rego'), '--format', 'json');
    expect(JSON.parse(json.stderr)).toMatchObject({ errors: [{ code: 'rego_unsafe_var_error', location: { file: join(dir, 'unsafe.rego'), row: 3 } }] });
  });

  it('eval: OPA result shape, bindings, undefined, --fail/--fail-defined', async () => {
    const r = await bastion('policy', 'eval', '-d', join(dir, 'ok'), '-i', join(dir, 'input.json'), 'data.p.allow');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ result: [{ expressions: [{ value: true, text: 'data.p.allow', location: { row: 1, col: 1 } }] }] });

    const b = await bastion('policy', 'eval', '-d', join(dir, 'ok'), 'some name; data.p.roles[name]; data.limits.max');
    const rows = (JSON.parse(b.stdout) as { result: Array<{ expressions: Array<{ value: unknown }>; bindings: Record<string, unknown> }> }).result;
    expect(rows.map((x) => x.bindings)).toEqual([{ name: 'bob' }, { name: 'eve' }]);
    expect(rows[0]!.expressions.map((e) => e.value)).toEqual([true, ['admin'], 3]);

    const u = await bastion('policy', 'eval', '-d', join(dir, 'ok'), 'data.p.allow', '--fail');
    expect(u).toMatchObject({ code: 1, stdout: '{}\n' });
    expect((await bastion('policy', 'eval', '-d', join(dir, 'ok'), 'data.p.roles', '--fail-defined')).code).toBe(1);
    expect((await bastion('policy', 'eval', 'false')).stdout).toContain('"value": false');
    expect((await bastion('policy', 'eval', '1 == 2')).stdout).toBe('{}\n');
    const pretty = await bastion('policy', 'eval', '-f', 'pretty', '-d', join(dir, 'ok'), 'data.p.roles.bob');
    expect(pretty.stdout).toBe('[\n  "admin"\n]\n');
    const e = await bastion('policy', 'eval', 'x');
    expect(e.code).toBe(1);
    expect(JSON.parse(e.stdout)).toMatchObject({ errors: [{ code: 'rego_unsafe_var_error' }] });
  });

  it('build: an OPA bundle that the gateway engine loads and evaluates', async () => {
    const out = join(dir, 'bundle.tar.gz');
    const r = await bastion('policy', 'build', '-e', 'p/allow', '-r', 'v42', join(dir, 'ok'), '-o', out);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const bundle = await readBundle(await readFile(out));
    expect(bundle.manifest).toEqual({ revision: 'v42', roots: [''], wasm: [{ entrypoint: 'p/allow', module: '/policy.wasm' }], rego_version: 1 });
    expect(bundle.data).toEqual({ limits: { max: 3 } });
    expect(bundle.modules.map((m) => m.path.split('/').pop()).sort()).toEqual(['p.rego', 'p_test.rego']);
    const engine = new PolicyEngine({ source: { type: 'bundle', path: out }, entrypoint: 'p/allow' });
    expect(await engine.start()).toMatchObject({ ok: true, info: { revision: 'v42' } });
    const rs = engine.decide({ user: 'bob' });
    // p/allow is a boolean, not a decision document: the engine must refuse it (fail closed).
    expect(rs).toMatchObject({ decision: { allow: false, reject: { status: 500 } }, failure: { kind: 'invalid' } });
    expect(await bastion('policy', 'build', join(dir, 'ok'), '-o', out)).toMatchObject({ code: 1, stdout: 'error: wasm compilation requires at least one entrypoint\n' });
    expect((await bastion('policy', 'build', '-e', 'x/y', join(dir, 'unsafe.rego'), '-o', out)).code).toBe(1);
  });

  it('builtin errors are errors by default, as in the gateway; --no-strict-builtin-errors gives OPA\'s undefined', async () => {
    const pdir = join(dir, 'builtin-errors');
    await mkdir(pdir, { recursive: true });
    // A deny rule whose check fails on bad input: non-strict, the failing call is undefined, so the
    // deny silently drops out; strict (the default here), the evaluation is an error.
    await writeFile(join(pdir, 'p.rego'), 'package be\n\ndeny contains "bad user" if startswith(input.user, "evil")\n');
    await writeFile(join(pdir, 'p_test.rego'), 'package be_test\n\nimport data.be\n\ntest_number_user_denied if count(be.deny) == 1 with input as {"user": 42}\n');
    const strict = await bastion('policy', 'test', pdir);
    expect(strict.code).toBe(2);
    expect(strict.stdout).toMatch(/ERROR/);
    expect(strict.stdout).toMatch(/eval_type_error: startswith: operand 1 must be string but got number/);
    const lax = await bastion('policy', 'test', pdir, '--no-strict-builtin-errors');
    expect(lax.code).toBe(2);
    expect(lax.stdout).toMatch(/FAIL/);
    expect(lax.stdout).not.toMatch(/eval_type_error/);
    const ev = await bastion('policy', 'eval', '-d', pdir, 'startswith(1, "a")');
    expect(ev.code).toBe(1);
  });
});
