// The conformance ratchet: OPA's cases run through our compiler and the official SDK, and the
// pass counts may never drop below test/conformance-ratchet.json (which only goes up).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_TOPICS, defaultSuiteDir, loadCases } from '../src/rego/conformance/cases.js';
import { runCase, tally, type CaseResult } from '../src/rego/conformance/runner.js';
import { createHostBuiltins } from '../src/rego/builtins/host.js';

const ratchet = JSON.parse(readFileSync(new URL('./conformance-ratchet.json', import.meta.url), 'utf8')) as {
  core: number;
  builtins: number;
};
const exclusions = JSON.parse(
  readFileSync(new URL('../src/rego/conformance/exclusions.json', import.meta.url), 'utf8'),
) as Record<string, string>;

const strictSets = new Map([true, false].map((strict) => [strict, createHostBuiltins({ strict }) as Record<string, (...a: unknown[]) => unknown>]));
const hostBuiltins = (strict: boolean) => strictSets.get(strict)!;

describe('OPA conformance ratchet', () => {
  it('passes at least the ratcheted number of core and builtin cases', { timeout: 900_000 }, async () => {
    const cases = loadCases(defaultSuiteDir());
    const results: CaseResult[] = [];
    for (const c of cases) results.push(await runCase(c, { exclusions, hostBuiltins }));
    const core = tally(results.filter((r) => CORE_TOPICS.has(r.topic)));
    const builtins = tally(results.filter((r) => !CORE_TOPICS.has(r.topic)));
    console.log(`conformance: core ${core.passed}/${core.total}, builtins ${builtins.passed}/${builtins.total}`);
    expect(core.passed).toBeGreaterThanOrEqual(ratchet.core);
    expect(builtins.passed).toBeGreaterThanOrEqual(ratchet.builtins);
    // Every visible case is accounted for: none may vanish from the suite unnoticed.
    expect(core.total + builtins.total + core.excluded + builtins.excluded).toBe(cases.length);
  });
});
