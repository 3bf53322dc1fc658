// Test helper for the runtime's builtins: compiles a one-rule policy with our compiler and
// evaluates it through the official SDK (the real path), with the project's host builtins.
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../index.js';
import { hostBuiltins } from '../builtins/host.js';

/**
 * Compiles `package t` + body and evaluates `data.t.r`; returns the result or throws the error
 * text. Strict builtin errors by default, so that a builtin's error text can be checked.
 */
export async function evalRule(body: string, input?: unknown, opts: { strictBuiltinErrors?: boolean } = {}): Promise<unknown> {
  const r = await compile({
    modules: [{ file: 't.rego', source: `package t\n\n${body}\n` }],
    entrypoints: ['t/r'],
    strictBuiltinErrors: opts.strictBuiltinErrors ?? true,
  });
  if (r.errors.length > 0) throw new Error(`compile: ${r.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
  const policy = await loadPolicy(r.wasm!, undefined, hostBuiltins as never);
  let out: Array<{ result?: unknown }>;
  try {
    out = policy.evaluate(input) as Array<{ result?: unknown }>;
  } catch (err) {
    throw new Error(err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err));
  }
  return out.length === 0 ? undefined : out[0]!.result;
}

/** `r := <expr>` evaluated; input is available as `input`. */
export function evalExpr(expr: string, input?: unknown): Promise<unknown> {
  return evalRule(`r := ${expr}`, input);
}
