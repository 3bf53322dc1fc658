// The encoded policy input (per-flow constant parts spliced around the message JSON) against the
// object path: byte-identical JSON, identical decisions and decision-log lines from the engine.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parseMessage } from '../sip/parser.js';
import { PolicyEngine } from '../policy/engine.js';
import { EncodedInput } from '../policy/encoded-input.js';
import type { PeerIdentity } from '../tls/index.js';
import { compilerReady } from '../policy/testing/compiler-ready.js';
import { encodePolicyInput, policyInput } from './input.js';
import type { Flow } from './flow.js';

const ids = JSON.parse(readFileSync(new URL('../../policies/fixtures/identities.json', import.meta.url), 'utf8')).identities as Record<string, PeerIdentity>;

function flow(transport: Flow['transport'], identity?: PeerIdentity, domain?: string): Flow {
  return {
    id: 1,
    transport,
    reliable: transport !== 'udp',
    local: { address: '127.0.0.1', port: 5061, ...(domain ? { domain } : {}) },
    remote: { address: '127.0.0.1', port: 40001 },
    identity,
    send() {},
    closed: false,
    close() {},
  };
}

const invite = (from = 'Alice <sip:alice@atlanta.example>;tag=9fxced76sl', extra: string[] = []) =>
  parseMessage(
    Buffer.from(
      [
        'INVITE sip:bob@biloxi.example SIP/2.0',
        'Via: SIP/2.0/TLS sip.atlanta.example:5061;branch=z9hG4bK74bf9',
        'Max-Forwards: 70',
        `From: ${from}`,
        'To: Bob <sip:bob@biloxi.example>',
        'Call-ID: a84b4c76e66710@pc33.atlanta.example',
        'CSeq: 314159 INVITE',
        'Contact: <sip:alice@pc33.atlanta.example>',
        'Alert-Info: <http://forged.example/ring.wav>',
        ...extra,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  );
const ok200 = parseMessage(
  Buffer.from(
    [
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/TLS sip.atlanta.example:5061;branch=z9hG4bK74bf9',
      'From: Alice <sip:alice@atlanta.example>;tag=9fxced76sl',
      'To: Bob <sip:bob@biloxi.example>;tag=8321234356',
      'Call-ID: a84b4c76e66710@pc33.atlanta.example',
      'CSeq: 314159 INVITE',
      'Contact: <sip:bob@192.0.2.4>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ),
);

const text = (e: EncodedInput) => Buffer.from(e.bytes).toString('utf8');

describe('encodePolicyInput', () => {
  // identity with non-ASCII text and characters JSON escapes
  const odd = structuredClone(ids['fed_a_sbc']!) as PeerIdentity & { subject: { string: string } };
  odd.subject.string = 'CN=Bücher "✓" \\ \u2028, O=FedA';
  const cases: Array<[string, Flow]> = [
    ['TLS flow with identity', flow('tls', ids['fed_a_sbc'], 'biloxi.example')],
    ['TLS flow, identity with non-ASCII and escaped characters', flow('tls', odd, 'biloxi.example')],
    ['TCP flow (no identity in the input)', flow('tcp')],
    ['UDP flow', flow('udp')],
  ];
  for (const [name, f] of cases) {
    it(`gives exactly JSON.stringify(policyInput(...)): ${name}`, () => {
      for (const msg of [invite(), invite('"Zoë \\"Z\\" Ü" <sip:zo%C3%AB@atlanta.example>;tag=1', ['X-Note: café ☕', 'X-Quote: a "b" \\c']), ok200]) {
        for (const dir of ['inbound', 'outbound'] as const) {
          const e = encodePolicyInput(f, msg, dir);
          expect(text(e)).toBe(JSON.stringify(policyInput(f, msg, dir)));
          expect(e.bytes.byteLength).toBe(Buffer.byteLength(JSON.stringify(policyInput(f, msg, dir))));
          expect(e.toObject()).toEqual(JSON.parse(JSON.stringify(policyInput(f, msg, dir))));
        }
      }
    });
  }

  it('carries the decision-log fields of the message and the flow', () => {
    const f = flow('tls', ids['fed_a_sbc'], 'biloxi.example');
    const r = encodePolicyInput(f, invite()).log;
    expect(r).toMatchObject({ direction: 'inbound', method: 'INVITE', request_uri: 'sip:bob@biloxi.example', call_id: 'a84b4c76e66710@pc33.atlanta.example', status: undefined });
    expect(r.from).toMatchObject({ peer: { subject: ids['fed_a_sbc']!.subject!.string, verified: ids['fed_a_sbc']!.verified, presented: true, address: '127.0.0.1' }, local_domain: 'biloxi.example' });
    const s = encodePolicyInput(f, ok200).log;
    expect(s).toMatchObject({ method: 'INVITE', status: 200, request_uri: undefined });
    expect(s.from).toBe(r.from); // encoded once per flow
  });
});

const ready = await compilerReady();

describe.skipIf(!ready)('engine: encoded input and object input decide alike', () => {
  it('same decisions and the same decision-log lines (but for id, time and latency)', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const policies = fileURLToPath(new URL('../../policies/', import.meta.url));
    const e = new PolicyEngine({ source: { type: 'dir', path: policies }, decisionLog: { logger } });
    const r = await e.start();
    expect(r.ok).toBe(true);
    const flows = [flow('tls', ids['fed_a_sbc'], 'default'), flow('tls', ids['rogue_peer'], 'default'), flow('tls', ids['fed_b_sbc'], 'default'), flow('tcp')];
    const msgs = [invite(), invite('Mallory <sip:mallory@evil.example>;tag=2'), ok200];
    const seen = new Set<string>();
    const strip = (l: Record<string, unknown>) => {
      const { decision_id: _a, timestamp: _b, eval_ns: _c, time: _d, ...rest } = l;
      return rest;
    };
    for (const f of flows) {
      for (const m of msgs) {
        lines.length = 0;
        const a = e.decide(policyInput(f, m));
        const b = e.decide(encodePolicyInput(f, m));
        expect(b.decision).toEqual(a.decision);
        expect(b.failure).toEqual(a.failure);
        expect(b.decision_id).not.toBe(a.decision_id);
        seen.add(JSON.stringify(a.decision));
        const [la, lb] = lines.filter((l) => l.msg === 'decision');
        expect(strip(lb!)).toEqual(strip(la!));
      }
    }
    // the cases are not all alike: allowed and rejected decisions both compared
    expect(seen.size).toBeGreaterThan(1);
    e.close();
  });

  it('logs the input from the bytes when input logging is on', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const policies = fileURLToPath(new URL('../../policies/', import.meta.url));
    const e = new PolicyEngine({ source: { type: 'dir', path: policies }, decisionLog: { logger, input: true, mask: ['/identity/chain'] } });
    await e.start();
    const f = flow('tls', ids['fed_a_sbc'], 'default');
    e.decide(encodePolicyInput(f, invite()));
    const rec = lines.find((l) => l.msg === 'decision') as { input: { message: { call_id: string }; identity: object }; erased: string[] };
    expect(rec.input.message.call_id).toBe('a84b4c76e66710@pc33.atlanta.example');
    expect('chain' in rec.input.identity).toBe(false);
    expect(rec.erased).toEqual(['/identity/chain']);
    e.close();
  });
});
