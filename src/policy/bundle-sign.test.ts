// Bundle signatures: OPA's file digests (the vectors of v1/bundle's reader tests), JWS checked
// by openssl, and the verifier's refusals with OPA's messages.
import { describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasOpenssl, TempDir } from '../tls/testkit.js';
import { hashBundleFile, hashValue, signaturesFile, verifyBundleFiles, type VerificationConfig } from './bundle-sign.js';
import { readBundle, writeBundle } from './bundle.js';

const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

describe("OPA's file digests", () => {
  it('structured files hash their parsed value (keys sorted), others their bytes', () => {
    // the digests OPA's own reader test expects for these files (MD5 and SHA-512)
    const cases: Array<[string, string, string, string]> = [
      ['.manifest', '{"revision": "quickbrownfaux"}', 'MD5', 'a005c38a509dc2d5a7407b9494efb2ad'],
      ['a/b/d/data.json', 'true', 'MD5', 'b326b5062b2f0e69046810717534cb09'],
      ['example/example.rego', 'package example', 'MD5', 'ceecc199d432a4eeae305914ea4816cb'],
      ['data.json', '{"x": {"y": true}, "a": {"b": {"z": true}}}', 'MD5', '36669864a622563256817033b1fc53db'],
      ['a/b/c/data.json', '[1,2,3]', 'SHA-512', '60f7b5dc86ded48785436192a08dbfd04894d7f1b417c4f8d3714679a7f78cb3c833f16a8559a1cf1f32968747dc1d95ef34826263dacf125ded8f5c374be4c0'],
      ['a/b/y/data.yaml', 'foo: 1', 'SHA-512', '20f27a640a233e6524fe7d138898583cd43475724806feb26be7f214e1d10b29edf6a0d3cb08f82107a45686b61b8fdabab6406cf4e70efe134f42238dbd70ab'],
      ['policy.wasm', 'modules-compiled-as-wasm-binary', 'SHA-512', '4f73765168fd8b5c294b739436da312cc5e979faf09f67bf576d36ea79a4f79c70cbb3c33d06ff65f531a9f42abd0a8f4daacc554cb521837e876dc28f56ce89'],
    ];
    for (const [path, text, alg, want] of cases) expect(hashBundleFile(path, enc(text), alg), path).toBe(want);
  });

  it('a structured value hashes like its compact JSON with sorted keys; number literals are kept', () => {
    const text = '{"key2": {"c": 123.45678911111111111111111111111111111111111111111111111, "b": 1, "a": 0}, "key1": ["element1", "α<>&"]}';
    const compact = '{"key1":["element1","α<>&"],"key2":{"a":0,"b":1,"c":123.45678911111111111111111111111111111111111111111111111}}';
    expect(hashBundleFile('data.json', enc(text))).toBe(createHash('sha256').update(compact).digest('hex'));
    expect(hashValue(enc('raw bytes'))).toBe(createHash('sha256').update('raw bytes').digest('hex'));
  });
});

describe('signing and verifying', () => {
  const files = [
    { path: 'data.json', bytes: enc('{"a": 1}') },
    { path: 'p/policy.rego', bytes: enc('package p\n') },
    { path: '.manifest', bytes: enc('{"revision": "r1"}') },
  ];
  const signed = (opts: Parameters<typeof signaturesFile>[1]) => [...files, { path: '.signatures.json', bytes: enc(signaturesFile(files, opts)) }];
  const cfg = (over: Partial<VerificationConfig> = {}): VerificationConfig => ({ keys: { k1: { algorithm: 'RS256', key: rsa.publicKey } }, ...over });

  it.skipIf(!hasOpenssl)('the JWS is an RS256 signature openssl verifies, over OPA payload claims', () => {
    const doc = JSON.parse(signaturesFile(files, { key: rsa.privateKey, keyId: 'k1' })) as { signatures: string[] };
    const [h, p, s] = doc.signatures[0]!.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'RS256', kid: 'k1' });
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as { files: Array<{ name: string; hash: string; algorithm: string }>; keyid: string };
    expect(payload.keyid).toBe('k1');
    expect(payload.files.map((f) => f.name)).toEqual(['data.json', 'p/policy.rego', '.manifest']);
    expect(payload.files[1]).toEqual({ name: 'p/policy.rego', hash: createHash('sha256').update('package p\n').digest('hex'), algorithm: 'SHA-256' });
    const dir = new TempDir();
    try {
      writeFileSync(join(dir.path, 'pub.pem'), rsa.publicKey);
      writeFileSync(join(dir.path, 'in'), `${h}.${p}`);
      writeFileSync(join(dir.path, 'sig'), Buffer.from(s!, 'base64url'));
      const r = spawnSync('openssl', ['dgst', '-sha256', '-verify', join(dir.path, 'pub.pem'), '-signature', join(dir.path, 'sig'), join(dir.path, 'in')], { encoding: 'utf8' });
      expect(r.stdout.trim()).toBe('Verified OK');
    } finally {
      dir.remove();
    }
  });

  it('verifies RS256, ES256, PS256, HS256 and EdDSA signatures', () => {
    const ed = generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const pairs: Array<[string, string, string]> = [
      ['RS256', rsa.privateKey, rsa.publicKey],
      ['PS256', rsa.privateKey, rsa.publicKey],
      ['ES256', ec.privateKey, ec.publicKey],
      ['HS256', 'secret', 'secret'],
      ['EdDSA', ed.privateKey, ed.publicKey],
    ];
    for (const [alg, priv, pub] of pairs) {
      expect(() => verifyBundleFiles(signed({ key: priv, algorithm: alg, keyId: 'k1' }), { keys: { k1: { algorithm: alg, key: pub } } }), alg).not.toThrow();
    }
  });

  it("refuses what OPA refuses, with OPA's messages", () => {
    const good = signed({ key: rsa.privateKey, keyId: 'k1' });
    expect(() => verifyBundleFiles(files, cfg())).toThrow('bundle missing .signatures.json file');
    const tampered = good.map((f) => (f.path === 'p/policy.rego' ? { ...f, bytes: enc('package p\nallow := true\n') } : f));
    expect(() => verifyBundleFiles(tampered, cfg())).toThrow(/^p\/policy\.rego: digest mismatch \(want: [0-9a-f]{64}, got: [0-9a-f]{64}\)$/);
    expect(() => verifyBundleFiles([...good, { path: 'extra.rego', bytes: enc('package x') }], cfg())).toThrow('file extra.rego not included in bundle signature');
    expect(() => verifyBundleFiles(good.filter((f) => f.path !== 'data.json'), cfg())).toThrow('file(s) [data.json] specified in bundle signatures but not found in the target bundle');
    expect(() => verifyBundleFiles(good, cfg({ keys: { k1: { algorithm: 'RS256', key: ec.publicKey } } }))).toThrow(/^failed to verify JWT signature/);
    expect(() => verifyBundleFiles(good, cfg({ scope: 'write' }))).toThrow('scope mismatch');
    expect(() => verifyBundleFiles(good, cfg({ keyid: 'other' }))).toThrow('verification key corresponding to ID other not found');
    expect(() => verifyBundleFiles(signed({ key: rsa.privateKey }), cfg())).toThrow('verification key ID is empty');
    // whitespace in a structured file does not matter; an excluded file is not checked
    const reformatted = good.map((f) => (f.path === 'data.json' ? { ...f, bytes: enc('{\n  "a": 1\n}\n') } : f));
    expect(() => verifyBundleFiles(reformatted, cfg())).not.toThrow();
    expect(() => verifyBundleFiles([...good, { path: 'docs/readme.md', bytes: enc('x') }], cfg({ exclude_files: ['docs/*'] }))).not.toThrow();
    // scope and claims travel in the payload
    expect(() => verifyBundleFiles(signed({ key: rsa.privateKey, claims: { scope: 'write', keyid: 'k1' } }), cfg({ scope: 'write' }))).not.toThrow();
  });

  it('a written bundle with a signature reads back only with the right key', async () => {
    const bytes = await writeBundle({ manifest: { revision: 'v1', roots: [''] }, data: { a: 1 }, modules: [{ path: 'p/policy.rego', source: 'package p\n' }], wasm: [] }, { signing: { key: rsa.privateKey, keyId: 'k1' } });
    const b = await readBundle(bytes, { verification: cfg() });
    expect(b.manifest.revision).toBe('v1');
    expect(b.signatures?.signatures).toHaveLength(1);
    await expect(readBundle(bytes, { verification: cfg({ keys: { k1: { algorithm: 'ES256', key: ec.publicKey } } }) })).rejects.toThrow(/failed to verify JWT signature/);
    const unsigned = await writeBundle({ manifest: { revision: 'v1' }, data: {}, modules: [], wasm: [] });
    await expect(readBundle(unsigned, { verification: cfg() })).rejects.toThrow('bundle missing .signatures.json file');
    expect((await readBundle(unsigned)).manifest.revision).toBe('v1'); // without keys, as OPA: not checked
  });
});
