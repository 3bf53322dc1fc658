// The engine's trust in what it loads: signed bundles (OPA's verification options from the
// config), authenticated bundle downloads over real TLS (bearer token, client certificate, CA),
// and the shadow policy whose disagreements are logged, never applied.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateAuthority } from '../tls/pki/index.js';
import { TempDir } from '../tls/testkit.js';
import { PolicyEngine, type PolicyEngineOptions } from './engine.js';
import { writeBundle } from './bundle.js';
import { policyOptionsFromConfig } from './config.js';
import { constDecisionModule } from './testing/const-wasm.js';
import { captureLogger } from './testing/capture-logger.js';

const input = { direction: 'inbound', transport: 'udp', message: { kind: 'request', method: 'INVITE', call_id: 'c1' } };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

function bundleOf(decision: Record<string, unknown>, revision: string, signed: boolean, data: Record<string, unknown> = {}): Promise<Buffer> {
  return writeBundle(
    { manifest: { revision, roots: [''], wasm: [{ entrypoint: 'sip/decision', module: '/policy.wasm' }], rego_version: 1 }, data, modules: [], wasm: [{ path: 'policy.wasm', bytes: constDecisionModule(decision) }] },
    signed ? { signing: { key: rsa.privateKey, keyId: 'bundles' } } : {},
  );
}

let tmp: TempDir;
const engines: PolicyEngine[] = [];
const engine = (o: PolicyEngineOptions): PolicyEngine => {
  const e = new PolicyEngine(o);
  engines.push(e);
  return e;
};
beforeAll(async () => {
  tmp = new TempDir();
  await writeFile(join(tmp.path, 'bundle-key.pem'), rsa.publicKey);
});
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});
afterAll(() => tmp.remove());

describe('signed bundles (policy.verification)', () => {
  const verification = () => policyOptionsFromConfig({ verification: { keys: { bundles: { algorithm: 'RS256', key_file: 'bundle-key.pem' } } } }, (f) => join(tmp.path, f)).verification;

  it('activates a signed bundle; refuses an unsigned or tampered one and keeps the last good policy', async () => {
    const file = join(tmp.path, 'b.tar.gz');
    await writeFile(file, await bundleOf({ allow: true, log: { v: 1 } }, 'signed-1', true));
    const e = engine({ source: { type: 'bundle', path: file }, verification: verification() });
    expect(await e.start()).toMatchObject({ ok: true, info: { revision: 'signed-1' } });

    await writeFile(file, await bundleOf({ allow: true, log: { v: 2 } }, 'unsigned-2', false));
    const unsigned = await e.reload();
    expect(unsigned).toMatchObject({ ok: false, errors: [`${file}: bundle missing .signatures.json file`], info: { revision: 'signed-1' } });

    // Same signature, different module: a digest mismatch.
    const good = await bundleOf({ allow: true, log: { v: 3 } }, 'signed-3', true);
    const other = await bundleOf({ allow: false, reject: { status: 403 } }, 'signed-3', true);
    const { readBundle } = await import('./bundle.js');
    const sig = (await readBundle(good)).signatures!;
    const forged = await writeBundle({ ...(await readBundle(other)), signatures: undefined });
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const tar = await import('tar-stream');
    // repack `other` with `good`'s signature
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: Buffer) => chunks.push(c));
    const extract = tar.extract();
    await new Promise<void>((resolve, reject) => {
      extract.on('entry', (h, stream, next) => {
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          pack.entry({ name: h.name }, Buffer.concat(parts));
          next();
        });
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
      extract.end(gunzipSync(forged));
    });
    pack.entry({ name: '/.signatures.json' }, JSON.stringify(sig));
    pack.finalize();
    await new Promise((r) => pack.on('end', r));
    await writeFile(file, gzipSync(Buffer.concat(chunks)));
    const tampered = await e.reload();
    expect(tampered.ok).toBe(false);
    if (!tampered.ok) expect(tampered.errors[0]).toMatch(/policy\.wasm: digest mismatch/);
    expect(e.decide(input)).toMatchObject({ revision: 'signed-1', decision: { allow: true, log: { v: 1 } } });
  });

  it('refuses a folder source when keys are set (a folder is not a signed bundle)', async () => {
    await mkdir(join(tmp.path, 'folder'), { recursive: true });
    const e = engine({ source: { type: 'dir', path: join(tmp.path, 'folder') }, verification: verification() });
    const r = await e.start();
    expect(r.ok).toBe(false);
    expect(e.decide(input).decision.allow).toBe(false);
  });
});

describe('bundle downloads over TLS with a bearer token and a client certificate', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('presents the token and the client certificate; a server not chaining to the CA is refused', async () => {
    const ca = await CertificateAuthority.createRoot({ subject: 'CN=Bundle CA' });
    const srv = await ca.issue({ subject: 'CN=bundles.test', san: { dns: ['localhost'], ip: ['127.0.0.1'] }, usage: 'server' });
    const client = await ca.issue({ subject: 'CN=gateway-1', usage: 'client' });
    const body = await bundleOf({ allow: true, log: { from: 'https' } }, 'https-1', true);
    const seen: Array<{ auth?: string; peer?: string }> = [];
    server = createServer({ ...srv.tlsOptions, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = String((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN);
      seen.push({ auth: req.headers.authorization, peer });
      if (req.headers.authorization !== 'Bearer s3cret') res.writeHead(401).end();
      else res.writeHead(200, { ETag: '"e1"' }).end(body);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await writeFile(join(tmp.path, 'ca.pem'), ca.certPem);
    await writeFile(join(tmp.path, 'client.pem'), client.certPem);
    await writeFile(join(tmp.path, 'client.key'), client.keyPem);
    await writeFile(join(tmp.path, 'token'), 's3cret\n');
    const url = `https://127.0.0.1:${port}/bundles/sip.tar.gz`;
    const opts = policyOptionsFromConfig(
      {
        credentials: { bearer: { token_path: 'token' }, client_tls: { cert: 'client.pem', private_key: 'client.key' } },
        tls: { ca_cert: 'ca.pem' },
        verification: { keys: { bundles: { key_file: 'bundle-key.pem' } } },
      },
      (f) => join(tmp.path, f),
    );
    const e = engine({ source: { type: 'url', url, pollIntervalMs: 3_600_000 }, ...opts });
    expect(await e.start()).toMatchObject({ ok: true, info: { revision: 'https-1' } });
    expect(seen[0]).toEqual({ auth: 'Bearer s3cret', peer: 'gateway-1' });
    expect(e.decide(input).decision.log).toEqual({ from: 'https' });

    // a rotated token file is read again; a wrong token is an HTTP error, the policy stays
    await writeFile(join(tmp.path, 'token'), 'wrong');
    const r = await e.reload();
    expect(r).toMatchObject({ ok: false, errors: [`bundle download from ${url} failed: HTTP 401`] });

    // without the CA, the server's certificate is not trusted
    const untrusted = engine({ source: { type: 'url', url, pollIntervalMs: 3_600_000 }, download: { ...opts.download, ca: undefined } });
    const u = await untrusted.start();
    expect(u.ok).toBe(false);
    if (!u.ok) expect(u.errors[0]).toMatch(/certificate/);
  });
});

describe('shadow policy (policy.shadow)', () => {
  it('logs each disagreement with both decisions and what changed; applies only the live decision', async () => {
    const live = join(tmp.path, 'live.tar.gz');
    const next = join(tmp.path, 'next.tar.gz');
    await writeFile(live, await bundleOf({ allow: true }, 'live-1', false));
    await writeFile(next, await bundleOf({ allow: false, reject: { status: 403, reason: 'Nope' } }, 'next-1', false));
    const { logger, lines } = captureLogger();
    const e = engine({ source: { type: 'bundle', path: live }, decisionLog: { logger }, ...policyOptionsFromConfig({ shadow: next }) });
    expect((await e.start()).ok).toBe(true);
    expect(lines.some((l) => l.msg === 'shadow policy loaded')).toBe(true);
    const r = e.decide(input);
    expect(r.decision).toEqual({ allow: true });
    const diff = lines.find((l) => l.msg === 'shadow decision differs')!;
    expect(diff).toMatchObject({
      decision_id: r.decision_id,
      decision: { allow: true },
      changes: ['allow_to_reject'],
      method: 'INVITE',
      shadow: { revision: 'next-1', decision: { allow: false, reject: { status: 403, reason: 'Nope' } } },
    });
    // the same decision on both sides: nothing logged
    await writeFile(next, await bundleOf({ allow: true }, 'next-2', false));
    await e.reload();
    const before = lines.filter((l) => l.msg === 'shadow decision differs').length;
    e.decide(input);
    expect(lines.filter((l) => l.msg === 'shadow decision differs')).toHaveLength(before);
  });
});
