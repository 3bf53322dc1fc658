// The project's own conformance cases (test/rego-cases/<topic>/*.json, OPA's case format),
// written from OPA's implementation and Go unit tests where the shared suite says little:
// every case passes through the official SDK on both of its paths, error texts included.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createHostBuiltins } from '../src/rego/builtins/host.js';
import { loadCases } from '../src/rego/conformance/cases.js';
import { runCase } from '../src/rego/conformance/runner.js';

const dir = fileURLToPath(new URL('./rego-cases', import.meta.url));
const cases = loadCases(dir);
const sets = new Map([true, false].map((strict) => [strict, createHostBuiltins({ strict }) as Record<string, (...a: unknown[]) => unknown>]));
const hostBuiltins = (strict: boolean) => sets.get(strict)!;

describe('the project\'s conformance cases', () => {
  it('are there', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  for (const slowPath of [false, true]) {
    it(`pass on the SDK's ${slowPath ? 'slow' : 'fast'} path`, { timeout: 600_000 }, async () => {
      const failures: string[] = [];
      for (const c of cases) {
        const r = await runCase(c, { slowPath, hostBuiltins, checkErrorText: true });
        if (r.outcome !== 'passed') failures.push(`${r.note}: ${r.outcome} ${r.detail ?? ''}`);
      }
      expect(failures).toEqual([]);
    });
  }
});
