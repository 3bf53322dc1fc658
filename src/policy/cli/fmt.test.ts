// `bastion policy fmt` as `opa fmt` (cmd/fmt.go): output, -l, -d, -w, --fail and its exit codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bastion } from '../../cli/testing/run-cli.js';
import { prettyDiff } from './fmt.js';

let dir: string;
const MESSY = 'package m\n\nallow = true if {   input.x == 1 }\n';
const CLEAN = 'package m\n\nallow if input.x == 1\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-fmt-'));
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'messy.rego'), MESSY);
  await writeFile(join(dir, 'clean.rego'), CLEAN);
  await writeFile(join(dir, 'notes.txt'), 'not rego');
  await writeFile(join(dir, 'broken.rego.txt'), 'package');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('bastion policy fmt', () => {
  it('prints every .rego file formatted; -l lists the files that would change', async () => {
    const out = await bastion('policy', 'fmt', dir);
    expect(out).toMatchObject({ code: 0, stdout: CLEAN + CLEAN, stderr: '' });
    expect(await bastion('policy', 'fmt', '-l', dir)).toMatchObject({ code: 0, stdout: `${join(dir, 'sub', 'messy.rego')}\n` });
    expect(await bastion('policy', 'fmt', '-l', '--fail', dir)).toMatchObject({ code: 2, stderr: 'unexpected diff\n' });
    expect(await bastion('policy', 'fmt', '--fail', join(dir, 'clean.rego'))).toMatchObject({ code: 0, stdout: CLEAN });
  });

  it('-d prints the character diff OPA prints (green insertions, red deletions)', async () => {
    const d = await bastion('policy', 'fmt', '-d', dir);
    expect(d.code).toBe(0);
    expect(d.stdout).toBe(prettyDiff(MESSY, CLEAN) + '\n');
    expect(d.stdout).toContain('\x1b[31m');
    expect(prettyDiff('ab', 'axb')).toBe('a\x1b[32mx\x1b[0mb');
    expect((await bastion('policy', 'fmt', '-d', '--fail', dir)).code).toBe(2);
  });

  it('-w rewrites the files; a file that does not parse stops with exit 2', async () => {
    const w = await bastion('policy', 'fmt', '-w', dir);
    expect(w).toMatchObject({ code: 0, stdout: '' });
    expect(await readFile(join(dir, 'sub', 'messy.rego'), 'utf8')).toBe(CLEAN);
    await writeFile(join(dir, 'zz.rego'), 'package z\n\np if {\n');
    const bad = await bastion('policy', 'fmt', dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^failed to format Rego source file: 1 error occurred: .*zz\.rego:4:1: rego_parse_error: /);
    expect((await bastion('policy', 'fmt', join(dir, 'missing'))).code).toBe(1);
  });
});
