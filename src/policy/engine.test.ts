import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { PolicyEngine, type PolicyEngineOptions } from './engine.js';
import { writeBundle } from './bundle.js';
import { buildConstModule, constDecisionModule } from './testing/const-wasm.js';
import { compilerReady } from './testing/compiler-ready.js';
import { captureLogger } from './testing/capture-logger.js';

const ready = await compilerReady();

async function bundleOf(wasm: Uint8Array, revision: string, data: Record<string, unknown> = {}): Promise<Buffer> {
  return writeBundle({
    manifest: { revision, roots: [''], wasm: [{ entrypoint: 'sip/decision', module: '/policy.wasm' }], rego_version: 1 },
    data,
    modules: [],
    wasm: [{ path: 'policy.wasm', bytes: wasm }],
  });
}

const input = {
  direction: 'inbound',
  transport: 'tls',
  connection: { local: { address: '127.0.0.1', port: 5061, domain: 'biloxi.example' }, remote: { address: '127.0.0.1', port: 40000 } },
  identity: {
    presented: true,
    verified: true,
    subject: { string: 'CN=sbc.atlanta.example,O=FedA', cn: 'sbc.atlanta.example' },
    issuer: { string: 'CN=Federation A Root,O=FedA', cn: 'Federation A Root' },
    chain: [{ subject: 'CN=sbc.atlanta.example' }],
  },
  message: {
    kind: 'request',
    method: 'INVITE',
    ruri: { scheme: 'sip', user: 'bob', host: 'biloxi.example' },
    call_id: 'a84b4c76e66710@pc33.atlanta.example',
    headers: { authorization: ['Digest secret'] },
  },
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-engine-'));
  return () => rm(dir, { recursive: true, force: true });
});

const engines: PolicyEngine[] = [];
function engine(opts: PolicyEngineOptions): PolicyEngine {
  const e = new PolicyEngine(opts);
  engines.push(e);
  return e;
}
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});

describe('PolicyEngine with a bundle file', () => {
  it('loads the bundle, evaluates the entrypoint and logs one decision line', async () => {
    const file = join(dir, 'allow.tar.gz');
    const decision = { allow: true, alert_info: ['<http://ring.example/trusted.wav>'], client_domain: 'fedB', log: { partner: 'fedA' } };
    await writeFile(file, await bundleOf(constDecisionModule(decision), 'rev-1'));
    const { logger, lines } = captureLogger();
    const e = engine({ source: { type: 'bundle', path: file }, decisionLog: { logger } });
    const loaded = await e.start();
    expect(loaded).toMatchObject({ ok: true, changed: true, info: { revision: 'rev-1', entrypoint: 'sip/decision' } });
    const r = e.decide(input);
    expect(r.failure).toBeUndefined();
    expect(r.decision).toEqual(decision);
    expect(r.revision).toBe('rev-1');
    const rec = lines.find((l) => l.msg === 'decision')!;
    expect(rec).toMatchObject({
      decision_id: r.decision_id,
      path: 'sip/decision',
      revision: 'rev-1',
      decision,
      method: 'INVITE',
      request_uri: 'sip:bob@biloxi.example',
      call_id: 'a84b4c76e66710@pc33.atlanta.example',
      peer: { subject: 'CN=sbc.atlanta.example,O=FedA', issuer: 'CN=Federation A Root,O=FedA', verified: true },
      local_domain: 'biloxi.example',
    });
    expect(typeof rec.timestamp).toBe('string');
    expect(typeof rec.eval_ns).toBe('number');
    expect(rec.input).toBeUndefined();
  });

  it('logs the input only when asked, with masked pointers erased', async () => {
    const file = join(dir, 'mask.tar.gz');
    await writeFile(file, await bundleOf(constDecisionModule({ allow: true }), 'rev-m'));
    const { logger, lines } = captureLogger();
    const e = engine({ source: { type: 'bundle', path: file }, decisionLog: { logger, input: true, mask: ['/message/headers/authorization', '/identity/chain', '/nope'] } });
    await e.start();
    e.decide(input);
    const rec = lines.find((l) => l.msg === 'decision') as { input: typeof input; erased: string[] };
    expect(rec.erased).toEqual(['/message/headers/authorization', '/identity/chain']);
    expect(rec.input.message.headers).toEqual({});
    expect('chain' in rec.input.identity).toBe(false);
    expect(rec.input.message.call_id).toBe(input.message.call_id);
    expect(input.message.headers.authorization).toEqual(['Digest secret']); // caller's object untouched
  });

  it('fills in 403 Forbidden when the policy denies without a reject', async () => {
    const file = join(dir, 'deny.tar.gz');
    await writeFile(file, await bundleOf(constDecisionModule({ allow: false }), 'rev-d'));
    const e = engine({ source: { type: 'bundle', path: file } });
    await e.start();
    expect(e.decide(input).decision).toEqual({ allow: false, reject: { status: 403, reason: 'Forbidden' } });
  });

  it('loads a tarball written by GNU tar with ./ entry names and nested data', async () => {
    const src = join(dir, 'gnutar');
    await mkdir(join(src, 'sip', 'config'), { recursive: true });
    await writeFile(join(src, 'policy.wasm'), constDecisionModule({ allow: true }));
    await writeFile(join(src, 'sip', 'config', 'data.yaml'), 'domains: [atlanta.example]\n');
    await writeFile(join(src, '.manifest'), JSON.stringify({ revision: 'gnu-1', roots: ['sip'], wasm: [{ entrypoint: 'sip/decision', module: '/policy.wasm' }] }));
    const file = join(dir, 'gnutar.tar.gz');
    execFileSync('tar', ['czf', file, '-C', src, '.']);
    const e = engine({ source: { type: 'bundle', path: file } });
    expect(await e.start()).toMatchObject({ ok: true, info: { revision: 'gnu-1' } });
    expect(e.decide(input).decision.allow).toBe(true);
  });
});

describe('failing closed', () => {
  const cases: Array<[string, Uint8Array, string]> = [
    ['undefined decision', buildConstModule({ entrypoints: { 'sip/decision': { resultSet: [] } } }), 'undefined'],
    ['evaluation error', buildConstModule({ entrypoints: { 'sip/decision': { abort: 'eval_conflict_error: boom' } } }), 'error'],
    ['decision failing the schema', constDecisionModule({ allow: 'yes' }), 'invalid'],
    ['unknown decision field', constDecisionModule({ allow: true, forward: 'anywhere' }), 'invalid'],
    ['reject status out of range', constDecisionModule({ allow: false, reject: { status: 200 } }), 'invalid'],
    ['header injection in alert_info', constDecisionModule({ allow: true, alert_info: ['<x>\r\nVia: evil'] }), 'invalid'],
  ];
  for (const [name, wasm, kind] of cases) {
    it(`${name} rejects with 500 (never allows)`, async () => {
      const file = join(dir, `fail-${kind}-${Math.random().toString(16).slice(2)}.tar.gz`);
      await writeFile(file, await bundleOf(wasm, 'r'));
      const { logger, lines } = captureLogger();
      const e = engine({ source: { type: 'bundle', path: file }, decisionLog: { logger } });
      expect((await e.start()).ok).toBe(true);
      const r = e.decide(input);
      expect(r.decision).toEqual({ allow: false, reject: { status: 500, reason: 'Policy Error' } });
      expect(r.failure?.kind).toBe(kind);
      expect(lines.find((l) => l.msg === 'decision')).toMatchObject({ failure: { kind }, decision: { allow: false } });
    });
  }

  it('uses the configured status and reason', async () => {
    const file = join(dir, 'fail-conf.tar.gz');
    await writeFile(file, await bundleOf(buildConstModule({ entrypoints: { 'sip/decision': { resultSet: [] } } }), 'r'));
    const e = engine({ source: { type: 'bundle', path: file }, failClosed: { status: 503, reason: 'Policy Unavailable' } });
    await e.start();
    expect(e.decide(input).decision).toEqual({ allow: false, reject: { status: 503, reason: 'Policy Unavailable' } });
  });

  it('rejects everything when no policy could be loaded', async () => {
    const e = engine({ source: { type: 'bundle', path: join(dir, 'missing.tar.gz') } });
    const r = await e.start();
    expect(r.ok).toBe(false);
    expect(e.decide(input)).toMatchObject({ decision: { allow: false, reject: { status: 500 } }, failure: { kind: 'no_policy' } });
  });

  it('refuses a module without the configured entrypoint', async () => {
    const file = join(dir, 'other-ep.tar.gz');
    await writeFile(file, await writeBundle({ manifest: { revision: 'x' }, data: {}, modules: [], wasm: [{ path: 'policy.wasm', bytes: constDecisionModule({ allow: true }, 'other/rule') }] }));
    const e = engine({ source: { type: 'bundle', path: file } });
    const r = await e.start();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/no entrypoint sip\/decision/);
  });
});

describe('reload', () => {
  it('swaps atomically and keeps the last good policy when a reload fails', async () => {
    const file = join(dir, 'reload.tar.gz');
    await writeFile(file, await bundleOf(constDecisionModule({ allow: true, log: { v: 1 } }), 'good-1'));
    const loads: boolean[] = [];
    const e = engine({ source: { type: 'bundle', path: file }, onLoad: (r) => loads.push(r.ok) });
    await e.start();
    expect(e.decide(input).decision.log).toEqual({ v: 1 });

    // Broken archive, module missing its entrypoint, manifest naming a missing module: all refused.
    const bad: Buffer[] = [
      Buffer.from('not a gzip'),
      await writeBundle({ manifest: { revision: 'bad-2' }, data: {}, modules: [], wasm: [{ path: 'policy.wasm', bytes: constDecisionModule({ allow: true }, 'x/y') }] }),
      await writeBundle({ manifest: { revision: 'bad-3', wasm: [{ entrypoint: 'sip/decision', module: '/gone.wasm' }] }, data: {}, modules: [], wasm: [] }),
      Buffer.concat([await bundleOf(constDecisionModule({ allow: true }), 'bad-4')]).subarray(0, 100),
    ];
    for (const b of bad) {
      await writeFile(file, b);
      const r = await e.reload();
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.info?.revision).toBe('good-1');
      expect(e.decide(input)).toMatchObject({ revision: 'good-1', decision: { allow: true, log: { v: 1 } } });
    }

    // While a good reload is in progress, decisions still come from the old snapshot.
    await writeFile(file, await bundleOf(constDecisionModule({ allow: false, reject: { status: 488, reason: 'Not Here' } }), 'good-2'));
    const pending = e.reload();
    expect(e.decide(input).revision).toBe('good-1');
    expect(await pending).toMatchObject({ ok: true, changed: true, info: { revision: 'good-2' } });
    expect(e.decide(input)).toMatchObject({ revision: 'good-2', decision: { allow: false, reject: { status: 488 } } });
    expect(loads).toEqual([true, false, false, false, false, true]);
  });

  it('a reload of an unchanged bundle keeps the policy in force without loading it again', async () => {
    const file = join(dir, 'same.tar.gz');
    await writeFile(file, await bundleOf(constDecisionModule({ allow: true }), 'same-1'));
    const e = engine({ source: { type: 'bundle', path: file } });
    await e.start();
    const before = e.info;
    expect(await e.reload()).toMatchObject({ ok: true, changed: false, info: { revision: 'same-1' } });
    expect(e.info).toBe(before); // the same snapshot, not a new one with the same revision
    expect(e.unchangedLoads).toBe(1);
    // same manifest revision, other bytes: loaded
    await writeFile(file, await bundleOf(constDecisionModule({ allow: false }), 'same-1'));
    expect((await e.reload()).ok).toBe(true);
    expect(e.info).not.toBe(before);
    expect(e.decide(input).decision.allow).toBe(false);
    expect(e.unchangedLoads).toBe(1);
  });

  it('prepare() loads off to the side; commit() puts it in force, with its new source', async () => {
    const a = join(dir, 'prep-a.tar.gz');
    const b = join(dir, 'prep-b.tar.gz');
    await writeFile(a, await bundleOf(constDecisionModule({ allow: true, log: { from: 'a' } }), 'prep-a'));
    await writeFile(b, await bundleOf(constDecisionModule({ allow: true, log: { from: 'b' } }), 'prep-b'));
    const e = engine({ source: { type: 'bundle', path: a } });
    await e.start();
    const p = await e.prepare({ type: 'bundle', path: b });
    expect(p.ok).toBe(true);
    expect(e.decide(input).decision.log).toEqual({ from: 'a' });
    if (p.ok) expect(e.commit(p)).toMatchObject({ ok: true, changed: true, info: { revision: 'prep-b' } });
    expect(e.decide(input).decision.log).toEqual({ from: 'b' });
    expect(e.policySource).toEqual({ type: 'bundle', path: b });
    // a source that fails to load is refused before anything changes
    const bad = await e.prepare({ type: 'bundle', path: join(dir, 'missing.tar.gz') });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toMatch(/missing\.tar\.gz/);
    expect(e.decide(input).decision.log).toEqual({ from: 'b' });
  });

  it('sets bundle data on the new module before it goes live', async () => {
    const file = join(dir, 'data.tar.gz');
    await writeFile(file, await bundleOf(constDecisionModule({ allow: true }), 'd1', { sip: { tags: { yealink: 'Bellcore-dr4' } } }));
    const e = engine({ source: { type: 'bundle', path: file } });
    expect((await e.start()).ok).toBe(true);
  });
});

describe('bundle URL with ETag polling', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('sends If-None-Match, keeps the policy on 304, swaps on a new bundle and survives bad ones', async () => {
    let body = await bundleOf(constDecisionModule({ allow: true, log: { gen: 1 } }), 'url-1');
    let etag = '"v1"';
    let status = 200;
    const seen: IncomingHttpHeaders[] = [];
    server = createServer((req, res) => {
      seen.push(req.headers);
      if (status !== 200) {
        res.writeHead(status).end();
      } else if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ETag: etag }).end();
      } else {
        res.writeHead(200, { ETag: etag, 'Content-Type': 'application/gzip' }).end(body);
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const e = engine({ source: { type: 'url', url: `http://127.0.0.1:${port}/bundles/sip`, pollIntervalMs: 3_600_000, headers: { Authorization: 'Bearer t0k' } } });

    expect(await e.start()).toMatchObject({ ok: true, info: { revision: 'url-1' } });
    expect(seen[0]!['if-none-match']).toBeUndefined();
    expect(seen[0]!.authorization).toBe('Bearer t0k');

    expect(await e.reload()).toMatchObject({ ok: true, changed: false });
    expect(seen[1]!['if-none-match']).toBe('"v1"');

    // A corrupt bundle under a new ETag is refused; the ETag stays, so it is fetched again next time.
    body = Buffer.from('garbage');
    etag = '"v2"';
    expect((await e.reload()).ok).toBe(false);
    expect(e.decide(input)).toMatchObject({ revision: 'url-1', decision: { log: { gen: 1 } } });
    await e.reload();
    expect(seen[3]!['if-none-match']).toBe('"v1"');

    // Server errors keep the policy too.
    status = 503;
    expect((await e.reload()).ok).toBe(false);
    expect(e.decide(input).revision).toBe('url-1');

    status = 200;
    body = await bundleOf(constDecisionModule({ allow: true, log: { gen: 3 } }), 'url-3');
    etag = '"v3"';
    expect(await e.reload()).toMatchObject({ ok: true, changed: true, info: { revision: 'url-3' } });
    expect(e.decide(input).decision.log).toEqual({ gen: 3 });
    expect(await e.reload()).toMatchObject({ ok: true, changed: false });
    expect(seen.at(-1)!['if-none-match']).toBe('"v3"');
  });

  it('fails closed when the first download fails', async () => {
    server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const e = engine({ source: { type: 'url', url: `http://127.0.0.1:${port}/b`, pollIntervalMs: 3_600_000 } });
    const r = await e.start();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/HTTP 404/);
    expect(e.decide(input).decision.allow).toBe(false);
  });
});

describe.skipIf(!ready)('folder of .rego files (needs the compiler)', () => {
  it('compiles at start and on reload, keeping the last good policy on a compile error', async () => {
    const pdir = join(dir, 'rego');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'decision.rego'), 'package sip\n\ndecision := {"allow": input.message.method == "OPTIONS"}\n');
    await writeFile(join(pdir, 'data.yaml'), 'sip_config: {x: 1}\n');
    const e = engine({ source: { type: 'dir', path: pdir } });
    const r = await e.start();
    expect(r.ok).toBe(true);
    expect(e.decide({ message: { method: 'OPTIONS' } }).decision).toEqual({ allow: true });
    expect(e.decide({ message: { method: 'INVITE' } }).decision).toEqual({ allow: false, reject: { status: 403, reason: 'Forbidden' } });
    const rev = e.info!.revision;

    await writeFile(join(pdir, 'decision.rego'), 'package sip\n\ndecision := {"allow": x}\n');
    const bad = await e.reload();
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join('\n')).toMatch(/decision\.rego:3:\d+: rego_unsafe_var_error/);
    expect(e.info!.revision).toBe(rev);
    expect(e.decide({ message: { method: 'OPTIONS' } }).decision.allow).toBe(true);

    await writeFile(join(pdir, 'decision.rego'), 'package sip\n\ndecision := {"allow": true, "log": data.sip_config}\n');
    expect(await e.reload()).toMatchObject({ ok: true, changed: true });
    expect(e.decide({}).decision).toEqual({ allow: true, log: { x: 1 } });

    // unchanged sources and data: not compiled again
    const info = e.info;
    expect(await e.reload()).toMatchObject({ ok: true, changed: false });
    expect(e.info).toBe(info);
    expect(e.unchangedLoads).toBe(1);
    // changed data: compiled and loaded
    await writeFile(join(pdir, 'data.yaml'), 'sip_config: {x: 2}\n');
    expect(await e.reload()).toMatchObject({ ok: true, changed: true });
    expect(e.decide({}).decision).toEqual({ allow: true, log: { x: 2 } });
  });

  it('print() with policy.print: output to the log at debug with file:line; erased without it', async () => {
    const pdir = join(dir, 'rego-print');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'decision.rego'), 'package sip\n\ndecision := {"allow": true} if {\n\tprint("method", input.message.method, input.nope)\n}\n');
    const { logger, lines } = captureLogger('debug');
    const e = engine({ source: { type: 'dir', path: pdir }, print: true, logger });
    expect((await e.start()).ok).toBe(true);
    lines.length = 0;
    expect(e.decide({ message: { method: 'BYE' } }).decision).toEqual({ allow: true });
    expect(lines).toEqual([expect.objectContaining({ level: 20, line: `${join(pdir, 'decision.rego')}:4`, msg: 'method BYE <undefined>' })]);
    const quiet = captureLogger('debug');
    const off = engine({ source: { type: 'dir', path: pdir }, logger: quiet.logger });
    expect((await off.start()).ok).toBe(true);
    quiet.lines.length = 0;
    off.decide({ message: { method: 'BYE' } });
    expect(quiet.lines).toEqual([]);
  });

  it('a builtin failing on bad input rejects the message instead of dropping a deny check', async () => {
    const pdir = join(dir, 'rego-strict');
    await mkdir(pdir, { recursive: true });
    await writeFile(
      join(pdir, 'decision.rego'),
      'package sip\n\ndeny contains "evil" if startswith(input.message.from.user, "evil")\n\ndecision := {"allow": count(deny) == 0}\n',
    );
    const e = engine({ source: { type: 'dir', path: pdir } });
    expect((await e.start()).ok).toBe(true);
    expect(e.decide({ message: { from: { user: 'alice' } } }).decision).toEqual({ allow: true });
    expect(e.decide({ message: { from: { user: 'evil-eve' } } }).decision.allow).toBe(false);
    // OPA's default would make startswith(42, ...) undefined, the deny empty and the message allowed.
    const r = e.decide({ message: { from: { user: 42 } } });
    expect(r.decision).toMatchObject({ allow: false, reject: { status: 500 } });
    expect(r.failure).toMatchObject({ kind: 'error', message: expect.stringMatching(/eval_type_error: startswith/) });
  });
});
