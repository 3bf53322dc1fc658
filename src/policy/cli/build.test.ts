// `bastion policy build` (-t rego, -O, entrypoint checks, signing with -b) and `policy inspect`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bastion } from '../../cli/testing/run-cli.js';
import { readBundle } from '../bundle.js';
import { compilerReady } from '../testing/compiler-ready.js';

const ready = await compilerReady();
let dir: string;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-build-'));
  await mkdir(join(dir, 'b', 'sip'), { recursive: true });
  await writeFile(
    join(dir, 'b', 'sip', 'decision.rego'),
    '# METADATA\n# title: The decision\n# description: allow bob\npackage sip\n\n# METADATA\n# title: Allowed\n# entrypoint: true\nallowed if input.message.from.user == "bob"\n\ndecision := {"allow": allowed}\n',
  );
  await writeFile(join(dir, 'b', 'data.json'), '{"limits": {"max": 3}}');
  await writeFile(join(dir, 'key.pem'), rsa.privateKey);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(!ready)('bastion policy build and inspect (needs the compiler)', () => {
  it('-t rego: sources and data, checked, no WASM; an unknown entrypoint is refused as by opa build', async () => {
    const out = join(dir, 'rego.tar.gz');
    expect(await bastion('policy', 'build', '-t', 'rego', join(dir, 'b'), '-o', out)).toMatchObject({ code: 0, stdout: '' });
    const b = await readBundle(await readFile(out));
    expect(b.wasm).toEqual([]);
    expect(b.manifest).toEqual({ revision: '', roots: [''], rego_version: 1 });
    expect(b.data).toEqual({ limits: { max: 3 } });
    const bad = await bastion('policy', 'build', '-e', 'sip/nothing', join(dir, 'b'), '-o', out);
    expect(bad).toMatchObject({ code: 1, stdout: 'error: entrypoint "sip/nothing" does not refer to a rule or policy decision\n' });
  });

  it('-O=2 optimizes the WASM module (OPA syntax accepted), -O 0 does not', async () => {
    const o0 = join(dir, 'o0.tar.gz');
    const o2 = join(dir, 'o2.tar.gz');
    expect((await bastion('policy', 'build', '-e', 'sip/decision', '-O', '0', join(dir, 'b'), '-o', o0)).code).toBe(0);
    expect((await bastion('policy', 'build', '-e', 'sip/decision', '-O=2', join(dir, 'b'), '-o', o2)).code).toBe(0);
    const [w0, w2] = [(await readBundle(await readFile(o0))).wasm[0]!.bytes, (await readBundle(await readFile(o2))).wasm[0]!.bytes];
    expect(w2.length).toBeLessThan(w0.length);
  });

  it('print() calls are erased from the WASM module unless --wasm-include-print', async () => {
    await mkdir(join(dir, 'pr', 'sip'), { recursive: true });
    await writeFile(join(dir, 'pr', 'sip', 'd.rego'), 'package sip\n\ndecision := {"allow": true} if print("deciding")\n');
    const plain = join(dir, 'pr-plain.tar.gz');
    const printing = join(dir, 'pr-print.tar.gz');
    expect((await bastion('policy', 'build', '-e', 'sip/decision', join(dir, 'pr'), '-o', plain)).code).toBe(0);
    expect((await bastion('policy', 'build', '-e', 'sip/decision', '--wasm-include-print', join(dir, 'pr'), '-o', printing)).code).toBe(0);
    const text = async (f: string) => Buffer.from((await readBundle(await readFile(f))).wasm[0]!.bytes).toString('latin1');
    expect(await text(plain)).not.toContain('internal.bastion_print');
    expect(await text(printing)).toContain('internal.bastion_print');
  });

  it('--signing-key with -b writes .signatures.json that verifies with the public key; without -b it is refused', async () => {
    const out = join(dir, 'signed.tar.gz');
    const r = await bastion('policy', 'build', '-b', '-e', 'sip/decision', '-r', 'v7', join(dir, 'b'), '-o', out, '--signing-key', join(dir, 'key.pem'), '--verification-key-id', 'ops');
    expect(r).toMatchObject({ code: 0, stdout: '' });
    const bytes = await readFile(out);
    const b = await readBundle(bytes, { verification: { keys: { ops: { algorithm: 'RS256', key: rsa.publicKey } } } });
    expect(b.modules.map((m) => m.path)).toEqual(['sip/decision.rego']); // relative to the bundle root, as OPA writes it
    expect(b.data).toEqual({ limits: { max: 3 } });
    await expect(readBundle(bytes, { verification: { keys: { ops: { algorithm: 'HS256', key: 'guess' } } } })).rejects.toThrow(/failed to verify JWT signature/);
    const noB = await bastion('policy', 'build', '-e', 'sip/decision', join(dir, 'b'), '-o', out, '--signing-key', join(dir, 'key.pem'));
    expect(noB).toMatchObject({ code: 1, stdout: 'error: enable bundle mode (ie. --bundle) to verify or sign bundle files or directories\n' });
  });

  it('inspect: manifest and namespaces as opa inspect prints them; -a annotations; -f json', async () => {
    const out = join(dir, 'signed.tar.gz');
    const p = await bastion('policy', 'inspect', out);
    expect(p.code).toBe(0);
    expect(p.stdout).toBe(
      [
        'MANIFEST:',
        '+--------------+-------+',
        '|    FIELD     | VALUE |',
        '+--------------+-------+',
        '| Rego Version | 1     |',
        '| Revision     | v7    |',
        '+--------------+-------+',
        'NAMESPACES:',
        '+-----------+--------------------+',
        '| NAMESPACE |        FILE        |',
        '+-----------+--------------------+',
        '| data.sip  | /sip/decision.rego |',
        '+-----------+--------------------+',
        '',
      ].join('\n'),
    );
    const a = await bastion('policy', 'inspect', '-a', out);
    expect(a.stdout).toContain('ANNOTATIONS:\nThe decision\n============\n\nallow bob\n\nPackage:  sip\nLocation: /sip/decision.rego:1\nScope: package\n');
    expect(a.stdout).toContain('Allowed\n=======\n\nRule:     allowed\nLocation: /sip/decision.rego:6\nScope: rule\nEntrypoint: true\n');
    const j = JSON.parse((await bastion('policy', 'inspect', '-f', 'json', out)).stdout) as Record<string, unknown>;
    expect(j).toMatchObject({
      manifest: { revision: 'v7', wasm: [{ entrypoint: 'sip/decision', module: '/policy.wasm' }] },
      signatures_config: { signatures: [expect.any(String)] },
      wasm_modules: [{ url: '/policy.wasm', path: '/policy.wasm', entrypoints: ['data.sip.decision'] }],
      namespaces: { 'data.sip': ['/sip/decision.rego'] },
    });
    expect(await bastion('policy', 'inspect', join(dir, 'missing.tar.gz'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: /) });
  });
});
