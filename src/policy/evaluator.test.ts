// The evaluator below the SDK (the module's ABI, input parts, resident identity) against the
// SDK's own evaluate() on the same loaded module: the example policy over every fixture identity ×
// message, both directions, in an order that keeps switching connections, with a resident area
// so small that it is emptied again and again. Every result set must be the same text.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import YAML from 'yaml';
import { compile } from '../rego/index.js';
import { hostBuiltins } from './builtins.js';
import { Evaluator } from './evaluator.js';
import { loadPaths } from './loader.js';
import { compilerReady } from './testing/compiler-ready.js';
import { exampleInput, identities, messages } from './testing/example-inputs.js';
import { buildConstModule } from './testing/const-wasm.js';

const ready = await compilerReady();
const policiesDir = new URL('../../policies/', import.meta.url).pathname;

describe.skipIf(!ready)('Evaluator (module ABI) against the SDK', () => {
  let policy: LoadedPolicy;
  beforeAll(async () => {
    const loaded = await loadPaths([policiesDir], 'bundle');
    const modules = loaded.modules.filter((m) => !m.file.endsWith('_test.rego'));
    const out = await compile({ modules, entrypoints: ['sip/decision'], strictBuiltinErrors: true });
    expect(out.errors).toEqual([]);
    policy = await loadPolicy(out.wasm!, undefined, await hostBuiltins());
    policy.setData(YAML.parse(await readFile(new URL('../../policies/data.yaml', import.meta.url), 'utf8')) as object);
  }, 240_000);

  it('gives the SDK result set for every identity × message × direction, resident tails reused and evicted', () => {
    const sdk = (doc: unknown) => JSON.stringify(policy.evaluate(new TextEncoder().encode(JSON.stringify(doc)).buffer, 'sip/decision'));
    // the SDK first: the evaluator shares the module, and the SDK writes its input where the
    // evaluator keeps resident parts
    const cases = Object.keys(messages).flatMap((m) => Object.keys(identities).flatMap((i) => [exampleInput(i, m, 'inbound'), exampleInput(i, m, 'outbound')]));
    const expected = cases.map((c) => sdk(c.doc));
    expect(new Set(expected).size).toBeGreaterThan(5); // the fixtures reach many different decisions
    // ~3 tails fit: connections come and go, the area is emptied many times
    const ev = new Evaluator(policy, 'sip/decision', 24_000);
    expect(ev.direct).toBe(true);
    // (the module's dump escapes like Go's encoding/json, e.g. < as \u003c; the SDK re-parses it)
    const same = (text: string) => JSON.stringify(JSON.parse(text));
    for (let round = 0; round < 2; round++) {
      cases.forEach((c, k) => expect(same(ev.evaluate(c.encoded())), c.name).toBe(expected[k]));
    }
    expect(ev.residentCount).toBeGreaterThan(0);
    expect(ev.residentCount).toBeLessThan(Object.keys(identities).length);
    // whole documents, as bytes
    cases.slice(0, 20).forEach((c, k) => expect(same(ev.evaluateBytes(Buffer.from(JSON.stringify(c.doc))))).toBe(expected[k]));
  });

  it('refuses input that is not JSON', () => {
    const ev = new Evaluator(policy, 'sip/decision');
    const c = exampleInput('fed_a_sbc', 'invite_atlanta_to_biloxi').encoded();
    expect(() => ev.evaluate({ head: c.head, message: '{"method":', tail: c.tail })).toThrow(/not valid JSON/);
    // and the next evaluation is unharmed
    expect(JSON.parse(ev.evaluate(c))[0].result.allow).toBe(true);
  });
});

describe('Evaluator on a module without the ABI exports it needs', () => {
  it('goes through the SDK', async () => {
    const wasm = buildConstModule({ entrypoints: { 'sip/decision': { resultSet: [{ result: { allow: true } }] } } });
    const policy = await loadPolicy(wasm);
    const ev = new Evaluator(policy, 'sip/decision');
    expect(ev.direct).toBe(false);
    const c = exampleInput('fed_a_sbc', 'invite_atlanta_to_biloxi').encoded();
    expect(ev.evaluate(c)).toBe('[{"result":{"allow":true}}]');
  });
});
