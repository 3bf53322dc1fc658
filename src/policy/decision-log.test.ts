// The decision line: built by hand for a plain pino logger (the gateway's), through pino itself for
// any other. Both must give the same record.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino, type Logger } from 'pino';
import { writeRecord, writeRecordFromFields, buildRecord, handBuiltLines, keepDecision, maskPlan } from './decision-log.js';
import type { DecisionLogFields } from './encoded-input.js';

const base = {
  decision_id: 'abc-1',
  path: 'sip/decision',
  revision: 'r"1',
  source: undefined,
  decision: { allow: false, reject: { status: 403, reason: 'Forbidden \u2028 "x"' }, alert_info: ['<http://a>'] },
  failure: undefined,
  eval_ns: 12345,
};
const fields = (): DecisionLogFields => ({
  direction: 'inbound',
  method: 'INVITE',
  status: undefined,
  request_uri: 'sip:bob@biloxi.example',
  call_id: 'c\\1',
  from: { peer: { subject: 'CN=sbc.atlanta.example,O=FedA', issuer: 'CN=Root', verified: true, presented: true, address: '127.0.0.1' }, local_domain: 'fedA' },
});
const input = {
  direction: 'inbound',
  connection: { local: { domain: 'fedA' }, remote: { address: '127.0.0.1' } },
  identity: { subject: { string: 'CN=sbc.atlanta.example,O=FedA' }, issuer: { string: 'CN=Root' }, verified: true, presented: true },
  message: { method: 'INVITE', ruri: { uri: 'sip:bob@biloxi.example' }, call_id: 'c\\1' },
};

function capture(opts: Parameters<typeof pino>[0] = {}) {
  const raw: string[] = [];
  const logger = pino({ level: "info", ...opts }, { write: (s: string) => void raw.push(s) }) as unknown as Logger;
  return { logger, raw };
}

const strip = (line: string) => {
  const { time: _t, timestamp: _s, ...rest } = JSON.parse(line) as Record<string, unknown>;
  return rest;
};

describe('decision log line', () => {
  afterEach(() => void vi.useRealTimers());

  it('hand-built for plain pino: the same record as the object path writes through pino', () => {
    const fast = capture();
    writeRecordFromFields({ logger: fast.logger }, base, fields());
    const slow = capture();
    writeRecord({ logger: slow.logger }, buildRecord(base, input, {}));
    expect(fast.raw).toHaveLength(1);
    expect(fast.raw[0]!.endsWith('}\n')).toBe(true);
    const a = strip(fast.raw[0]!);
    const b = strip(slow.raw[0]!);
    expect(a).toEqual(b);
    expect(new Date(JSON.parse(fast.raw[0]!).timestamp as string).getTime()).toBe(JSON.parse(fast.raw[0]!).time);
  });

  it('byte for byte what pino writes for the same record through a child logger', () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T18:00:00.123Z') });
    const fast = capture();
    expect(handBuiltLines(fast.logger.child({ a: 1 }))).toBe(true);
    const f = fields();
    writeRecordFromFields({ logger: fast.logger }, base, f);
    const slow = capture();
    slow.logger.child({ peer: f.from.peer, local_domain: f.from.local_domain }).info(
      { decision_id: base.decision_id, timestamp: new Date().toISOString(), path: base.path, revision: base.revision, source: base.source, decision: base.decision, failure: base.failure, eval_ns: base.eval_ns, direction: f.direction, method: f.method, status: f.status, request_uri: f.request_uri, call_id: f.call_id },
      'decision',
    );
    expect(fast.raw[0]).toBe(slow.raw[0]);
  });

  it('honours the level: nothing is written when info is off', () => {
    const c = capture({ level: 'warn' });
    writeRecordFromFields({ logger: c.logger }, base, fields());
    expect(c.raw).toHaveLength(0);
  });

  it('goes through pino when the logger is not plain (a mixin here)', () => {
    const c = capture({ mixin: () => ({ node: 'gw-1' }) });
    expect(handBuiltLines(c.logger.child({ a: 1 }))).toBe(false);
    writeRecordFromFields({ logger: c.logger }, base, fields());
    expect(JSON.parse(c.raw[0]!).node).toBe('gw-1');
    expect(JSON.parse(c.raw[0]!).decision).toEqual(base.decision);
  });
});

describe('masked summary fields', () => {
  it('a mask pointer into a summary field\'s source erases the field, on both paths, and says so', () => {
    const mask = ['/message/ruri/user', '/identity/subject', '/identity/chain'];
    const fast = capture();
    writeRecordFromFields({ logger: fast.logger, mask }, base, fields());
    const slow = capture();
    writeRecord({ logger: slow.logger }, buildRecord(base, input, { mask }));
    const a = strip(fast.raw[0]!);
    expect(a).toEqual(strip(slow.raw[0]!));
    expect(a.request_uri).toBeUndefined();
    expect(a.call_id).toBe('c\\1');
    expect(a.peer).toEqual({ issuer: 'CN=Root', verified: true, presented: true, address: '127.0.0.1' });
    // /identity/chain erased nothing of the line (the input is not logged)
    expect(a.erased).toEqual(['/message/ruri/user', '/identity/subject']);
    expect(fast.raw[0]).not.toContain('sbc.atlanta.example');
    expect(fast.raw[0]).not.toContain('bob@biloxi');
  });

  it('with the input logged, erased lists what left the input or the summary', () => {
    const rec = buildRecord(base, input, { input: true, mask: ['/connection/remote', '/message/nothing'] });
    expect(rec.erased).toEqual(['/connection/remote']);
    expect(rec.peer.address).toBeUndefined();
    expect((rec.input as { connection: Record<string, unknown> }).connection.remote).toBeUndefined();
  });

  it('a covering pointer (a parent of the source) erases the field too', () => {
    expect(maskPlan(['/identity']).fields).toEqual(new Set(['peer.subject', 'peer.issuer']));
    expect(maskPlan(['/message']).fields).toEqual(new Set(['request_uri', 'call_id']));
    expect(maskPlan(['/message/headers/authorization']).fields.size).toBe(0);
  });
});

describe('sampling allowed decisions per method', () => {
  it('keeps every rejection and failure, and allowed decisions at the method\'s rate, a call kept or dropped whole', () => {
    const opts = { sample: { OPTIONS: 0, INVITE: 0.25, '*': 1 } };
    expect(keepDecision(opts, 'OPTIONS', 'x', true)).toBe(false);
    expect(keepDecision(opts, 'OPTIONS', 'x', false)).toBe(true);
    expect(keepDecision(opts, 'BYE', 'x', true)).toBe(true);
    const ids = Array.from({ length: 4000 }, (_, i) => `call-${i}@host`);
    const kept = ids.filter((id) => keepDecision(opts, 'INVITE', id, true));
    expect(kept.length / ids.length).toBeGreaterThan(0.2);
    expect(kept.length / ids.length).toBeLessThan(0.3);
    // deterministic per Call-ID: the same call is kept every time
    expect(ids.filter((id) => keepDecision(opts, 'INVITE', id, true))).toEqual(kept);
    expect(keepDecision({}, 'INVITE', 'y', true)).toBe(true);
  });
});
