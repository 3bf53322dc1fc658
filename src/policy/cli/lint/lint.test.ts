// `bastion policy lint`: each rule finds its mistake and leaves correct code alone; Regal's
// report shapes (pretty table, JSON) and exit codes (3 on errors, 1 when it cannot lint).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bastion } from '../../../cli/testing/run-cli.js';
import { lintPaths, prettyLintReport } from './lint.js';

let dir: string;
const FILES: Record<string, string> = {
  'bad/p.rego': [
    'package p', // 1
    '',
    'import data.lib.missing', // 3: unresolved-import + unused-import
    'import data.q.helpers', // 4: unused-import
    'import data.config', // 5
    '',
    'default allow := false', // 7: impossible-default
    '',
    'allow := true',
    '',
    'deny contains "x" if input.bad',
    '',
    'decision if {',
    '\tnot deny', // 14: impossible-not
    '\tx := 1', // 15: unused-variable
    '\t1 == 1', // 16: constant-condition
    '\ttrue', // 17: constant-condition
    '\tdata.q.nothing', // 18: unresolved-reference
    '\tconfig.limits.max > 1',
    '\tconfig.nope', // 20: unresolved-reference
    '}',
    '',
  ].join('\n'),
  'bad/p_test.rego': 'package p_test\n\ntest_a if input.a\n\ntest_a if input.b\n',
  'bad/q.rego': 'package q\n\nhelpers := 1\n',
  'bad/data.json': '{"config": {"limits": {"max": 3}}}',
  // the same ideas written correctly: nothing to report
  'good/p.rego': [
    'package p',
    '',
    'import data.config',
    'import data.q.helpers',
    '',
    'default allow := false',
    '',
    'allow if input.user == "admin"',
    '',
    'deny contains "x" if input.bad',
    '',
    'default limit := 1',
    '',
    'limit := config.limits.max',
    '',
    'decision if {',
    '\tcount(deny) == 0',
    '\tnot allow',
    '\tx := helpers + 1',
    '\tx > limit',
    '\tsome deny in input.list',
    '\tnot deny',
    '\tdata.q.helpers',
    '}',
    '',
  ].join('\n'),
  'good/q.rego': 'package q\n\nhelpers := 1\n',
  'good/data.json': '{"config": {"limits": {"max": 3}}}',
  'broken/x.rego': 'package x\n\np if {\n',
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-lint-'));
  for (const [f, src] of Object.entries(FILES)) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), src);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('bastion policy lint', () => {
  it('finds each kind of mistake where it is', async () => {
    const { report } = await lintPaths({ paths: [join(dir, 'bad')] });
    const got = report!.violations.map((v) => `${v.location.file.split('/').pop()}:${v.location.row} ${v.category}/${v.title}`);
    expect(got).toEqual([
      'p.rego:3 imports/unresolved-import',
      'p.rego:3 imports/unused-import',
      'p.rego:4 imports/unused-import',
      'p.rego:7 bugs/impossible-default',
      'p.rego:14 bugs/impossible-not',
      'p.rego:15 bugs/unused-variable',
      'p.rego:16 bugs/constant-condition',
      'p.rego:17 bugs/constant-condition',
      'p.rego:18 imports/unresolved-reference',
      'p.rego:20 imports/unresolved-reference',
      'p_test.rego:5 testing/identically-named-tests',
    ]);
    expect(report!.summary).toEqual({ files_scanned: 3, files_failed: 2, rules_skipped: 0, num_violations: 11 });
  });

  it('leaves correct code alone, and the example policies are clean', async () => {
    expect((await lintPaths({ paths: [join(dir, 'good')] })).report!.violations).toEqual([]);
    const examples = fileURLToPath(new URL('../../../../policies/', import.meta.url));
    expect(await bastion('policy', 'lint', examples)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+ files linted\. No violations found\.\n$/) });
  });

  it("Regal's JSON report and pretty table; exit 3 on errors", async () => {
    const j = await bastion('policy', 'lint', '-f', 'json', join(dir, 'bad'), '--disable-category', 'imports', '-d', 'unused-variable');
    expect(j.code).toBe(3);
    const rep = JSON.parse(j.stdout) as { violations: Array<Record<string, unknown>>; summary: Record<string, number> };
    expect(Object.keys(rep)).toEqual(['violations', 'summary']);
    expect(rep.violations[0]).toEqual({
      title: 'impossible-default',
      description: 'Rule defined unconditionally alongside default definition',
      category: 'bugs',
      level: 'error',
      related_resources: [{ description: 'documentation', ref: 'https://www.openpolicyagent.org/projects/regal/rules/bugs/impossible-default' }],
      location: { end: { row: 7, col: 8 }, text: 'default allow := false', file: join(dir, 'bad', 'p.rego'), col: 1, row: 7 },
    });
    expect(rep.violations.map((v) => v.title)).not.toContain('unresolved-import');
    const p = prettyLintReport({ violations: [rep.violations[0] as never], summary: { files_scanned: 1, files_failed: 1, rules_skipped: 0, num_violations: 1 } });
    // Regal's table: keys padded to the longest key + 2, values to the longest value + 1
    const lines = p.split('\n').slice(0, 8);
    const url = 'https://www.openpolicyagent.org/projects/regal/rules/bugs/impossible-default';
    expect(lines[0]).toBe('Rule:'.padEnd(16) + 'impossible-default'.padEnd(url.length + 1));
    expect(lines[6]).toBe('Documentation:  ' + url + ' ');
    expect(new Set(lines.slice(0, 7).map((l) => l.length)).size).toBe(1);
    expect(p.endsWith('\n\n1 file linted. 1 violation found.\n')).toBe(true);
  });

  it('-D with -e runs only the rules asked for; a file that does not parse exits 1', async () => {
    const only = await bastion('policy', 'lint', '-D', '-e', 'identically-named-tests', join(dir, 'bad'));
    expect(only.code).toBe(3);
    expect(only.stdout.match(/^Rule: /gm)).toHaveLength(1);
    const broken = await bastion('policy', 'lint', join(dir, 'broken'));
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^error\(s\) encountered while linting: 1 error occurred: .*x\.rego:4:1: rego_parse_error/);
    expect((await bastion('policy', 'lint', '-e', 'no-such-rule', join(dir, 'good'))).code).toBe(1);
  });
});
