import { describe, expect, it } from 'vitest';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { readBundle, writeBundle, BundleError } from './bundle.js';

async function tarOf(files: Record<string, string | Uint8Array>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const end = new Promise((r) => pack.on('end', r));
  for (const [name, body] of Object.entries(files)) pack.entry({ name }, Buffer.from(body));
  pack.finalize();
  await end;
  return gzipSync(Buffer.concat(chunks));
}

async function entryNames(gz: Buffer): Promise<Array<{ name: string; mode?: number }>> {
  const ex = tar.extract();
  const out: Array<{ name: string; mode?: number }> = [];
  ex.on('entry', (h, s, next) => {
    out.push({ name: h.name, mode: h.mode });
    s.resume();
    s.on('end', next);
  });
  const done = new Promise((r) => ex.on('finish', r));
  Readable.from([gunzipSync(gz)]).pipe(ex);
  await done;
  return out;
}

describe('writeBundle', () => {
  it('writes entries as opa build -t wasm does and reads them back', async () => {
    const wasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const gz = await writeBundle({
      manifest: { revision: 'r1', roots: [''], wasm: [{ entrypoint: 'sip/decision', module: '/policy.wasm' }], rego_version: 1 },
      data: { sip: { hosted: ['atlanta.example'] } },
      modules: [{ path: 'sip/decision.rego', source: 'package sip\n' }],
      wasm: [{ path: 'policy.wasm', bytes: wasm }],
    });
    expect(await entryNames(gz)).toEqual([
      { name: '/data.json', mode: 0o600 },
      { name: '/sip/decision.rego', mode: 0o600 },
      { name: '/policy.wasm', mode: 0o600 },
      { name: '/.manifest', mode: 0o600 },
    ]);
    const b = await readBundle(gz);
    expect(b.manifest).toEqual({ revision: 'r1', roots: [''], wasm: [{ entrypoint: 'sip/decision', module: '/policy.wasm' }], rego_version: 1 });
    expect(b.data).toEqual({ sip: { hosted: ['atlanta.example'] } });
    expect(b.modules).toEqual([{ path: 'sip/decision.rego', source: 'package sip\n' }]);
    expect(Array.from(b.wasm[0]!.bytes)).toEqual(Array.from(wasm));
  });
});

describe('readBundle', () => {
  it('places data files at their directory and merges YAML and JSON', async () => {
    const b = await readBundle(await tarOf({ '/data.json': '{"a": {"x": 1}}', '/a/b/data.yaml': 'y: 2\n', './c/data.yml': '[1, 2]' }));
    expect(b.data).toEqual({ a: { x: 1, b: { y: 2 } }, c: [1, 2] });
  });

  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['conflicting data', { '/data.json': '{"a": {"b": 1}}', '/a/b/data.json': '2' }, /merge error: conflicting values at data\.a\.b/],
    ['an entry escaping the bundle', { '../evil.rego': 'package x' }, /escapes the bundle/],
    ['overlapping roots', { '/.manifest': '{"roots": ["sip", "sip/config"]}' }, /overlapped roots/],
    ['data outside the roots', { '/.manifest': '{"roots": ["sip"]}', '/other/data.json': '{}' }, /outside the manifest roots/],
    ['a wasm entrypoint outside the roots', { '/.manifest': '{"roots": ["sip"], "wasm": [{"entrypoint": "x/y", "module": "/p.wasm"}]}', '/p.wasm': 'x' }, /outside the manifest roots/],
    ['a missing wasm module', { '/.manifest': '{"wasm": [{"entrypoint": "sip/decision", "module": "/policy.wasm"}]}' }, /lacks/],
    ['a broken manifest', { '/.manifest': '{revision' }, /\.manifest/],
    ['a broken data file', { '/data.json': '{' }, /data\.json/],
  ];
  for (const [name, files, msg] of refused) {
    it(`refuses ${name}`, async () => {
      const err = await readBundle(await tarOf(files)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BundleError);
      expect((err as Error).message).toMatch(msg);
    });
  }

  it('refuses bytes that are not a gzipped tar', async () => {
    await expect(readBundle(Buffer.from('hello'))).rejects.toThrow(/not a gzip/);
  });
});
