// The example policies, tested the way their authors run them: `bastion policy test policies/`
// through the CLI (same compiled-WASM path as the gateway), with 100 % coverage required; their
// fixtures must follow the input schemas; and the gateway engine loading this folder must answer
// schema-valid decisions.
import { describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createRequire } from 'node:module';
import { bastion } from '../src/cli/testing/run-cli.js';
import { PolicyEngine } from '../src/policy/engine.js';
import { compilerReady } from '../src/policy/testing/compiler-ready.js';

const ready = await compilerReady();
const here = (p: string) => new URL(p, import.meta.url).pathname;

const identities = JSON.parse(await readFile(here('./fixtures/identities.json'), 'utf8')).identities as Record<string, Record<string, unknown>>;
const messages = JSON.parse(await readFile(here('./fixtures/messages.json'), 'utf8')).messages as Record<string, Record<string, unknown>>;

function tlsIn(identity: string, message: string): Record<string, unknown> {
  const id = identities[identity]!;
  return {
    direction: 'inbound',
    transport: 'tls',
    connection: {
      local: { address: '127.0.0.1', port: 5061, domain: 'default' },
      remote: { address: '127.0.0.1', port: (id.remote as { port: number }).port },
      stats: { flow: { last_second: 1, last_minute: 1 }, identity: { last_second: 1, last_minute: 1 } },
    },
    identity: id,
    message: messages[message],
  };
}

describe('policy fixtures', () => {
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js').default;
  const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const s of ['identity', 'sip-message', 'input']) ajv.addSchema(require(`../schemas/${s}.schema.json`));
  const validate = (id: string, v: unknown) => {
    const f = ajv.getSchema(`https://sip-bastion.example/schemas/${id}.schema.json`)!;
    return f(v) ? null : ajv.errorsText(f.errors);
  };

  it('identity documents follow identity.schema.json', () => {
    expect(Object.keys(identities).length).toBeGreaterThanOrEqual(10);
    for (const [name, doc] of Object.entries(identities)) expect(validate('identity', doc), name).toBeNull();
  });

  it('messages follow sip-message.schema.json', () => {
    for (const [name, doc] of Object.entries(messages)) expect(validate('sip-message', doc), name).toBeNull();
  });

  it('the complete input documents of docs/policies.md follow input.schema.json', async () => {
    const doc = await readFile(here('../docs/policies.md'), 'utf8');
    for (const name of ['invite', 'response']) {
      const m = new RegExp(`<!-- input: ${name} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
      expect(m, name).not.toBeNull();
      expect(validate('input', JSON.parse(m![1]!)), name).toBeNull();
    }
  });

  it('the inputs the tests build follow input.schema.json', () => {
    expect(validate('input', tlsIn('fed_a_sbc', 'invite_atlanta_to_biloxi'))).toBeNull();
    const { identity: _drop, ...udp } = { ...tlsIn('fed_a_sbc', 'options_to_gateway'), transport: 'udp' };
    expect(validate('input', udp)).toBeNull();
    expect(validate('input', { ...udp, transport: 'tls' })).toMatch(/identity/); // TLS needs an identity
    const { stats: _none, ...noStats } = udp.connection as Record<string, unknown>;
    expect(validate('input', { ...udp, connection: noStats })).toMatch(/stats/); // the gateway always counts
  });
});

describe.skipIf(!ready)('example policies (needs the compiler)', () => {
  it('bastion policy test policies/ passes every test', async () => {
    const r = await bastion('policy', 'test', here('.'));
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/FAIL|ERROR/);
    const m = /^PASS: (\d+)\/(\d+)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(m![2]);
    expect(Number(m![1])).toBeGreaterThanOrEqual(40);
    expect(r.code).toBe(0);
  });

  it('bastion policy test --coverage reports 100 % for every file', async () => {
    const r = await bastion('policy', 'test', here('.'), '--coverage', '--threshold', '100', '-v');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { coverage: number; not_covered_lines: number; files: Record<string, { coverage?: number }> };
    expect(report.not_covered_lines).toBe(0);
    expect(report.coverage).toBe(100);
    expect(Object.keys(report.files).filter((f) => f.endsWith('.rego') && !f.endsWith('_test.rego')).length).toBeGreaterThanOrEqual(11);
  });

  it('the gateway engine loads policies/ and gives schema-valid decisions', async () => {
    const engine = new PolicyEngine({ source: { type: 'dir', path: here('.') } });
    expect((await engine.start()).ok).toBe(true);
    const call = engine.decide(tlsIn('fed_a_sbc', 'invite_atlanta_to_biloxi'));
    expect(call.failure).toBeUndefined();
    expect(call.decision).toMatchObject({ allow: true, alert_info: ['<http://www.notused.com>;info=alert-internal'], client_domain: 'fedB' });
    const forged = engine.decide(tlsIn('rogue_peer', 'invite_atlanta_to_biloxi'));
    expect(forged.failure).toBeUndefined();
    expect(forged.decision.allow).toBe(false);
    expect(forged.decision.reject?.status).toBe(403);
    const fromMismatch = engine.decide(tlsIn('fed_a_sbc', 'invite_from_other_domain'));
    expect(fromMismatch.decision).toMatchObject({ allow: false, reject: { status: 403, reason: 'From Not Covered By Certificate' } });
    // the partner's rate, from the gateway's request counts (data.yaml: atlanta may send 200/s)
    const busy = tlsIn('fed_a_sbc', 'invite_atlanta_to_biloxi');
    (busy.connection as { stats: unknown }).stats = { flow: { last_second: 1, last_minute: 1 }, identity: { last_second: 201, last_minute: 201 } };
    expect(engine.decide(busy).decision).toMatchObject({ allow: false, reject: { status: 503, reason: 'Partner Rate Exceeded' } });
    // the documented inputs decide as docs/policies.md says: the call is tagged, the 200 OK relayed
    const doc = await readFile(here('../docs/policies.md'), 'utf8');
    const documented = (name: string) => JSON.parse(new RegExp(`<!-- input: ${name} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``).exec(doc)![1]!) as Record<string, unknown>;
    expect(engine.decide(documented('invite')).decision).toMatchObject({ allow: true, alert_info: ['<http://www.notused.com>;info=alert-internal'] });
    expect(engine.decide(documented('response')).decision.allow).toBe(true);
  });
});

describe.skipIf(!ready)('replaying a recorded decision log against the next version of the example policy', () => {
  it('bastion policy replay shows what the change would change, by kind and by example; exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bastion-replay-'));
    try {
      // 1. The gateway's engine on today's policies/, logging every decision with its input.
      const logFile = join(dir, 'decisions.log');
      const dest = pino.destination({ dest: logFile, sync: true });
      const engine = new PolicyEngine({ source: { type: 'dir', path: here('.') }, decisionLog: { logger: pino({ level: 'info' }, dest), input: true, mask: ['/message/headers/authorization'] } });
      expect((await engine.start()).ok).toBe(true);
      const traffic: Array<[string, string]> = [
        ['fed_a_sbc', 'invite_atlanta_to_biloxi'],
        ['fed_a_sbc', 'invite_from_other_domain'],
        ['rogue_peer', 'invite_atlanta_to_biloxi'],
        ['fed_a_sbc', 'options_to_gateway'],
      ];
      const live = traffic.map(([id, msg]) => engine.decide(tlsIn(id, msg)));
      engine.close();
      dest.flushSync();

      // 2. Tomorrow's version: a new ring tone for Polycom phones, and trusted calls only from the company CA.
      const next = join(dir, 'next');
      await cp(here('.'), next, { recursive: true, filter: (src) => !src.endsWith('.test.ts') });
      const data = (await readFile(join(next, 'data.yaml'), 'utf8'))
        .replace('polycom: "<http://www.notused.com>;info=alert-internal"', 'polycom: "<http://ring.example/polycom-v2.wav>"')
        .replace('scenarios: [federation, hosted, trusted_call, from_binding, unverified, routing, partner_rate]', 'scenarios: [enterprise, federation, hosted, trusted_call, from_binding, unverified, routing, partner_rate]');
      await writeFile(join(next, 'data.yaml'), data);

      const r = await bastion('policy', 'replay', '--log', logFile, '--policy', next, '-f', 'json');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(2);
      const report = JSON.parse(r.stdout) as { decisions: number; replayed: number; changed: number; by_kind: Record<string, number>; examples: Array<{ decision_id: string; changes: string[]; before: unknown; after: { allow: boolean; reject?: { status: number } } }> };
      expect(report).toMatchObject({ decisions: traffic.length, replayed: traffic.length });
      // FedA peers are not company-CA peers: enterprise (S1) now rejects the call that was allowed
      const allowedBefore = live.filter((d) => d.decision.allow).length;
      expect(allowedBefore).toBeGreaterThan(0);
      expect(report.by_kind.allow_to_reject).toBe(allowedBefore);
      // ... and answers the others with its own rejection (Certificate Not Trusted)
      expect(report.by_kind.reject_changed).toBe(traffic.length - allowedBefore);
      expect(report.changed).toBe(traffic.length);
      const first = report.examples[0]!;
      expect(first.decision_id).toBe(live[0]!.decision_id);
      expect(first.before).toEqual(live[0]!.decision);
      expect(first.after).toMatchObject({ allow: false, reject: { status: 403 } });

      // Only the ring tone: the allowed call keeps going, with the new Alert-Info.
      await writeFile(join(next, 'data.yaml'), data.replace('scenarios: [enterprise, ', 'scenarios: ['));
      const tone = await bastion('policy', 'replay', '--log', logFile, '--policy', next);
      expect(tone.code).toBe(2);
      expect(tone.stdout).toMatch(/CHANGES:\n {2}alert_info_changed: 1\n/);
      expect(tone.stdout).toContain('after:  {"alert_info":["<http://ring.example/polycom-v2.wav>"],"allow":true');

      // The same policy changes nothing.
      const same = await bastion('policy', 'replay', '--log', logFile, '--policy', here('.'));
      expect(same.code).toBe(0);
      expect(same.stdout).toMatch(/replayed: 4, skipped \(no input\): 0, changed: 0\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
