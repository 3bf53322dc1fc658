// The package as users get it: `npm pack`, installed into an empty folder from the tarball, and
// every command run there once through the installed `bastion` launcher. Nothing here reads the
// checkout's src/ or dist/ at run time: what the tarball lacks, these tests lack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TempDir } from '../src/tls/testkit.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));

interface Packed {
  filename: string;
  files: Array<{ path: string }>;
}

let dir: TempDir;
let app: string;
let packed: Packed;

/** Runs the installed launcher in the app folder; never throws: the exit code is part of the result. */
async function bastion(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [join(app, 'node_modules', '.bin', 'bastion'), ...args], { cwd: app, maxBuffer: 32 << 20, env: { ...process.env, NODE_OPTIONS: '' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = new TempDir();
  // the checkout's dist/ as built by `npm ci` (prepare); the pack itself runs no script
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir.path], { cwd: root, maxBuffer: 32 << 20 });
  packed = (JSON.parse(stdout) as Packed[])[0]!;
  app = join(dir.path, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-bastion-app', version: '1.0.0', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', join(dir.path, packed.filename)], { cwd: app, maxBuffer: 32 << 20 });
}, 300_000);

afterAll(() => dir?.remove());

describe('the packed package', () => {
  it('carries its runtime files and leaves out sources, tests and test helpers', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of [
      'bin/bastion.js',
      'dist/src/cli/main.js',
      'dist/src/rego/runtime/build/runtime.wasm',
      'dist/schemas/identity.schema.json',
      'schemas/config.schema.json',
      'schemas/input.schema.json',
      'config/default.yaml',
      'policies/sip/decision.rego',
      'policies/sip/decision_test.rego',
      'policies/data.yaml',
      'policies/fixtures/identities.json',
      'README.md',
    ]) {
      expect(paths, p).toContain(p);
    }
    // (policies/sip/testing/ is Rego for the example policies' own tests: it ships with them)
    const unwanted = paths.filter((p) => /^(src|test|bench|scripts)\/|\.test\.|^dist\/.*\/testing\/|testkit|\.map$|\.ts$/.test(p));
    expect(unwanted).toEqual([]);
  });

  it('bastion --help lists the commands', async () => {
    const r = await bastion('--help');
    expect(r.code).toBe(0);
    for (const c of ['run', 'policy', 'cert', 'ca', 'ctl']) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    // the list is made without loading the commands; `help <command>` loads that one
    const policy = await bastion('help', 'policy');
    expect(policy.code).toBe(0);
    for (const c of ['eval', 'test', 'check', 'build', 'fmt']) expect(policy.stdout).toMatch(new RegExp(`^\\s+${c} \\[options\\]`, 'm'));
  });

  it("bastion --version prints the package's version", async () => {
    const r = await bastion('--version');
    expect(r.code).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('ca init, issue, revoke and crl write a PKI; cert inspect reads it and sees the revocation', async () => {
    expect((await bastion('ca', 'init', 'pki', '--subject', 'CN=Packed Test CA')).code).toBe(0);
    expect((await bastion('ca', 'issue', 'pki', 'peer', '--subject', 'CN=peer.example', '--dns', 'peer.example')).code).toBe(0);
    const before = await bastion('ca', 'crl', 'pki', '--out', 'pki/before.crl');
    expect(before.code).toBe(0);
    const good = await bastion('cert', 'inspect', 'pki/peer.pem', '--ca', 'pki/ca.pem', '--crl', 'pki/before.crl');
    expect(good.code, good.stderr).toBe(0);
    const doc = JSON.parse(good.stdout) as { verified: boolean; subject: { string: string } };
    expect(doc.verified).toBe(true);
    expect(doc.subject.string).toContain('peer.example');

    expect((await bastion('ca', 'revoke', 'pki', 'pki/peer.pem')).code).toBe(0);
    expect((await bastion('ca', 'crl', 'pki', '--out', 'pki/after.crl')).code).toBe(0);
    const revoked = JSON.parse((await bastion('cert', 'inspect', 'pki/peer.pem', '--ca', 'pki/ca.pem', '--crl', 'pki/after.crl')).stdout) as { verified: boolean; verify_error: string };
    expect([revoked.verified, revoked.verify_error]).toEqual([false, 'CERT_REVOKED']);
  });

  it('policy test passes on the example policies shipped in the package', async () => {
    const policies = join(app, 'node_modules', 'sip-bastion', 'policies');
    const r = await bastion('policy', 'test', policies);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS: \d+\/\d+/);
  });

  it('run --check accepts the embedded default config and refuses a broken one, naming the path', async () => {
    const ok = await bastion('run', '--check');
    expect(ok.code, ok.stderr).toBe(0);
    writeFileSync(join(app, 'bad.yaml'), 'listen:\n  - {transport: udp, port: 70000}\npolicy: {path: p}\n');
    const bad = await bastion('run', '--check', '--config', 'bad.yaml');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr + bad.stdout).toContain('/listen/0/port');
  });

  it('run --check names a missing certificate and a policy that does not compile by their config paths', async () => {
    mkdirSync(join(app, 'badpolicy'), { recursive: true });
    writeFileSync(join(app, 'badpolicy', 'p.rego'), 'package sip\n\ndecision := {"allow": x}\n');
    writeFileSync(
      join(app, 'broken.yaml'),
      'listen:\n  - {transport: tls, port: 5061, server_domain: d}\nserver_domains:\n  d: {cert: nope.pem, key: nope.key}\npolicy: {path: badpolicy}\n',
    );
    const r = await bastion('run', '--check', '--config', 'broken.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/server_domains/d/cert: cannot read nope.pem: ENOENT');
    expect(r.stderr).toContain('/server_domains/d/key: cannot read nope.key: ENOENT');
    expect(r.stderr).toMatch(/\/policy\/path: .*p\.rego:3:\d+: rego_unsafe_var_error/);
  });

  it('ctl lists its commands and says when the admin API cannot be reached', async () => {
    const help = await bastion('ctl', '--help');
    expect(help.code).toBe(0);
    for (const c of ['status', 'connections', 'drop', 'reload', 'metrics']) expect(help.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    const r = await bastion('ctl', '--url', 'http://127.0.0.1:1', 'status');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach the admin API at http:\/\/127\.0\.0\.1:1: ECONNREFUSED/);
  });

  it('installs no file outside its own folder but the launcher link', () => {
    expect(existsSync(join(app, 'node_modules', '.bin', 'bastion'))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', 'sip-bastion', 'package.json'), 'utf8')) as { name: string };
    expect(pkg.name).toBe('sip-bastion');
  });
});
