// emitWasm end to end: hand-built IR -> module -> the official SDK, on both of its paths.
import { describe, it, expect, beforeAll } from 'vitest';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type * as ir from '../ir/types.js';
import { emitWasm, WasmCompileError } from './index.js';
import { L, S, B, planPolicy } from './test-helpers.js';

type Policy = Awaited<ReturnType<typeof loadPolicy>>;

async function load(p: ir.Policy, custom: Record<string, (...a: unknown[]) => unknown> = {}): Promise<Policy> {
  return loadPolicy(await emitWasm(p), undefined, custom as never);
}

/** Evaluates on the fast path (opa_eval) and the slow path (eval + ctx) and checks they agree. */
function both(policy: Policy, input?: unknown): unknown {
  const fast = policy.evaluate(input as object);
  (policy as unknown as { minorVersion: number }).minorVersion = 1;
  try {
    const slow = policy.evaluate(input as object);
    expect(slow).toEqual(fast);
  } finally {
    (policy as unknown as { minorVersion: number }).minorVersion = 2;
  }
  return fast;
}

// allow := input.user == "alice"; msg := sprintf("hello %s", [input.user])
const decision: ir.Policy = {
  static: { strings: ['user', 'alice', 'allow', 'msg', 'hello %s', 'result'], builtinFuncs: [{ name: 'sprintf', arity: 2 }], files: [] },
  plans: [{ name: 'sip/decision', blocks: [{ stmts: [
    { type: 'CallStmt', func: 'g0.data.allow', args: [L(0), L(1)], result: 2 },
    { type: 'MakeObjectStmt', target: 3 },
    { type: 'ObjectInsertStmt', object: 3, key: S(2), value: L(2) },
    { type: 'BlockStmt', blocks: [{ stmts: [
      { type: 'MakeArrayStmt', capacity: 1, target: 4 },
      { type: 'DotStmt', source: L(0), key: S(0), target: 5 },
      { type: 'ArrayAppendStmt', array: 4, value: L(5) },
      { type: 'CallStmt', func: 'sprintf', args: [S(4), L(4)], result: 6 },
      { type: 'ObjectInsertStmt', object: 3, key: S(3), value: L(6) },
    ] }] },
    { type: 'MakeObjectStmt', target: 7 },
    { type: 'ObjectInsertStmt', object: 7, key: S(5), value: L(3) },
    { type: 'ResultSetAddStmt', value: 7 },
  ] }] }],
  funcs: [{ name: 'g0.data.allow', params: [0, 1], return: 2, path: ['g0', 'allow'], blocks: [
    { stmts: [{ type: 'AssignVarStmt', source: B(false), target: 2 }] },
    { stmts: [
      { type: 'DotStmt', source: L(0), key: S(0), target: 3 },
      { type: 'EqualStmt', a: L(3), b: S(1) },
      { type: 'AssignVarStmt', source: B(true), target: 2 },
    ] },
    { stmts: [{ type: 'ReturnLocalStmt', source: 2 }] },
  ] }],
};

describe('emitWasm + SDK', () => {
  let policy: Policy;
  beforeAll(async () => {
    policy = await load(decision);
  });

  it('exposes the ABI the SDK reads', async () => {
    const mod = new WebAssembly.Module(await emitWasm(decision) as Uint8Array<ArrayBuffer>);
    const exports = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
    expect(exports).toEqual(expect.arrayContaining([
      'builtins', 'entrypoints', 'eval', 'opa_eval', 'opa_eval_ctx_get_result', 'opa_eval_ctx_new', 'opa_eval_ctx_set_data',
      'opa_eval_ctx_set_entrypoint', 'opa_eval_ctx_set_input', 'opa_heap_ptr_get', 'opa_heap_ptr_set', 'opa_json_dump',
      'opa_json_parse', 'opa_malloc', 'opa_free', 'opa_value_dump', 'opa_value_parse', 'opa_value_add_path',
      'opa_value_remove_path', 'opa_wasm_abi_version', 'opa_wasm_abi_minor_version',
    ]));
    expect(exports.filter((n) => n.startsWith('__rt_'))).toEqual([]);
    const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`).sort();
    // All five host-builtin imports are always present (the SDK supplies them), so that a
    // policy's host builtins never shift the runtime's function indices (template.ts).
    expect(imports).toEqual(['env.memory', 'env.opa_abort', 'env.opa_builtin0', 'env.opa_builtin1', 'env.opa_builtin2', 'env.opa_builtin3', 'env.opa_builtin4']);
    expect(policy.minorVersion).toBe(2);
    expect(policy.entrypoints).toEqual({ 'sip/decision': 0 });
  });

  it('evaluates on both paths, including a host builtin (sprintf)', () => {
    expect(both(policy, { user: 'alice' })).toEqual([{ result: { allow: true, msg: 'hello alice' } }]);
    expect(both(policy, { user: 'bob' })).toEqual([{ result: { allow: false, msg: 'hello bob' } }]);
    expect(policy.evaluate({ user: 'alice' }, 'sip/decision')).toEqual([{ result: { allow: true, msg: 'hello alice' } }]);
  });

  it('treats undefined and empty input as undefined', () => {
    expect(both(policy, undefined)).toEqual([{ result: { allow: false } }]);
    expect(both(policy, {})).toEqual([{ result: { allow: false } }]);
  });

  it('reads input as an ArrayBuffer and handles unicode', () => {
    const buf = new TextEncoder().encode(JSON.stringify({ user: 'ålîçe 😀 "q" \\ \u2028' })).buffer;
    expect(policy.evaluate(buf as ArrayBuffer)).toEqual([{ result: { allow: false, msg: 'hello ålîçe 😀 "q" \\ \u2028' } }]);
  });

  it('takes an input over 1 MB', () => {
    const big = { user: 'alice', blob: 'x'.repeat(1_200_000), list: Array.from({ length: 20000 }, (_, i) => ({ i, s: `v${i}` })) };
    expect(both(policy, big)).toEqual([{ result: { allow: true, msg: 'hello alice' } }]);
  });

  it('keeps the heap pointer stable across 1000 evaluations', () => {
    const exportsOf = (policy as unknown as { wasmInstance: WebAssembly.Instance }).wasmInstance.exports;
    const heap = () => (exportsOf.opa_heap_ptr_get as () => number)();
    policy.evaluate({ user: 'alice' });
    (policy as unknown as { minorVersion: number }).minorVersion = 1;
    policy.evaluate({ user: 'alice' });
    const after1 = heap();
    for (let i = 0; i < 1000; i++) policy.evaluate({ user: i % 2 ? 'alice' : 'bob' });
    expect(heap()).toBe(after1);
    (policy as unknown as { minorVersion: number }).minorVersion = 2;
    const mem = (policy as unknown as { mem: WebAssembly.Memory }).mem;
    const size = mem.buffer.byteLength;
    for (let i = 0; i < 1000; i++) policy.evaluate({ user: 'bob' });
    expect(mem.buffer.byteLength).toBe(size);
  });
});

describe('data, setData and statements', () => {
  it('reads data set with setData, on both paths', async () => {
    // result := data.users[input.name].role
    const p = await load(planPolicy(['users', 'name', 'role'], [
      { type: 'DotStmt', source: L(1), key: S(0), target: 10 },
      { type: 'DotStmt', source: L(0), key: S(1), target: 11 },
      { type: 'DotStmt', source: L(10), key: L(11), target: 12 },
      { type: 'DotStmt', source: L(12), key: S(2), target: 2 },
    ]));
    expect(both(p, { name: 'ann' })).toEqual([]);
    p.setData({ users: { ann: { role: 'admin' }, bob: { role: 'guest' } } });
    expect(both(p, { name: 'ann' })).toEqual([{ result: 'admin' }]);
    expect(both(p, { name: 'bob' })).toEqual([{ result: 'guest' }]);
    expect(both(p, { name: 'eve' })).toEqual([]);
  });

  it('scans objects in key order, with not, and builds sets', async () => {
    // result := {k | input[k] > 1; not k == "b"}
    const p = await load(planPolicy(['b'], [
      { type: 'MakeSetStmt', target: 2 },
      { type: 'MakeNumberIntStmt', value: 1, target: 20 },
      { type: 'ScanStmt', source: 0, key: 10, value: 11, block: { stmts: [
        { type: 'CallStmt', func: 'gt', args: [L(11), L(20)], result: 12 },
        { type: 'EqualStmt', a: L(12), b: B(true) },
        { type: 'NotStmt', block: { stmts: [{ type: 'EqualStmt', a: L(10), b: S(0) }] } },
        { type: 'SetAddStmt', set: 2, value: L(10) },
      ] } },
    ], {}, [{ name: 'gt', arity: 2 }]));
    expect(both(p, { d: 5, a: 2, b: 9, c: 0 })).toEqual([{ result: ['a', 'd'] }]);
  });

  it('breaks out of a scan with break 1 and continues with break 0', async () => {
    // first array element > 2, scanning in order: result = that element
    const p = await load(planPolicy([], [
      { type: 'MakeNumberIntStmt', value: 2, target: 20 },
      { type: 'ScanStmt', source: 0, key: 10, value: 11, block: { stmts: [
        { type: 'BlockStmt', blocks: [{ stmts: [
          { type: 'CallStmt', func: 'gt', args: [L(11), L(20)], result: 12 },
          { type: 'EqualStmt', a: L(12), b: B(false) },
          { type: 'BreakStmt', index: 1 }, // element <= 2: continue the scan
        ] }] },
        { type: 'AssignVarStmt', source: L(11), target: 2 },
        { type: 'BreakStmt', index: 1 }, // found: leave the scan
      ] } },
      { type: 'IsDefinedStmt', source: 2 },
    ], {}, [{ name: 'gt', arity: 2 }]));
    expect(both(p, [1, 2, 7, 9])).toEqual([{ result: 7 }]);
    expect(both(p, [1, 2])).toEqual([]);
  });

  it('applies with on input and restores it after the block', async () => {
    // result := [f(input) with input.a.b as "x", input.a]
    const f: ir.Func = { name: 'g0.data.f', params: [0, 1], return: 5, path: ['g0', 'f'], blocks: [
      { stmts: [{ type: 'DotStmt', source: L(0), key: S(0), target: 6 }, { type: 'DotStmt', source: L(6), key: S(1), target: 5 }] },
      { stmts: [{ type: 'ReturnLocalStmt', source: 5 }] },
    ] };
    const p = await load(planPolicy(['a', 'b', 'x'], [
      { type: 'MakeArrayStmt', capacity: 2, target: 2 },
      { type: 'WithStmt', local: 0, path: [0, 1], value: S(2), block: { stmts: [
        { type: 'CallStmt', func: 'g0.data.f', args: [L(0), L(1)], result: 10 },
        { type: 'ArrayAppendStmt', array: 2, value: L(10) },
      ] } },
      { type: 'CallStmt', func: 'g0.data.f', args: [L(0), L(1)], result: 11 },
      { type: 'ArrayAppendStmt', array: 2, value: L(11) },
    ], { funcs: [f] }));
    expect(both(p, { a: { b: 'orig', c: 1 } })).toEqual([{ result: ['x', 'orig'] }]);
  });

  it('dispatches CallDynamicStmt by path', async () => {
    // result := data.pkg[input.which]
    const mk = (name: string, value: number): ir.Func => ({ name, params: [0, 1], return: 3, path: ['g0', 'pkg', name], blocks: [
      { stmts: [{ type: 'MakeNumberIntStmt', value, target: 3 }] },
      { stmts: [{ type: 'ReturnLocalStmt', source: 3 }] },
    ] });
    const p = await load(planPolicy(['g0', 'pkg', 'which'], [
      { type: 'DotStmt', source: L(0), key: S(2), target: 10 },
      { type: 'BlockStmt', blocks: [{ stmts: [
        { type: 'BlockStmt', blocks: [
          { stmts: [
            { type: 'CallDynamicStmt', args: [0, 1], path: [S(0), S(1), L(10)], result: 2 },
            { type: 'BreakStmt', index: 1 },
          ] },
          { stmts: [{ type: 'MakeNumberIntStmt', value: -1, target: 2 }, { type: 'BreakStmt', index: 1 }] },
        ] },
      ] }] },
    ], { funcs: [mk('a', 1), mk('b', 2)] }));
    expect(both(p, { which: 'b' })).toEqual([{ result: 2 }]);
    expect(both(p, { which: 'a' })).toEqual([{ result: 1 }]);
    expect(both(p, { which: 'zzz' })).toEqual([{ result: -1 }]);
  });

  it('merges objects and inserts keys once', async () => {
    const p = await load(planPolicy(['a', 'b'], [
      { type: 'DotStmt', source: L(0), key: S(0), target: 10 },
      { type: 'DotStmt', source: L(0), key: S(1), target: 11 },
      { type: 'ObjectMergeStmt', a: 10, b: 11, target: 2 },
    ]));
    expect(both(p, { a: { x: 1, n: { p: 1 } }, b: { y: 2, x: 3, n: { q: 2 } } })).toEqual([{ result: { x: 1, y: 2, n: { p: 1, q: 2 } } }]);
  });
});

describe('errors', () => {
  it('reports conflicts with OPA codes and messages', async () => {
    // complete rule assigned twice with different values
    const p = await load(planPolicy([], [
      { type: 'ScanStmt', source: 0, key: 10, value: 11, block: { stmts: [{ type: 'AssignVarOnceStmt', source: L(11), target: 2 }] } },
    ]));
    expect(both(p, [1, 1])).toEqual([{ result: 1 }]);
    expect(() => p.evaluate([1, 2])).toThrow('eval_conflict_error: complete rules must not produce multiple outputs');
    const q = await load(planPolicy(['k'], [
      { type: 'MakeObjectStmt', target: 2 },
      { type: 'ScanStmt', source: 0, key: 10, value: 11, block: { stmts: [{ type: 'ObjectInsertOnceStmt', object: 2, key: S(0), value: L(11) }] } },
    ]));
    expect(both(q, [3, 3])).toEqual([{ result: { k: 3 } }]);
    expect(() => q.evaluate([3, 4])).toThrow('eval_conflict_error: object keys must be unique');
  });

  it('turns bad IR into compile errors, never a crash', async () => {
    const bad = planPolicy([], [{ type: 'BreakStmt', index: 7 }]);
    await expect(emitWasm(bad)).rejects.toBeInstanceOf(WasmCompileError);
    await expect(emitWasm(planPolicy([], [{ type: 'CallStmt', func: 'nope', args: [], result: 2 }]))).rejects.toThrow(/undefined function/);
    await expect(emitWasm(planPolicy([], [{ type: 'DotStmt', source: L(0), key: S(99), target: 2 }]))).rejects.toThrow(/out of range/);
    await expect(emitWasm({ static: { strings: [], builtinFuncs: [], files: [] }, plans: [], funcs: [] } as ir.Policy)).resolves.toBeInstanceOf(Uint8Array);
    // still healthy afterwards
    const ok = await load(planPolicy([], [{ type: 'MakeNumberIntStmt', value: 3, target: 2 }]));
    expect(ok.evaluate({})).toEqual([{ result: 3 }]);
  });

  it('hands unknown builtins to customBuiltins', async () => {
    const p = await load(planPolicy([], [{ type: 'CallStmt', func: 'my.double', args: [L(0)], result: 2 }], {}, [{ name: 'my.double', arity: 1 }]),
      { 'my.double': (x: unknown) => (x as number) * 2 });
    expect(both(p, 21)).toEqual([{ result: 42 }]);
  });

  it('asks the host once per evaluation for the same builtin call, except side-effecting builtins', async () => {
    const calls: string[] = [];
    const custom = {
      'my.tag': (x: unknown, y: unknown) => { calls.push(`tag ${JSON.stringify([x, y])}`); return `${JSON.stringify(x)}/${JSON.stringify(y)}`; },
      'my.none': (x: unknown) => { calls.push(`none ${JSON.stringify(x)}`); return undefined; },
      'internal.print': (x: unknown) => { calls.push(`print ${JSON.stringify(x)}`); return true; },
    };
    // my.tag("a", [input]) twice with equal but distinct arrays, once with other args; my.none(input)
    // twice (an undefined answer is remembered too); internal.print([input]) twice.
    const arr = (t: number): ir.Stmt[] => [{ type: 'MakeArrayStmt', capacity: 1, target: t }, { type: 'ArrayAppendStmt', array: t, value: L(0) }];
    const p = await load(planPolicy(['a', 'b'], [
      ...arr(10), ...arr(11),
      { type: 'CallStmt', func: 'my.tag', args: [S(0), L(10)], result: 12 },
      { type: 'CallStmt', func: 'my.tag', args: [S(0), L(11)], result: 13 },
      { type: 'CallStmt', func: 'my.tag', args: [S(1), L(11)], result: 14 },
      { type: 'NotStmt', block: { stmts: [{ type: 'CallStmt', func: 'my.none', args: [L(0)], result: 15 }] } },
      { type: 'NotStmt', block: { stmts: [{ type: 'CallStmt', func: 'my.none', args: [L(0)], result: 15 }] } },
      { type: 'CallStmt', func: 'internal.print', args: [L(10)], result: 16 },
      { type: 'CallStmt', func: 'internal.print', args: [L(11)], result: 16 },
      { type: 'MakeArrayStmt', capacity: 3, target: 2 },
      { type: 'ArrayAppendStmt', array: 2, value: L(12) },
      { type: 'ArrayAppendStmt', array: 2, value: L(13) },
      { type: 'ArrayAppendStmt', array: 2, value: L(14) },
    ], {}, [{ name: 'my.tag', arity: 2 }, { name: 'my.none', arity: 1 }, { name: 'internal.print', arity: 1 }]), custom);
    const once = ['tag ["a",[7]]', 'tag ["b",[7]]', 'none 7', 'print [7]', 'print [7]'];
    expect(both(p, 7)).toEqual([{ result: ['"a"/[7]', '"a"/[7]', '"b"/[7]'] }]);
    expect(calls).toEqual([...once, ...once]); // fast path, then slow path: each evaluation asks afresh
    calls.length = 0;
    expect(p.evaluate(8)).toEqual([{ result: ['"a"/[8]', '"a"/[8]', '"b"/[8]'] }]);
    expect(calls).toEqual(once.map((c) => c.replace('7', '8')));
  });

  it('produces an optimized module with the same behaviour', async () => {
    const p = await loadPolicy(await emitWasm(decision, { optimize: true }));
    expect(both(p, { user: 'alice' })).toEqual([{ result: { allow: true, msg: 'hello alice' } }]);
  });
});
