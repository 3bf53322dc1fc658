// The policy authoring commands as users run them: the built launcher (bin/bastion.js → dist/)
// in a child process, every new command and flag at least once: test (-z, --count, --timeout,
// --ignore, --fail-on-empty, --threshold, --bench, -f json/gobench), fmt (-l, -d, --fail, -w),
// lint (-f json, -D/-e), build (-t rego, -O=2, -b with --signing-key/--signing-alg, an unknown
// entrypoint), inspect (-a, -f json), replay, and the debugging aids (print() output, --var-values, error locations, schema checks).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));

function run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(root, 'bin', 'bastion.js'), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-launcher-'));
  await mkdir(join(dir, 'p', 'sip'), { recursive: true });
  await writeFile(join(dir, 'p', 'sip', 'decision.rego'), 'package sip\n\ndefault allowed := false\n\nallowed if input.message.method == "OPTIONS"\n\ndecision := {"allow": allowed}\n');
  await writeFile(
    join(dir, 'p', 'sip', 'decision_test.rego'),
    'package sip_test\n\nimport data.sip\n\ntest_options if sip.allowed with input as {"message": {"method": "OPTIONS"}}\n\ntest_methods[m] if {\n\tsome m in ["INVITE", "BYE"]\n\tnot sip.allowed with input as {"message": {"method": m}}\n}\n\ntodo_test_later if input.later\n',
  );
  await writeFile(join(dir, 'p', 'notes.rego.bak'), 'ignored');
  await writeFile(join(dir, 'messy.rego'), 'package m\n\nx = 1 if {   input.a }\n');
  const { generateKeyPairSync } = await import('node:crypto');
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  await writeFile(join(dir, 'es.pem'), k.privateKey);
  await writeFile(join(dir, 'es.pub'), k.publicKey);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

// Each child process compiles policies (the WASM back end loads binaryen once per process): generous time.
const SLOW = { timeout: 300_000 };

describe.skipIf(!built)('policy commands through bin/bastion.js (dist/)', () => {
  it('test: OPA verdicts, sub-results, exit codes and flags', SLOW, async () => {
    const r = await run('policy', 'test', 'p', '-v', '--timeout', '10s', '--ignore', '*.bak');
    expect(r.code).toBe(2); // the todo_test_ is skipped: exit 2 without -z
    expect(r.stdout).toMatch(/data\.sip_test\.test_methods: PASS \(.+\)\n {2}BYE: PASS\n {2}INVITE: PASS\n/);
    expect(r.stdout).toMatch(/PASS: 3\/4\nSKIPPED: 1\/4\n$/);
    // -z: skipped tests exit 0; --threshold turns coverage on; --count repeats the run
    const z = await run('policy', 'test', 'p', '-z', '--count', '2', '--threshold', '50');
    expect(z.code).toBe(0);
    const reports = z.stdout.trim().split(/\n(?=\{)/).map((t) => JSON.parse(t) as { coverage: number });
    expect(reports).toHaveLength(2);
    expect(reports[0]!.coverage).toBeGreaterThanOrEqual(50);
    expect(await run('policy', 'test', 'p', '--run', 'nothing', '--fail-on-empty')).toMatchObject({ code: 1, stderr: 'no tests were run\n' });
    const bench = await run('policy', 'test', 'p', '--run', 'test_options', '--bench', '-f', 'gobench');
    expect(bench.code).toBe(0);
    expect(bench.stdout).toMatch(/^BenchmarkDataSipTestTestOptions\t +\d+\t +[\d.]+ ns\/op\n/);
  });

  it('fmt -l/-d/--fail/-w and lint', SLOW, async () => {
    expect(await run('policy', 'fmt', '-l', '--fail', 'messy.rego')).toMatchObject({ code: 2, stdout: 'messy.rego\n', stderr: 'unexpected diff\n' });
    expect((await run('policy', 'fmt', '-d', 'messy.rego')).stdout).toContain('\x1b[3');
    expect((await run('policy', 'fmt', '-w', 'messy.rego')).code).toBe(0);
    expect(await readFile(join(dir, 'messy.rego'), 'utf8')).toBe('package m\n\nx := 1 if input.a\n');
    expect((await run('policy', 'fmt', '--fail', 'messy.rego', 'p')).code).toBe(0);
    const lint = await run('policy', 'lint', '-f', 'json', 'p', 'messy.rego');
    expect(lint.code).toBe(0);
    expect(JSON.parse(lint.stdout)).toMatchObject({ violations: [], summary: { files_scanned: 3 } });
    await writeFile(join(dir, 'bad.rego'), 'package bad\n\nimport data.nowhere\n\np if 1 == 1\n');
    const bad = await run('policy', 'lint', '-D', '-e', 'constant-condition', 'bad.rego');
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/^Rule: +constant-condition/);
  });

  it('build -t rego, -O=2, signed with -b (ES256), an unknown entrypoint; inspect', SLOW, async () => {
    expect((await run('policy', 'build', '-t', 'rego', 'p', '-o', 'rego.tar.gz')).code).toBe(0);
    expect(await run('policy', 'build', '-e', 'sip/nope', 'p', '-o', 'x.tar.gz')).toMatchObject({ code: 1, stdout: 'error: entrypoint "sip/nope" does not refer to a rule or policy decision\n' });
    const s = await run('policy', 'build', '-b', '-O=2', '-e', 'sip/decision', '-r', 'r1', 'p', '-o', 'signed.tar.gz', '--signing-key', 'es.pem', '--signing-alg', 'ES256');
    expect(s).toMatchObject({ code: 0, stdout: '' });
    const i = await run('policy', 'inspect', '-a', '-f', 'json', 'signed.tar.gz');
    expect(JSON.parse(i.stdout)).toMatchObject({ manifest: { revision: 'r1' }, namespaces: { 'data.sip': ['/sip/decision.rego'], 'data.sip_test': ['/sip/decision_test.rego'] } });
    const header = JSON.parse(Buffer.from((JSON.parse(i.stdout) as { signatures_config: { signatures: string[] } }).signatures_config.signatures[0]!.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'ES256', kid: 'default' });
    expect((await run('policy', 'inspect', 'signed.tar.gz')).stdout).toMatch(/^MANIFEST:\n/);
  });

  it('replay: a changed decision exits 2', SLOW, async () => {
    const dest = pino.destination({ dest: join(dir, 'd.log'), sync: true });
    const log = pino({ level: 'info' }, dest);
    log.info({ decision_id: 'd1', path: 'sip/decision', decision: { allow: true }, input: { message: { method: 'OPTIONS' } } }, 'decision');
    log.info({ decision_id: 'd2', path: 'sip/decision', decision: { allow: true }, input: { message: { method: 'INVITE' } } }, 'decision');
    log.info({ decision_id: 'd3', path: 'sip/decision', decision: { allow: false, reject: { status: 403, reason: 'Forbidden' } } }, 'decision');
    dest.flushSync();
    const r = await run('policy', 'replay', '--log', 'd.log', '--policy', 'p', '-n', '1');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('decisions: 3, replayed: 2, skipped (no input): 1, changed: 1\n');
    expect(r.stdout).toContain('  allow_to_reject: 1\n');
    expect(r.stdout).toContain('line 2 (d2): ');
  });

  it('debugging: print() output and the failure trace with -v --var-values, conflict errors with their location, schema type errors', SLOW, async () => {
    await mkdir(join(dir, 'dbg'), { recursive: true });
    await writeFile(join(dir, 'dbg', 'x_test.rego'), 'package x\n\np := 1\n\ntest_p if {\n\tprint("p is", p, input.nope)\n\tp == 2\n}\n\nc := 1\nc := 2\n\ntest_c if c == 1\n');
    const r = await run('policy', 'test', 'dbg', '-v', '--var-values');
    expect(r.code).toBe(2);
    // the failure's trace, then the failing expression (--var-values)
    expect(r.stdout).toMatch(/\n {2}dbg\/x_test\.rego:7 +\| \| Fail data\.x\.p = 2 +\{\}\n/);
    expect(r.stdout).toContain('\n  dbg/x_test.rego:7:\n     p == 2\n');
    expect(r.stdout).toMatch(/^dbg\/x_test\.rego:5:\ndata\.x\.test_p: FAIL \(.+\)\n\n {2}p is 1 <undefined>\n\n/);
    expect(r.stdout).toMatch(/\ndata\.x\.test_c: ERROR \(.+\)\n {2}dbg\/x_test\.rego:11: eval_conflict_error: complete rules must not produce multiple outputs\n/);
    // the gateway's input schema types input in sip packages: a field the document lacks is a type error
    await mkdir(join(dir, 'typed', 'sip'), { recursive: true });
    await writeFile(join(dir, 'typed', 'sip', 'x.rego'), 'package sip.x\n\nbad if input.identity.chain[_].subject_string == "x"\n');
    const c = await run('policy', 'check', 'typed');
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('typed/sip/x.rego:3:8: rego_type_error: undefined ref: input.identity.chain[_].subject_string\n');
  });
});
