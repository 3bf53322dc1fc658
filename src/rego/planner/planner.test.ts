import { describe, expect, it } from 'vitest';
import type { Body, Expr, Module, Rule, Term } from '../ast/types.js';
import { evalPlan } from '../ir/interp.js';
import type { Block, Policy, Stmt } from '../ir/types.js';
import { PlanError, planPolicy } from './planner.js';

// Hand-built ASTs in the shape the compiler hands over (refs resolved, `==` as `equal`, `:=` as `eq`).
const v = (name: string): Term => ({ value: { type: 'var', value: name } });
const s = (x: string): Term => ({ value: { type: 'string', value: x } });
const n = (x: number): Term => ({ value: { type: 'number', value: String(x) } });
const ref = (head: string, ...rest: Array<string | Term>): Term => ({
  value: { type: 'ref', value: [v(head), ...rest.map((r) => (typeof r === 'string' ? s(r) : r))] },
});
const arr = (...xs: Term[]): Term => ({ value: { type: 'array', value: xs } });
const call = (op: string, ...args: Term[]): Expr => ({ index: 0, negated: false, terms: [ref(op), ...args], with: [] });
const not = (e: Expr): Expr => ({ ...e, negated: true });
const term = (t: Term): Expr => ({ index: 0, negated: false, terms: t, with: [] });
const pkg = (...path: string[]) => ({ path: [v('data'), ...path.map(s)] });

function rule(headRef: Array<string | Term>, opts: { value?: Term; key?: Term; args?: Term[]; body?: Body; default?: boolean; else?: Rule; multi?: boolean } = {}): Rule {
  const reference = headRef.map((r, i) => (typeof r === 'string' ? (i === 0 ? v(r) : s(r)) : r));
  return {
    default: !!opts.default,
    head: { name: typeof headRef[0] === 'string' && headRef.length === 1 ? headRef[0] : '', reference, value: opts.value, key: opts.key, args: opts.args, assign: true, multiValue: opts.multi },
    body: opts.body ?? [term({ value: { type: 'boolean', value: true } })],
    else: opts.else,
  };
}

function mod(path: string[], rules: Rule[]): Module {
  return { package: pkg(...path), imports: [], rules, comments: [] };
}

function plan(modules: Module[], body: Body, bindings: string[] = ['x']): Policy {
  return planPolicy({ modules, queries: [{ name: 'eval', body, bindings: bindings.map((b) => ({ name: b, var: b })), rewrittenVars: new Map() }] });
}

function allStmts(blocks: Block[]): Stmt[] {
  const out: Stmt[] = [];
  const walk = (b: Block) => {
    for (const st of b.stmts) {
      out.push(st);
      if (st.type === 'BlockStmt') st.blocks.forEach(walk);
      if (st.type === 'ScanStmt' || st.type === 'NotStmt' || st.type === 'WithStmt') walk(st.block);
    }
  };
  blocks.forEach(walk);
  return out;
}

describe('planner', () => {
  it('plans a complete rule as function g0.data.test.p and the query as a result-set plan', () => {
    const p = plan([mod(['test'], [rule(['p'], { value: n(1), body: [call('equal', ref('input', 'x'), n(1))] })])], [call('eq', ref('data', 'test', 'p'), v('x'))]);
    expect(p.funcs.map((f) => f.name)).toEqual(['g0.data.test.p']);
    expect(p.funcs[0].path).toEqual(['g0', 'test', 'p']);
    expect(p.static.builtinFuncs).toEqual([{ name: 'equal', arity: 2, result: true }]);
    const plan0 = p.plans[0];
    expect(plan0.name).toBe('eval');
    expect(allStmts(plan0.blocks).map((x) => x.type)).toContain('ResultSetAddStmt');
    expect(evalPlan(p, { x: 1 })).toEqual([{ x: 1 }]);
    expect(evalPlan(p, { x: 2 })).toEqual([]);
  });

  it('merges base and virtual documents for data.test', () => {
    const p = plan([mod(['test'], [rule(['p'], { value: n(7) })])], [call('eq', ref('data', 'test'), v('x'))]);
    expect(evalPlan(p, {}, { test: { q: 1 } })).toEqual([{ x: { p: 7, q: 1 } }]);
    expect(evalPlan(p, {}, {})).toEqual([{ x: { p: 7 } }]);
  });

  it('partial sets, iteration and negation', () => {
    // s contains y if { some y in input.xs (as a scan); not y == 2 }
    const body: Body = [call('eq', ref('input', 'xs', v('$0')), v('y')), not(call('equal', v('y'), n(2)))];
    const p = plan([mod(['t'], [rule(['s'], { key: v('y'), body, multi: true })])], [call('eq', ref('data', 't', 's'), v('x'))]);
    expect(evalPlan(p, { xs: [1, 2, 3, 3] })).toEqual([{ x: [1, 3] }]);
  });

  it('partial objects conflict with eval_conflict_error', () => {
    const body: Body = [call('eq', ref('input', 'xs', v('k')), v('val'))];
    const r = rule(['o', v('k')], { value: n(1), body: [...body, call('eq', v('k2'), v('k'))] });
    const r2 = rule(['o', s('a')], { value: n(2) });
    const p = plan([mod(['t'], [r, r2])], [call('eq', ref('data', 't', 'o'), v('x'))]);
    expect(evalPlan(p, { xs: { b: 0 } })).toEqual([{ x: { a: 2, b: 1 } }]);
    expect(() => evalPlan(p, { xs: { a: 0 } })).toThrow(/eval_conflict_error/);
  });

  it('default and else chains', () => {
    const elseRule = rule(['p'], { value: n(2), body: [call('equal', ref('input', 'y'), n(1))] });
    const main = rule(['p'], { value: n(1), body: [call('equal', ref('input', 'x'), n(1))], else: elseRule });
    const dflt = rule(['p'], { value: n(0), default: true });
    const p = plan([mod(['t'], [main, dflt])], [call('eq', ref('data', 't', 'p'), v('x'))]);
    expect(evalPlan(p, { x: 1, y: 1 })).toEqual([{ x: 1 }]);
    expect(evalPlan(p, { y: 1 })).toEqual([{ x: 2 }]);
    expect(evalPlan(p, {})).toEqual([{ x: 0 }]);
  });

  it('calls user functions (multiple definitions, conflicts) through their data ref', () => {
    const f1 = rule(['f'], { args: [v('a')], value: n(1), body: [call('gt', v('a'), n(0))] });
    const f2 = rule(['f'], { args: [v('a')], value: n(2), body: [call('gt', v('a'), n(5))] });
    const q: Expr = { index: 0, negated: false, terms: [ref('data', 't', 'f'), ref('input', 'a'), v('x')], with: [] };
    const p = plan([mod(['t'], [f1, f2])], [q]);
    expect(p.funcs[0].params.length).toBe(3);
    expect(evalPlan(p, { a: 1 })).toEqual([{ x: 1 }]);
    expect(() => evalPlan(p, { a: 6 })).toThrow(/eval_conflict_error/);
  });

  it('every over a collection', () => {
    const every: Expr = {
      index: 0,
      negated: false,
      with: [],
      terms: { type: 'every', value: v('e'), domain: ref('input', 'xs'), body: [call('gt', v('e'), n(0))] },
    };
    const p = plan([mod(['t'], [rule(['ok'], { value: { value: { type: 'boolean', value: true } }, body: [every] })])], [call('eq', ref('data', 't', 'ok'), v('x'))]);
    expect(evalPlan(p, { xs: [1, 2] })).toEqual([{ x: true }]);
    expect(evalPlan(p, { xs: [1, 0] })).toEqual([]);
    expect(evalPlan(p, { xs: 'nope' })).toEqual([]);
  });

  it('with on input and data re-plans the rules under a new generation', () => {
    const r = rule(['p'], { value: ref('input', 'v') });
    const q: Expr = { ...call('eq', ref('data', 't', 'p'), v('x')), with: [{ target: ref('input', 'v'), value: n(5) }] };
    const p = plan([mod(['t'], [r])], [q]);
    expect(evalPlan(p, { v: 1 })).toEqual([{ x: 5 }]);
    const q2: Expr = { ...call('eq', ref('data', 't', 'p'), v('x')), with: [{ target: ref('data', 't', 'p'), value: n(9) }] };
    const p2 = plan([mod(['t'], [r])], [q2]);
    expect(evalPlan(p2, { v: 1 })).toEqual([{ x: 9 }]);
  });

  it('dynamic dispatch for a ref with a bound var', () => {
    const a = rule(['a'], { value: n(1) });
    const b = rule(['b'], { value: n(2) });
    const q: Body = [call('eq', ref('input', 'k'), v('k')), call('eq', ref('data', 't', v('k')), v('x'))];
    const p = plan([mod(['t'], [a, b])], q, ['x']);
    expect(allStmts(p.plans[0].blocks).some((x) => x.type === 'CallDynamicStmt')).toBe(true);
    expect(evalPlan(p, { k: 'b' })).toEqual([{ x: 2 }]);
    expect(evalPlan(p, { k: 'c' })).toEqual([]);
  });

  it('comprehensions and composite unification', () => {
    const comp: Term = { value: { type: 'arraycomprehension', term: v('y'), body: [call('eq', ref('input', 'xs', v('$1')), v('y'))] } };
    const q: Body = [call('eq', comp, v('c')), call('eq', arr(v('x'), v('$2')), v('c'))];
    const p = plan([], q, ['x']);
    expect(evalPlan(p, { xs: [4, 5] })).toEqual([{ x: 4 }]);
  });

  it('reports an unknown operator as a PlanError', () => {
    expect(() => plan([], [call('no.such_fn', n(1), v('x'))])).toThrow(PlanError);
  });
});

describe('long literals', () => {
  it('plans constant elements without one continuation per element (no stack overflow)', () => {
    // 200k elements: far beyond what one recursive continuation per element could take
    const big: Term = { value: { type: 'array', value: Array.from({ length: 200_000 }, (_, i) => (i % 2 ? n(i) : arr(s(`k${i}`), n(i)))) } };
    const obj: Term = { value: { type: 'object', value: Array.from({ length: 100_000 }, (_, i): [Term, Term] => [s(`k${i}`), n(i)]) } };
    const set: Term = { value: { type: 'set', value: Array.from({ length: 100_000 }, (_, i) => n(i)) } };
    const p = plan([mod(['test'], [rule(['a'], { value: big }), rule(['o'], { value: obj }), rule(['s'], { value: set })])], [
      call('eq', ref('data', 'test', 'a'), v('a')),
      call('eq', ref('data', 'test', 'o'), v('o')),
      call('eq', ref('data', 'test', 's'), v('s')),
    ], ['a', 'o', 's']);
    const [row] = evalPlan(p, {}) as Array<{ a: unknown[]; o: Record<string, number>; s: unknown[] }>;
    expect(row!.a.length).toBe(200_000);
    expect(row!.a[1]).toBe(1);
    expect(row!.a[199_998]).toEqual(['k199998', 199_998]);
    expect(row!.a[199_999]).toBe(199_999);
    expect(row!.o.k99999).toBe(99_999);
    expect(row!.s.length).toBe(100_000);
  });

  it('keeps the order of constant and non-constant elements', () => {
    const p = plan([], [call('eq', arr(n(1), ref('input', 'x'), n(3), arr(ref('input', 'x'), n(4))), v('x'))]);
    expect(evalPlan(p, { x: 2 })).toEqual([{ x: [1, 2, 3, [2, 4]] }]);
  });
});

describe('coverage instrumentation', () => {
  it('calls internal.bastion_cover(file, row) for expressions and rule heads only when asked', () => {
    const loc = (row: number) => ({ file: 'a.rego', row, col: 1, offset: 0 });
    const body: Body = [{ ...call('equal', ref('input', 'x'), n(1)), location: loc(4) }];
    const r = rule(['p'], { value: n(1), body });
    r.head.location = loc(3);
    const modules = [mod(['t'], [r])];
    const q = [call('eq', ref('data', 't', 'p'), v('x'))];
    const plain = planPolicy({ modules, queries: [{ name: 'eval', body: q, bindings: [{ name: 'x', var: 'x' }], rewrittenVars: new Map() }] });
    expect(plain.static.builtinFuncs.map((b) => b.name)).not.toContain('internal.bastion_cover');
    const cov = planPolicy({ modules, queries: [{ name: 'eval', body: q, bindings: [{ name: 'x', var: 'x' }], rewrittenVars: new Map() }] }, { coverage: true });
    const rows: number[] = [];
    const res = evalPlan(cov, { x: 2 }, {}, 'eval', { builtins: { 'internal.bastion_cover': (_f, row) => (rows.push(row as number), true) } });
    expect(res).toEqual([]);
    expect(rows).toEqual([4]); // reached the expression, which failed: the head was not reached
    rows.length = 0;
    evalPlan(cov, { x: 1 }, {}, 'eval', { builtins: { 'internal.bastion_cover': (_f, row) => (rows.push(row as number), true) } });
    expect(rows).toEqual([4, 3]);
  });
});
