// Builtin errors in the linked module (OPA's StrictBuiltinErrors), through compile() and the
// official SDK on both of its paths. Off (OPA's default), a runtime builtin's type or builtin
// error makes its call undefined and evaluation goes on; on, the first such error is raised
// once evaluation is over (OPA's topdown: query.go reports e.builtinErrors.errs[0]).
// Conflict errors abort at once in both modes. Every case runs on modules with and without
// the WASM exception-handling proposal (CompileOptions.exceptionHandling).
import { describe, it, expect } from 'vitest';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../index.js';

type Policy = Awaited<ReturnType<typeof loadPolicy>>;

for (const exceptionHandling of [true, false]) {
  describe(exceptionHandling ? 'with exception handling' : 'without exception handling', () => {
    async function build(source: string, strict: boolean, entrypoint = 't'): Promise<Policy> {
      const r = await compile({ modules: [{ file: 't.rego', source: `package t\n\n${source}\n` }], entrypoints: [entrypoint], strictBuiltinErrors: strict, exceptionHandling });
      expect(r.errors).toEqual([]);
      return loadPolicy(r.wasm!);
    }

    /** Result (or `{error}`) on the fast path, checked equal on the slow path (eval + ctx calls). */
    function run(policy: Policy, input?: unknown): unknown {
      const once = () => {
        try {
          const rs = policy.evaluate(input as object) as Array<{ result?: unknown }>;
          return rs.length === 0 ? undefined : rs[0]!.result;
        } catch (err) {
          return { error: typeof err === 'string' ? err : err instanceof Error ? err.message : String(err) };
        }
      };
      const fast = once();
      (policy as unknown as { minorVersion: number }).minorVersion = 1;
      try {
        expect(once()).toEqual(fast);
      } finally {
        (policy as unknown as { minorVersion: number }).minorVersion = 2;
      }
      return fast;
    }

    const COUNT = 'x := count(input.n)\ny := "after"\nz if not startswith(input.s, "a")';

    describe('builtin errors, OPA default (not strict)', () => {
      it('make the failing call undefined and evaluation goes on', async () => {
        const p = await build(COUNT, false);
        expect(run(p, { n: [1, 2], s: 'b' })).toEqual({ x: 2, y: 'after', z: true });
        // count(4) and startswith(4, "a") are undefined: x is missing, `not` succeeds
        expect(run(p, { n: 4, s: 4 })).toEqual({ y: 'after', z: true });
      });

      it('covers builtin errors as well as type errors (division by zero, bad regex)', async () => {
        const p = await build('d := input.a / input.b\nm := base64.decode(input.b64)\nok := true', false);
        expect(run(p, { a: 1, b: 0, b64: '!!' })).toEqual({ ok: true });
        expect(run(p, { a: 1, b: 2, b64: 'eA==' })).toEqual({ d: 0.5, m: 'x', ok: true });
      });

      it('strings.any_prefix_match type errors are undefined', async () => {
        const p = await build('r := strings.any_prefix_match(input.s, input.p)', false, 't/r');
        expect(run(p, { s: 1, p: 'a' })).toBeUndefined();
        expect(run(p, { s: 'ab', p: 2 })).toBeUndefined();
        expect(run(p, { s: 'ab', p: ['x', 'a'] })).toBe(true);
      });

      it('a mock function calling the original builtin gets undefined for its error', async () => {
        const p = await build('f(x) := count(x)\nr := y if { y := count([1]) with count as f }\nq := 1 if { count(input.four) with count as f }\ns := 2', false);
        expect(run(p, { four: 4 })).toEqual({ r: 1, s: 2 });
      });

      it('conflict errors still abort', async () => {
        const p = await build('r := input.a\nr := input.b\nc := count(input.a)', false);
        expect(run(p, { a: 1, b: 2 })).toEqual({ error: expect.stringContaining('eval_conflict_error: complete rules must not produce multiple outputs') });
        expect(run(p, { a: 1, b: 1 })).toEqual({ r: 1 });
      });
    });

    describe('builtin errors, strict', () => {
      it('raise the first builtin error after evaluation, with OPA text', async () => {
        const p = await build(COUNT, true);
        expect(run(p, { n: [1], s: 'b' })).toEqual({ x: 1, y: 'after', z: true });
        expect(run(p, { n: 4, s: 'b' })).toEqual({ error: 'eval_type_error: count: operand 1 must be one of {array, object, set, string} but got number' });
      });

      it('report the first of several errors, and nothing of it is left for the next evaluation', async () => {
        const p = await build('a := input.x / 0\nb := count(input.x)\nc := 3', true);
        expect(run(p, { x: 1 })).toEqual({ error: 'eval_builtin_error: div: divide by zero' });
        const q = await build('a := count(input.x)\nb := input.y / 0\nc := 3', true);
        expect(run(q, { x: 1, y: 1 })).toEqual({ error: expect.stringContaining('eval_type_error: count: operand 1') });
        expect(run(q, { x: [], y: 1 })).toEqual({ error: 'eval_builtin_error: div: divide by zero' });
        const ok = await build('a := count(input.x)\nc := 3', true);
        expect(run(ok, { x: 1 })).toEqual({ error: expect.stringContaining('eval_type_error') });
        expect(run(ok, { x: [1, 2] })).toEqual({ a: 2, c: 3 });
      });

      it('a conflict found after a builtin error wins, as in OPA (the error of the run itself)', async () => {
        const p = await build('a := count(input.x)\nr := input.a\nr := input.b', true);
        expect(run(p, { x: 4, a: 1, b: 2 })).toEqual({ error: expect.stringContaining('eval_conflict_error') });
        expect(run(p, { x: 4, a: 1, b: 1 })).toEqual({ error: expect.stringContaining('eval_type_error: count') });
      });

      it('enumerating virtual documents: undefined when not strict, the deferred error when strict', async () => {
        // OPA's topdown under StrictBuiltinErrors gives both the results ({"b": {"c": {}}}: the
        // failing rule is undefined) and the error; through the SDK only one can come back
        const modules = [
          { file: 'a.rego', source: 'package e.a.b.c\n\np := x if { x := input.one / input.zero }\n' },
          { file: 'c.rego', source: 'package e.caller\n\np[x] := y if { data.e.a[x] = y }\n' },
        ];
        const outcome = async (strict: boolean) => {
          const r = await compile({ modules, entrypoints: ['e/caller/p'], strictBuiltinErrors: strict, exceptionHandling });
          expect(r.errors).toEqual([]);
          return run(await loadPolicy(r.wasm!), { one: 1, zero: 0 });
        };
        expect(await outcome(false)).toEqual({ b: { c: {} } });
        expect(await outcome(true)).toEqual({ error: 'eval_builtin_error: div: divide by zero' });
      });

      it('a builtin error outside any builtin call aborts in both modes', async () => {
        // comparing numbers whose exponents the runtime refuses to expand: raised by value
        // comparison, not by a builtin, so no call can be undefined
        for (const strict of [false, true]) {
          const p = await build('r if input.a == input.b', strict, 't/r');
          const input = new TextEncoder().encode('{"a": 1e2000000000, "b": 1e-2000000000}').buffer as ArrayBuffer;
          expect(run(p, input), String(strict)).toEqual({ error: 'eval_builtin_error: number too large' });
        }
      });
    });
  });
}
