// Test support: one vitest case per direct-call conformance case of the given topics.
import { expect, it } from 'vitest';
import { directCalls } from './conformance-calls.js';
import { runDirect } from './run-direct.js';
import { hostBuiltins, HOST_BUILTIN_ARITY } from '../host.js';

/** Registers the cases and returns how many were found (callers assert a floor, so a parser regression is seen). */
export function conformanceCases(topics: string[], known: Record<string, string> = {}, options: { errorText?: boolean } = {}): number {
  const calls = directCalls(topics, HOST_BUILTIN_ARITY);
  for (const call of calls) {
    if (known[call.note] !== undefined) {
      it.skip(`conformance: ${call.note} — known limit: ${known[call.note]}`, () => {});
      continue;
    }
    it(`conformance: ${call.note} [${call.builtin}]`, () => {
      const r = runDirect(options.errorText === false && call.expect.error ? { ...call, expect: { error: { code: call.expect.error.code } } } : call, hostBuiltins);
      expect(r.ok, r.detail).toBe(true);
    });
  }
  return calls.length;
}
