// Response decisions reused per connection, only as the policy declares it
// (data.bastion.response_decision): evaluated once per connection and direction, reused with
// `reused_from` in the decision log, evaluated again after a reload, checked every VERIFY_EVERY
// reuses (a declaration the policy does not keep turns reuse off, loudly); requests never reused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyEngine } from './engine.js';
import { EncodedInput, type InputScope } from './encoded-input.js';
import { responseDecisionScope, VERIFY_EVERY } from './response-reuse.js';
import { compilerReady } from './testing/compiler-ready.js';
import { captureLogger } from './testing/capture-logger.js';

const ready = await compilerReady();

// honest for responses: decided by the peer's name alone; a liar's reason names the status
const POLICY = `package sip

decision := {"allow": false, "reject": {"status": 403, "reason": reason}}

reason := sprintf("%s %d", [input.identity.name, input.message.status]) if data.liar
else := input.identity.name
`;

function scope(name: string): InputScope {
  return { tail: Buffer.from(`,"identity":${JSON.stringify({ name })}}`), peer: { peer: { subject: name, verified: true, presented: true } } };
}

function response(s: InputScope, status: number, direction = 'inbound'): EncodedInput {
  const head = Buffer.from(`{"direction":${JSON.stringify(direction)},"transport":"tls","message":`);
  return EncodedInput.parts(head, JSON.stringify({ kind: 'response', status }), s, { direction, method: 'INVITE', status, call_id: 'c1', from: s.peer });
}

function request(s: InputScope): EncodedInput {
  const head = Buffer.from('{"direction":"inbound","transport":"tls","message":');
  return EncodedInput.parts(head, '{"kind":"request","method":"BYE"}', s, { direction: 'inbound', method: 'BYE', call_id: 'c1', from: s.peer });
}

describe('responseDecisionScope', () => {
  it('reads data.bastion.response_decision: per_message by default, an unknown value refused', () => {
    expect(responseDecisionScope({})).toBe('per_message');
    expect(responseDecisionScope({ bastion: { response_decision: 'per_connection' } })).toBe('per_connection');
    expect(responseDecisionScope({ bastion: { response_decision: 'per_message' } })).toBe('per_message');
    expect(() => responseDecisionScope({ bastion: { response_decision: 'per_conection' } })).toThrow(/must be "per_message" or "per_connection"/);
  });
});

describe.skipIf(!ready)('response decisions reused per connection', () => {
  let dir: string;
  const setData = (data: unknown) => writeFile(join(dir, 'data.json'), JSON.stringify(data));
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-reuse-'));
    await writeFile(join(dir, 'decision.rego'), POLICY);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function engineWith(data: unknown) {
    await setData(data);
    const log = captureLogger();
    const engine = new PolicyEngine({ source: { type: 'dir', path: dir }, decisionLog: { logger: log.logger } });
    expect((await engine.start()).ok).toBe(true);
    return { engine, log };
  }

  it('without the declaration, every response is evaluated', async () => {
    const { engine, log } = await engineWith({});
    const a = scope('alpha');
    for (const st of [180, 200, 200]) expect(engine.decide(response(a, st)).eval_ns).toBeGreaterThan(0);
    expect(log.lines.filter((l) => l.msg === 'decision' && 'reused_from' in l)).toEqual([]);
  });

  it('declared: the first response per connection and direction is evaluated, later ones reuse it, logged with reused_from', async () => {
    const { engine, log } = await engineWith({ bastion: { response_decision: 'per_connection' } });
    const a = scope('alpha');
    const b = scope('beta');
    const first = engine.decide(response(a, 180));
    expect(first.eval_ns).toBeGreaterThan(0);
    const again = engine.decide(response(a, 200));
    expect(again.eval_ns).toBe(0);
    expect(again.decision).toEqual(first.decision);
    expect(again.decision_id).not.toBe(first.decision_id);
    // another connection, the other direction, a request: evaluated
    expect(engine.decide(response(b, 200)).decision.reject?.reason).toBe('beta');
    expect(engine.decide(response(a, 200, 'outbound')).eval_ns).toBeGreaterThan(0);
    expect(engine.decide(request(a)).eval_ns).toBeGreaterThan(0);
    expect(engine.decide(request(a)).eval_ns).toBeGreaterThan(0);
    const line = log.lines.find((l) => l.decision_id === again.decision_id)!;
    expect(line).toMatchObject({ msg: 'decision', reused_from: first.decision_id, eval_ns: 0, status: 200, decision: first.decision });
    // a new revision decides afresh
    await setData({ bastion: { response_decision: 'per_connection' }, other: 1 });
    expect((await engine.reload()).ok).toBe(true);
    expect(engine.decide(response(a, 200)).eval_ns).toBeGreaterThan(0);
    expect(engine.decide(response(a, 200)).eval_ns).toBe(0);
  });

  it('a policy that does not keep the declaration is caught by the periodic check: error logged, reuse off', async () => {
    const { engine, log } = await engineWith({ bastion: { response_decision: 'per_connection' }, liar: true });
    const a = scope('alpha');
    expect(engine.decide(response(a, 180)).decision.reject?.reason).toBe('alpha 180');
    let evaluated = 0;
    for (let k = 0; k < VERIFY_EVERY + 4; k++) if (engine.decide(response(a, 200)).eval_ns > 0) evaluated++;
    expect(evaluated).toBe(1 + 4); // the check, then every one after it
    expect(log.lines.find((l) => l.level === 50)?.msg).toMatch(/declares response decisions per connection .* got different decisions/);
    expect(engine.decide(response(a, 486)).decision.reject?.reason).toBe('alpha 486');
  });

  it('a declaration the gateway does not know fails the load', async () => {
    await setData({ bastion: { response_decision: 'sometimes' } });
    const engine = new PolicyEngine({ source: { type: 'dir', path: dir } });
    const r = await engine.start();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.join()).toMatch(/data\.bastion\.response_decision: must be/);
  });
});
