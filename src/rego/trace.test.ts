// Trace instrumentation (compile({trace: true})): rule enter/exit/leave and expression
// eval/success/leave events through the host, every call reaching the host (never answered from
// the per-evaluation builtin memory), and the nodes described with the user's variable names.
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from './toolchain.js';
import { hostBuiltins } from './builtins/host.js';
import { TRACE_KINDS } from './trace.js';

describe('trace instrumentation', () => {
  it('events in evaluation order, an expression without a result left without success', async () => {
    const source = `package t
test_n[x] if {
  some x in ["foo", "bar"]
  not f(x)
}
f(x) if x == "foo"
`;
    const out = await compile({ modules: [{ file: 't.rego', source }], entrypoints: ['t/test_n'], trace: true });
    expect(out.errors).toEqual([]);
    const kinds = ['enter', 'exit', 'leave-rule', 'eval', 'success', 'leave'];
    const events: string[] = [];
    const policy = await loadPolicy(out.wasm!, undefined, {
      ...hostBuiltins,
      'internal.bastion_trace': (code: number, values: unknown) => {
        const n = out.trace![Math.floor(code / TRACE_KINDS)]!;
        events.push(`${kinds[code % TRACE_KINDS]} ${n.text}${Array.isArray(values) && values.length ? ' ' + JSON.stringify(values) : ''}`);
        return true;
      },
    });
    expect(policy.evaluate({}, 't/test_n')).toEqual([{ result: { bar: true } }]);
    const fIn = (x: string, ok: boolean) => ['enter data.t.f', `eval x = "foo" ["${x}"]`, ...(ok ? ['success x = "foo"', 'exit data.t.f'] : []), 'leave x = "foo"', 'leave-rule data.t.f'];
    expect(events.slice(events.indexOf('eval not data.t.f(x) ["foo"]'))).toEqual([
      'eval not data.t.f(x) ["foo"]',
      ...fIn('foo', true),
      'leave not data.t.f(x)', // no success: `not` failed for "foo"
      'success x = __local4__[__local0__]',
      'eval not data.t.f(x) ["bar"]',
      ...fIn('bar', false), // the same calls again: they reach the host every time
      'success not data.t.f(x)',
      'exit data.t.test_n',
      'leave not data.t.f(x)',
      'leave x = __local4__[__local0__]',
      'leave __local4__ = ["foo", "bar"]',
      'leave-rule data.t.test_n',
    ]);
    const node = out.trace!.find((n) => n.text === 'not data.t.f(x)')!;
    expect(node).toMatchObject({ kind: 'expr', location: { file: 't.rego', row: 4, col: 3, text: 'not f(x)' }, vars: [{ name: 'x', at: [{ row: 4, col: 9, text: 'x' }] }] });
  });
});
