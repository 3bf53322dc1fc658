// `bastion policy test` against OPA's own tester cases (v1/tester/runner_test.go TestRun and
// TestRunWithFilterRegex) and cmd/test.go's exit codes and flags, in-process through the real
// commander program, compiler and SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bastion } from '../../cli/testing/run-cli.js';
import { compilerReady } from '../testing/compiler-ready.js';
import { runTests } from './test.js';
import { subResults } from './tester/results.js';
import { benchmarkString, prettyReport } from './tester/report.js';

const ready = await compilerReady();
let dir: string;

// OPA's TestRun fixture, in Rego v1.
const FILES: Record<string, string> = {
  'opa/a.rego': 'package foo\n\nallow if { true }\n',
  'opa/a_test.rego': [
    'package foo',
    '',
    'test_pass if { allow }',
    'non_test if { true }',
    'test_fail if { not allow }',
    'test_fail_non_bool = 100',
    'test_err if { conflict }',
    'conflict = true',
    'conflict = false',
    'test_duplicate if { false }',
    'test_duplicate if { true }',
    'test_duplicate if { true }',
    'todo_test_skip if { true }',
    '',
  ].join('\n'),
  'opa/b_test.rego': 'package bar\n\ntest_duplicate if { true }\n',
  'opa/c_test.rego': 'package baz\n\na.b.test_duplicate if { false }\na.b.test_duplicate if { true }\na.b.test_duplicate if { true }\n',
  'opa/d_test.rego': 'package test\n\na[0] := 1\ntest_pass if { true }\n',
  'opa/e_test.rego': [
    'package qux',
    '',
    'test_cases_pass[x] if { some x in ["foo", "bar"] }',
    'test_cases_fail[x] if { some x in ["foo", "bar"]; false }',
    'test_cases_partial_fail[x] if { some x in ["foo", "bar", "baz"]; x != "bar" }',
    'test_cases_nested[x][y] if { some x in ["foo", "bar"]; some y in ["do", "re", "mi"]; not f(x, y) }',
    'f(x, y) if { x == "foo"; y == "re" }',
    '',
  ].join('\n'),
  'pass/p.rego': 'package p\n\nallow if input.user == "bob"\n',
  'pass/p_test.rego': 'package p_test\n\nimport data.p\n\ntest_bob if p.allow with input as {"user": "bob"}\n\ntest_yes := "yes"\n',
  'skip/s_test.rego': 'package s\n\ntest_ok if true\n\ntodo_test_later if false\n\ntodo_not_a_test if false\n',
  'table/t_test.rego': [
    'package t',
    '',
    'cases := [{"note": "one", "in": 1, "out": 2}, {"note": "two", "in": 2, "out": 5}]',
    '',
    'test_double[tc.note] if {',
    '\tsome tc in cases',
    '\ttc.in * 2 == tc.out',
    '}',
    '',
  ].join('\n'),
  'print/p_test.rego': [
    'package pr',
    '',
    'p := 1',
    '',
    'test_ok if {',
    '\tprint("ok sees", p, input.nope, {2, 1})',
    '\tp == 1',
    '}',
    '',
    'test_bad if {',
    '\tx := p + 1',
    '\tprint("x is", x)',
    '\tx == 3',
    '}',
    '',
  ].join('\n'),
  'explain/e_test.rego': [
    'package ex',
    '',
    'p := 1',
    '',
    'q(v) if v > 5',
    '',
    'test_bad if {',
    '\tx := p + 1',
    '\ttrace("about to compare")',
    '\ty := 3',
    '\tx == y',
    '}',
    '',
    'test_fn if q(2)',
    '',
  ].join('\n'),
  'slow/s_test.rego': [
    'package slow',
    '',
    'test_slow if count([1 | some i in numbers.range(1, 4000); some j in numbers.range(1, 4000); i * j == -1]) == 0',
    '',
    'test_fast if true',
    '',
  ].join('\n'),
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-test-'));
  for (const [f, src] of Object.entries(FILES)) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), src);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sub-results (OPA subResults and SubResultMap.Update)', () => {
  it('keys of the value, then test cases seen but absent from the value, fail', () => {
    expect(subResults({ foo: true, baz: true }, [['foo'], ['bar'], ['baz']])).toEqual({
      fail: true,
      results: { bar: { name: 'bar', fail: true }, baz: { name: 'baz' }, foo: { name: 'foo' } },
    });
    const nested = subResults({ foo: { do: true } }, [['foo', 'do'], ['foo', 're']]);
    expect(nested.results.foo).toEqual({ sub_results: { do: { name: 'do' }, re: { name: 're', fail: true } }, name: 'foo', fail: true });
    // a non-boolean case value fails; non-string case names are JSON as Go writes it
    expect(subResults({ a: 1 }).results.a).toEqual({ name: 'a', fail: true });
    expect(subResults({}, [[{ b: 1, a: '<' }]]).results).toHaveProperty(['{"a":"\\u003c","b":1}']);
  });

  it('Go benchmark figures: iterations and ns/op in testing.BenchmarkResult.String() layout', () => {
    expect(benchmarkString({ N: 1000, T: 1_234_000, Bytes: 0, MemAllocs: 0, MemBytes: 0, Extra: null })).toBe('    1000\t      1234 ns/op');
    expect(benchmarkString({ N: 3, T: 150, Bytes: 0, MemAllocs: 0, MemBytes: 0, Extra: null })).toBe('       3\t        50.00 ns/op');
    expect(prettyReport([{ location: { file: 'f', row: 1, col: 1 }, package: 'data.a', name: 'test_b', duration: 1, benchmark_result: { N: 2, T: 4, Bytes: 0, MemAllocs: 0, MemBytes: 0, Extra: null } }], { benchmark: true, goBench: true })).toBe(
      `BenchmarkDataATestB\t       2\t         2.000 ns/op\n${'-'.repeat(80)}\nPASS: 1/1\n`,
    );
  });
});

describe.skipIf(!ready)('bastion policy test (needs the compiler)', () => {
  it("OPA's TestRun fixture: verdicts, duplicates as #01, todo_test_ skipped, table tests with sub-results", async () => {
    const run = await runTests({ paths: [join(dir, 'opa')] });
    expect(run.errors).toEqual([]);
    const got = Object.fromEntries(run.results.map((r) => [`${r.package} ${r.name}`, r.error ? 'error' : r.skip ? 'skip' : r.fail ? 'fail' : 'pass']));
    expect(got).toEqual({
      'data.foo test_pass': 'pass',
      'data.foo test_fail': 'fail',
      'data.foo test_fail_non_bool': 'fail',
      'data.foo test_err': 'error',
      'data.foo test_duplicate': 'fail',
      'data.foo test_duplicate#01': 'pass',
      'data.foo test_duplicate#02': 'pass',
      'data.foo todo_test_skip': 'skip',
      'data.bar test_duplicate': 'pass',
      'data.baz a.b.test_duplicate': 'fail',
      'data.baz a.b["test_duplicate#01"]': 'pass',
      'data.baz a.b["test_duplicate#02"]': 'pass',
      'data.test test_pass': 'pass',
      'data.qux test_cases_pass': 'pass',
      'data.qux test_cases_fail': 'fail',
      'data.qux test_cases_partial_fail': 'fail',
      'data.qux test_cases_nested': 'fail',
    });
    const byName = (n: string) => run.results.find((r) => r.name === n)!;
    // as OPA's completeDocConflictErr(rule.Location): the rule that produced the second value
    expect(byName('test_err').error).toEqual({
      code: 'eval_conflict_error',
      message: 'complete rules must not produce multiple outputs',
      location: { file: join(dir, 'opa', 'a_test.rego'), row: 9, col: 1 },
    });
    expect(byName('test_cases_fail').sub_results).toEqual({ bar: { name: 'bar', fail: true }, foo: { name: 'foo', fail: true } });
    expect(byName('test_cases_partial_fail').sub_results).toEqual({ bar: { name: 'bar', fail: true }, baz: { name: 'baz' }, foo: { name: 'foo' } });
    expect(byName('test_cases_nested').sub_results).toEqual({
      bar: { sub_results: { do: { name: 'do' }, mi: { name: 'mi' }, re: { name: 're' } }, name: 'bar' },
      foo: { sub_results: { do: { name: 'do' }, mi: { name: 'mi' }, re: { name: 're', fail: true } }, name: 'foo', fail: true },
    });
  });

  it('pretty output: sub-results under their test, leaves counted, FAILURES with -v; exit 2', async () => {
    const r = await bastion('policy', 'test', join(dir, 'opa'), '--run', 'qux');
    expect(r.code).toBe(2);
    const e = join(dir, 'opa', 'e_test.rego');
    const lines = r.stdout.replace(/ \([0-9.]+(ns|µs|ms|s)\)/g, ' (D)').split('\n');
    expect(lines).toEqual([
      `${e}:4:`,
      'data.qux.test_cases_fail: FAIL (D)',
      '  bar: FAIL',
      '  foo: FAIL',
      `${e}:5:`,
      'data.qux.test_cases_partial_fail: FAIL (D)',
      '  bar: FAIL',
      `${e}:6:`,
      'data.qux.test_cases_nested: FAIL (D)',
      '  foo: FAIL',
      '    re: FAIL',
      '-'.repeat(80),
      'PASS: 9/13',
      'FAIL: 4/13',
      '',
    ]);
  });

  it('pretty output, verbose: every case and the FAILURES section with the failing lineage', async () => {
    const r = await bastion('policy', 'test', join(dir, 'opa'), '--run', 'test_cases_(nested|pass)', '-v');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/data\.qux\.test_cases_pass: PASS \(.+\)\n {2}bar: PASS\n {2}foo: PASS\n/);
    // the trace of all cases, then the failing lineage
    expect(r.stdout).toMatch(/\n-{80}\nFAILURES\n-{80}\ndata\.qux\.test_cases_nested: FAIL \(.+\)\n\n {2}query:1 +Enter data\.qux\.test_cases_nested = _\n( {2}.+\n)+\n {2}foo: FAIL\n {4}re: FAIL\n\n-{80}\nPASS: 7\/8\nFAIL: 1\/8\n$/);
    expect(r.stdout).toMatch(/\| \| \| Fail y = "re"\n/);
  });

  it('a test passes only on `true`; --format json has OPA\'s result shape', async () => {
    const r = await bastion('policy', 'test', join(dir, 'pass'), '-f', 'json');
    expect(r.code).toBe(2);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((x) => Object.keys(x))).toEqual([
      ['location', 'package', 'name', 'duration'],
      ['location', 'package', 'name', 'duration', 'fail'],
    ]);
    expect(rows[1]).toMatchObject({ location: { file: join(dir, 'pass', 'p_test.rego'), row: 7, col: 1 }, package: 'data.p_test', name: 'test_yes', fail: true });
    const table = await bastion('policy', 'test', join(dir, 'table'), '-f', 'json');
    expect(JSON.parse(table.stdout)).toMatchObject([{ sub_results: { one: { name: 'one' }, two: { name: 'two', fail: true } }, name: 'test_double', fail: true }]);
  });

  it('print(): output under each test with -v (undefined operands as <undefined>), base64 `output` in JSON', async () => {
    const r = await bastion('policy', 'test', join(dir, 'print'), '-v');
    expect(r.code).toBe(2);
    const f = join(dir, 'print', 'p_test.rego');
    expect(r.stdout.replace(/ \([0-9.]+(ns|µs|ms|s)\)/g, ' (D)')).toContain(
      `${f}:5:\ndata.pr.test_ok: PASS (D)\n\n  ok sees 1 <undefined> {1, 2}\n\n${f}:10:\ndata.pr.test_bad: FAIL (D)\n\n  x is 2\n\n`,
    );
    // without -v only failing tests are shown, with their output
    const quiet = await bastion('policy', 'test', join(dir, 'print'));
    expect(quiet.stdout).not.toContain('ok sees');
    expect(quiet.stdout).toContain('\n  x is 2\n');
    const json = JSON.parse((await bastion('policy', 'test', join(dir, 'print'), '-f', 'json')).stdout) as Array<Record<string, unknown>>;
    expect(Object.keys(json[1]!)).toEqual(['location', 'package', 'name', 'output', 'duration', 'fail']);
    expect(Buffer.from(json[1]!.output as string, 'base64').toString()).toBe('x is 2\n');
  });

  it("-v: the failure's trace (notes and fails with the rules leading to them), as OPA's lineage", async () => {
    const r = await bastion('policy', 'test', join(dir, 'explain'), '-v', '--run', 'test_bad');
    expect(r.code).toBe(2);
    const f = join(dir, 'explain', 'e_test.rego');
    const w = `${f}:11`.length + 4;
    const row = (loc: string, text: string) => `  ${loc.padEnd(w)} ${text}`;
    const section = r.stdout.slice(r.stdout.indexOf('FAILURES'));
    expect(section.replace(/ \([0-9.]+(ns|µs|ms|s)\)/g, '')).toBe(
      [
        'FAILURES',
        '-'.repeat(80),
        'data.ex.test_bad: FAIL',
        '',
        row('query:1', 'Enter data.ex.test_bad = _'),
        row(`${f}:7`, '| Enter data.ex.test_bad'),
        row(`${f}:9`, '| | Note "about to compare"'),
        row(`${f}:11`, '| | Fail x = y'),
        row('query:1', '| Fail data.ex.test_bad = _'),
        '',
        '-'.repeat(80),
        'FAIL: 1/1',
        '',
      ].join('\n'),
    );
  });

  it('--explain notes|full picks the events (and turns -v on); --var-values shows the failing expression with its values', async () => {
    const notes = await bastion('policy', 'test', join(dir, 'explain'), '--explain', 'notes', '--run', 'test_bad');
    expect(notes.stdout).toContain('| | Note "about to compare"\n\n');
    expect(notes.stdout).not.toContain('Fail x = y');
    const full = await bastion('policy', 'test', join(dir, 'explain'), '--explain', 'full', '--run', 'test_fn');
    expect(full.stdout).toMatch(/\| \| Enter data\.ex\.q\n.*\| \| \| Eval gt\(v, 5\)\n.*\| \| \| Fail gt\(v, 5\)\n.*\| \| Fail data\.ex\.q\(2\)\n/);
    const vv = await bastion('policy', 'test', join(dir, 'explain'), '--var-values', '--run', 'test_bad');
    expect(vv.stdout).not.toContain('Enter data.ex'); // no -v: no trace, only the failure line
    expect(vv.stdout).toContain(`FAILURES\n${'-'.repeat(80)}\n`);
    expect(vv.stdout).toContain(`\n\n  ${join(dir, 'explain', 'e_test.rego')}:11:\n     x == y\n     |    |\n     |    3\n     2\n\n`);
  });

  it('skipped tests exit 2 unless -z; todo_ without test_ is no test at all', async () => {
    const r = await bastion('policy', 'test', join(dir, 'skip'), '-v');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('data.s.todo_test_later: SKIPPED\n');
    expect(r.stdout).not.toContain('todo_not_a_test');
    expect(r.stdout).toMatch(/PASS: 1\/2\nSKIPPED: 1\/2\n$/);
    expect((await bastion('policy', 'test', join(dir, 'skip'), '-z')).code).toBe(0);
    expect((await bastion('policy', 'test', join(dir, 'skip'), '--exit-zero-on-skipped', '--run', 'test_ok')).code).toBe(0);
  });

  it('no tests: exit 0 and nothing printed, or --fail-on-empty: exit 1; --ignore; --count', async () => {
    expect(await bastion('policy', 'test', join(dir, 'skip'), '--run', '^$')).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect((await bastion('policy', 'test', join(dir, 'skip'), '--run', '^$', '-f', 'json')).stdout).toBe('[]\n');
    expect(await bastion('policy', 'test', join(dir, 'skip'), '--run', '^$', '--fail-on-empty')).toMatchObject({ code: 1, stderr: 'no tests were run\n' });
    // --ignore takes base-name globs, comma-separated or repeated
    const ignored = await bastion('policy', 'test', join(dir, 'pass'), '--ignore', 'p.rego,*.json', '--ignore', 'x', '--run', 'bob');
    expect(ignored.stdout).toContain('data.p_test.test_bob: FAIL'); // data.p is not loaded
    expect((await bastion('policy', 'test', join(dir, 'pass'), '--ignore', 'x,*.json', '--run', 'bob')).code).toBe(0);
    const counted = await bastion('policy', 'test', join(dir, 'skip'), '-z', '--count', '3');
    expect(counted.stdout.match(/PASS: 1\/2/g)).toHaveLength(3);
  });

  it('--threshold turns coverage on: below it exit 2; a failing test under coverage exits 1', async () => {
    const t = await bastion('policy', 'test', join(dir, 'pass'), '--run', 'test_bob', '--threshold', '50');
    expect(t.code).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ covered_lines: 2, not_covered_lines: 1 }); // test_yes did not run
    const missed = await bastion('policy', 'test', join(dir, 'opa'), '--run', 'test_pass', '--threshold', '99');
    expect(missed.code).toBe(2);
    expect(missed.stderr).toMatch(/^Code coverage threshold not met: got \d+\.\d\d instead of 99\.00\n$/);
    const failing = await bastion('policy', 'test', join(dir, 'pass'), '--coverage');
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('data.p_test.test_yes: FAIL');
    expect(failing.stderr).toMatch(/^data\.p_test\.test_yes: FAIL \(.+\)\n\n$/);
    expect((await bastion('policy', 'test', join(dir, 'pass'), '--threshold', '101')).stderr).toBe('Code coverage threshold must be between 0 and 100\n');
  });

  it('--timeout cancels a test that runs over (eval_cancel_error) and the next test still runs', async () => {
    const r = await bastion('policy', 'test', join(dir, 'slow'), '--timeout', '150ms', '-v');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/data\.slow\.test_slow: ERROR \(.+\)\n {2}eval_cancel_error: caller cancelled query execution\n/);
    expect(r.stdout).toMatch(/data\.slow\.test_fast: PASS/);
    expect((await bastion('policy', 'test', join(dir, 'slow'), '--timeout', '5x')).stderr).toMatch(/invalid argument "5x" for "--timeout" flag/);
  });

  it('--bench: N iterations and ns/op per passing test (OPA pretty and JSON)', async () => {
    const run = await runTests({ paths: [join(dir, 'pass')], run: 'test_bob', bench: true, benchNs: 20e6 });
    const b = run.results[0]!.benchmark_result!;
    expect(b.N).toBeGreaterThan(1);
    expect(b.T).toBeGreaterThanOrEqual(20e6);
    expect(await bastion('policy', 'test', join(dir, 'pass'), '--bench', '--coverage')).toMatchObject({ code: 1, stderr: 'coverage reporting is not supported when benchmarking tests\n' });
    expect(await bastion('policy', 'test', join(dir, 'pass'), '-f', 'gobench')).toMatchObject({ code: 0, stderr: 'cannot use output format gobench without running benchmarks (--bench)\n' });
  });
});
