// Test support: evaluates one DirectCall against the host builtins and says whether OPA's
// expectation holds.
import { isDeepStrictEqual } from 'node:util';
import { BuiltinError } from '../errors.js';
import { toPlain } from '../json-out.js';
import type { BuiltinTable } from '../types.js';
import type { DirectCall } from './conformance-calls.js';

export function runDirect(call: DirectCall, table: BuiltinTable): { ok: boolean; detail: string } {
  const fn = table[call.builtin];
  if (!fn) return { ok: false, detail: `no host builtin ${call.builtin}` };
  let r: unknown;
  let thrown: unknown;
  try {
    r = fn(...call.args);
    if (r instanceof ArrayBuffer) r = JSON.parse(new TextDecoder().decode(r));
  } catch (err) {
    thrown = err;
  }
  const e = call.expect;
  if (e.error) {
    if (!(thrown instanceof BuiltinError)) return { ok: false, detail: `wanted ${e.error.code}, got ${thrown ? String(thrown) : JSON.stringify(r)}` };
    if (e.error.code && thrown.code !== e.error.code) return { ok: false, detail: `wanted ${e.error.code}, got ${thrown.message}` };
    if (e.error.text && !thrown.message.includes(e.error.text)) return { ok: false, detail: `wanted text "${e.error.text}", got "${thrown.message}"` };
    return { ok: true, detail: '' };
  }
  if (thrown !== undefined) {
    // OPA's default (non-strict) evaluation turns a builtin error into undefined.
    const undef = e.undefined || (call.kind === 'bool' && e.value === false);
    const ok = undef && thrown instanceof BuiltinError && thrown.code === 'eval_builtin_error';
    return { ok, detail: `threw ${thrown instanceof Error ? thrown.message : String(thrown)}` };
  }
  const got = toPlain(r);
  if (call.observe === 'truthy') {
    const success = r !== undefined && r !== false;
    return { ok: success === e.value, detail: `got ${JSON.stringify(got)}` };
  }
  if (call.observe === 'equals') {
    const success = r !== undefined && isDeepStrictEqual(got, call.expectedEquals);
    return { ok: success === e.value, detail: `got ${JSON.stringify(got)}, compared with ${JSON.stringify(call.expectedEquals)}` };
  }
  if (r === undefined) return { ok: !!e.undefined, detail: 'got undefined' };
  if (e.undefined) return { ok: false, detail: `wanted undefined, got ${JSON.stringify(got)}` };
  return { ok: isDeepStrictEqual(normalize(got), normalize(e.value)), detail: `got ${JSON.stringify(got)}, want ${JSON.stringify(e.value)}` };
}

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normalize((v as Record<string, unknown>)[k])]));
  return v;
}
