import { describe, expect, it } from 'vitest';
import { parseModule, parseQuery } from '../parser/index.js';
import { compileModules, MODULE_STAGES, QUERY_STAGES } from './index.js';
import { bodyToString, moduleToString } from '../ast/index.js';
import type { CompileOutput } from './types.js';

function compile(sources: string | string[], query = 'data.test.p = x', strict = false): CompileOutput {
  const list = Array.isArray(sources) ? sources : [sources];
  const modules = list.map((src, i) => {
    const parsed = parseModule(src, `m${i}.rego`);
    if (!parsed.module) throw new Error(parsed.errors.map((e) => e.message).join('; '));
    return { file: `m${i}.rego`, module: parsed.module };
  });
  const q = parseQuery(query);
  if (!q.body) throw new Error(q.errors.map((e) => e.message).join('; '));
  return compileModules({ modules, queries: [{ name: 'eval', body: q.body }], strict });
}

function ok(sources: string | string[], query?: string, strict = false) {
  const out = compile(sources, query, strict);
  expect(out.errors).toEqual([]);
  return out.policy!;
}

function errs(sources: string | string[], query?: string, strict = false) {
  const out = compile(sources, query, strict);
  expect(out.policy).toBeUndefined();
  return out.errors.map((e) => `${e.code}: ${e.message}`);
}

const body = (src: string, query?: string) => moduleToString(ok(src, query).modules[0]);

describe('rewriting (as OPA leaves modules for the planner)', () => {
  it('resolves package-local rule names and imports to data refs', () => {
    const text = body(`package test
import data.other.q as oq
p if { r; oq }
r := 1`);
    expect(text).toContain('data.test.r');
    expect(text).toContain('data.other.q');
  });

  it('renames := locals to generated vars and rewrites := to =', () => {
    const text = body(`package test
p := y if { x := input.a; y := x }`);
    expect(text).toContain('p := __local1__ if { __local0__ = input.a; __local1__ = __local0__ }');
  });

  it('flattens nested calls with generated output vars', () => {
    const text = body(`package test
p := count(split(input.s, ","))`);
    expect(text).toContain('split(__local');
    expect(text).toMatch(/split\(__local\d+__, ",", (__local\d+__)\); count\(\1, (__local\d+__)\)/);
  });

  it('binds refs passed to calls first (RewriteDynamicTerms)', () => {
    const text = body(`package test
p if count(input.xs) > 1`);
    expect(text).toMatch(/(__local\d+__) = input\.xs; count\(\1, /);
  });

  it('rewrites some x in xs to x = xs[__localN__]', () => {
    const text = body(`package test
p contains x if { some x in input.xs }`);
    expect(text).toMatch(/__local(\d+)__ = input\.xs\[__local\d+__\]/);
  });

  it('reorders bodies for safety', () => {
    const p = ok(`package test
p if { x > 1; x = input.n }`);
    expect(bodyToString(p.modules[0].rules[0].body)).toBe('x = input.n; gt(x, 1)');
  });

  it('binds comprehension terms that need evaluation in the comprehension body', () => {
    const text = body(`package test
p := [x.a | some x in input.xs]`);
    expect(text).toMatch(/\[(__local\d+__) \| .*; \1 = __local\d+__\.a\]/);
  });

  it('gives every a key and a domain bound to a var', () => {
    const text = body(`package test
p if every x in input.xs { x > 0 }`);
    expect(text).toMatch(/(__local\d+__) = input\.xs; every __local\d+__, __local\d+__ in \1/);
  });

  it('turns template strings into internal.template_string calls', () => {
    const text = body(`package test
p := $"hello {input.name}"`);
    expect(text).toContain('internal.template_string([');
  });

  it('erases print calls', () => {
    const text = body(`package test
p if { print("x"); input.a }`);
    expect(text).not.toContain('print');
  });

  it('with print enabled, rewrites print(...) as OPA: each operand captured in a set comprehension', () => {
    const parsed = parseModule(`package test
p if { x := input.a; print("x", x, [y | y := 1; print(y)]) }`, 'm.rego');
    let text = '';
    const stages = { afterModuleStage: (stage: string, mods: ReadonlyArray<{ module: Parameters<typeof moduleToString>[0] }>) => void (stage === 'RewritePrintCalls' && (text = moduleToString(mods[0]!.module))) };
    const out = compileModules({ modules: [{ file: 'm.rego', module: parsed.module! }], queries: [], enablePrintStatements: true, stages });
    expect(out.errors).toEqual([]);
    expect(text).toMatch(/internal\.print\(\[\{__local\d+__ \| __local\d+__ = "x"\}, \{__local\d+__ \| __local\d+__ = __local0__\}/);
    expect(text).toMatch(/internal\.print\(\[\{__local\d+__ \| __local\d+__ = __local\d+__\}\]\)/); // inside the comprehension too
    const bad = parseModule('package test\np if { print(z) }', 'm.rego');
    const errors = compileModules({ modules: [{ file: 'm.rego', module: bad.module! }], queries: [], enablePrintStatements: true }).errors;
    expect(errors.map((e) => `${e.code}: ${e.message} @${e.location?.row}`)).toEqual(['rego_compile_error: var z is undeclared @2']);
  });

  it('binds with values that need evaluation', () => {
    const text = body(`package test
p if { q with input as {"a": input.b} }
q if input.a`);
    expect(text).toMatch(/(__local\d+__) = input\.b[\s\S]*with input as (__local\d+__)/);
  });

  it('keeps query output vars and maps assigned ones back to user names', () => {
    const p = ok('package test\np := 1', 'data.test.p = x; y := 2');
    expect(p.queries[0].bindings).toEqual([
      { name: 'y', var: '__localq0__' },
      { name: 'x', var: 'x' },
    ]);
  });

  it('indexes rule sets by path', () => {
    const p = ok(`package test
p contains 1
p contains 2
f(x) := x
a.b[k] := 1 if k := "z"`);
    expect(p.ruleSets.get('test.p')?.kind).toBe('multi');
    expect(p.ruleSets.get('test.p')?.rules.length).toBe(2);
    expect(p.ruleSets.get('test.f')?.kind).toBe('function');
    expect(p.ruleSets.get('test.a.b')?.kind).toBe('single');
  });
});

describe('errors with OPA codes and messages', () => {
  it('reports unsafe vars', () => {
    expect(errs(`package test
p if { x > 1 }`)).toEqual(['rego_unsafe_var_error: var x is unsafe']);
  });

  it('reports unsafe vars in queries', () => {
    expect(errs('package test\np := 1', 'x > 1')).toEqual(['rego_unsafe_var_error: var x is unsafe']);
  });

  it('reports reassignment', () => {
    expect(errs(`package test
p if { x := 1; x := 2 }`)).toEqual(['rego_compile_error: var x assigned above']);
  });

  it('reports unused some declarations', () => {
    expect(errs(`package test
p if { some x; input.a }`)).toEqual(['rego_compile_error: declared var x unused']);
  });

  it('reports recursion', () => {
    expect(errs(`package test
p if q
q if p`)).toEqual([
      'rego_recursion_error: rule data.test.p is recursive: data.test.p -> data.test.q -> data.test.p',
      'rego_recursion_error: rule data.test.q is recursive: data.test.q -> data.test.p -> data.test.q',
    ]);
  });

  it('reports undefined functions and arity mismatches', () => {
    expect(errs(`package test
p if nope(1)`)).toEqual(['rego_type_error: undefined function nope']);
    expect(errs(`package test
f(x) := x
p if f(1, 2, 3)`)).toEqual(['rego_type_error: function data.test.f has arity 1, got 3 arguments']);
    expect(errs(`package test
p if count(1, 2, 3)`)[0]).toMatch(/^rego_type_error: count: arity mismatch/);
  });

  it('reports conflicting rule kinds and multiple defaults', () => {
    expect(errs(`package test
p := 1
p contains 2`)).toEqual(['rego_type_error: conflicting rules data.test.p found']);
    expect(errs(`package test
default p := 1
default p := 2`)).toEqual(['rego_type_error: multiple default rules data.test.p found at m0.rego:2, m0.rego:3']);
  });

  it('reports rules inside the extent of a complete rule', () => {
    expect(errs(`package test
p := 1
p.q := 2`)).toEqual(['rego_type_error: rule data.test.p conflicts with [data.test.p.q]']);
  });

  it('rejects shadowing of root documents', () => {
    expect(errs(`package test
p if { input := 1; input }`)).toEqual(['rego_compile_error: variables must not shadow input (use a different variable name)']);
  });

  it('rejects invalid with targets', () => {
    expect(errs(`package test
p if { input.a with foo as 1 }`)).toEqual(['rego_type_error: with keyword target must reference existing input, data, or a function']);
  });

  it('rejects deprecated builtins in v1 modules', () => {
    expect(errs(`package test
p if any([true])`)).toEqual(['rego_type_error: deprecated built-in function calls in expression: any']);
  });

  it('stops after 10 errors with "error limit reached"', () => {
    const rules = Array.from({ length: 12 }, (_, i) => `p${i} if { x${i} > 1 }`).join('\n');
    const e = errs(`package test\n${rules}`);
    expect(e.length).toBe(11);
    expect(e[10]).toBe('rego_compile_error: error limit reached');
  });

  it('never throws on odd input', () => {
    const out = compileModules({ modules: [], queries: [{ name: 'q', body: [] }] });
    expect(out.errors[0].message).toBe('empty query cannot be compiled');
  });
});

describe('strict mode', () => {
  it('reports unused imports, assigned vars and function args', () => {
    expect(errs(`package test
import data.foo
p if { x := 1; input.a }`, 'data.test.p = x', true)).toEqual(['rego_compile_error: import data.foo unused']);
    expect(errs(`package test
p if { x := 1; input.a }`, 'data.test.p = x', true)).toEqual(['rego_compile_error: assigned var x unused']);
    expect(errs(`package test
f(a, b) := a`, 'data.test.f(1, 2, x)', true)).toEqual(['rego_compile_error: unused argument b. (hint: use _ (wildcard variable) instead)']);
  });
});

describe('type checking (see typecheck.test.ts)', () => {
  it('rejects literal arguments of the wrong kind', () => {
    const e = errs(`package test
p := x if { x := "a" + 1 }`);
    expect(e[0]).toBe('rego_type_error: plus: invalid argument(s)\n\thave: (string, number, ???)\n\twant: (x: number, y: number, z: number)');
    expect(errs('package test\np := 1', 'x := upper(1)')[0]).toMatch(/^rego_type_error: upper: invalid argument\(s\)/);
  });

  it('accepts anything it cannot prove wrong', () => {
    ok(`package test
p if { {1} - 1 }
q := count(input.x)
r := concat(",", input.y)`);
  });
});

describe('named stages (OPA WithStageAfter)', () => {
  const parsed = (src: string) => [{ file: 'm.rego', module: parseModule(src, 'm.rego').module! }];
  const query = (q: string) => [{ name: 'eval', body: parseQuery(q).body! }];

  it('runs the hooks after every module and query stage, in the lists order', () => {
    const seenModule: string[] = [];
    const seenQuery: string[] = [];
    const out = compileModules({
      modules: parsed('package test\np := 1'),
      queries: query('x := data.test.p'),
      stages: {
        afterModuleStage: (s) => void seenModule.push(s),
        afterQueryStage: (s) => void seenQuery.push(s),
      },
    });
    expect(out.errors).toEqual([]);
    expect(seenModule).toEqual([...MODULE_STAGES]);
    expect(seenQuery).toEqual([...QUERY_STAGES]);
  });

  it('shows each stage its output, and a hook may fail or rewrite the query', () => {
    let afterLocals = '';
    const out = compileModules({
      modules: parsed('package test\np := 1'),
      queries: query('x := data.test.p'),
      stages: {
        afterQueryStage: (s, q) => {
          if (s === 'RewriteLocalVars') afterLocals = bodyToString(q.body);
          if (s === 'CheckSafety') q.body = parseQuery('__localq0__ = 2').body!;
        },
      },
    });
    expect(afterLocals).toBe('__localq0__ = data.test.p');
    expect(out.policy?.queries[0]?.body.map((e) => bodyToString([e]))).toEqual(['__localq0__ = 2']);
    const failed = compileModules({
      modules: parsed('package test\np := 1'),
      queries: query('true'),
      stages: { afterModuleStage: (s) => (s === 'CheckRecursion' ? [{ code: 'rego_compile_error', message: 'stop' }] : undefined) },
    });
    expect(failed.errors.map((e) => e.message)).toEqual(['stop']);
  });
});
