import { describe, expect, it } from 'vitest';
import { moduleConstants } from './testing/conformance-calls.js';
import { loadCases, defaultSuiteDir } from '../conformance/cases.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);

describe('strings.render_template and json schema on the suite\'s fixtures', () => {
  for (const c of loadCases(defaultSuiteDir(), ['rendertemplate', 'jsonschema'])) {
    const k = moduleConstants(c.modules?.[0] ?? '');
    const want = (c.want_plan_result ?? c.want_result)?.[0]?.x;
    it(c.note, () => {
      const run = () =>
        c.topic === 'rendertemplate'
          ? call('strings.render_template', k.get('template_string'), k.get('template_vars'))
          : call('json.match_schema', k.get('document'), k.get('schema'));
      if (c.want_error) expect(run).toThrow(c.want_error);
      else expect(run()).toEqual(want);
    });
  }
});

describe('strings.render_template', () => {
  it('if/else, with, nested fields, trimming, maps', () => {
    const t = '{{- if .a.on -}} on {{- else -}} off {{- end}}|{{with .a}}{{.name}}{{end}}|{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}';
    expect(call('strings.render_template', t, { a: { on: true, name: 'x' }, m: { b: 2, a: 1 } })).toBe('on|x|a=1;b=2;');
    expect(call('strings.render_template', t, { a: { on: false, name: 'y' }, m: {} })).toBe('off|y|');
  });
  it('errors are builtin errors', () => {
    expect(() => call('strings.render_template', '{{if .a}}', {})).toThrow(/^eval_builtin_error: strings.render_template: template: /);
    expect(() => call('strings.render_template', '{{ $x }}', {})).toThrow('undefined variable');
  });
});

describe('json schema', () => {
  it('verify_schema', () => {
    expect(call('json.verify_schema', { type: 'object' })).toEqual([true, null]);
    expect(call('json.verify_schema', '{"type": "nope"}')).toEqual([false, 'jsonschema: has a primitive type that is NOT VALID -- given: /nope/ Expected valid values are:[array boolean integer number null object string]']);
  });
  it('match_schema reports missing fields and extra properties like gojsonschema', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
    expect(call('json.match_schema', { b: 1 }, schema)).toEqual([
      false,
      [
        { error: '(root): a is required', type: 'required', field: '(root)', desc: 'a is required' },
        { error: '(root): Additional property b is not allowed', type: 'additional_property_not_allowed', field: '(root)', desc: 'Additional property b is not allowed' },
      ],
    ]);
    expect(call('json.match_schema', '{"a": "x"}', schema)).toEqual([true, []]);
  });
});

describe('rand.intn, test.sleep, rego.parse_module', () => {
  it('rand.intn is in range and stable per (key, n) within one evaluation', async () => {
    const a = call('rand.intn', 'k', 1000) as number;
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(1000);
    expect(call('rand.intn', 'k', 1000)).toBe(a);
    expect(call('rand.intn', 'k', 0)).toBe(0);
    expect(call('rand.intn', 'neg', -5)).toBeLessThan(5);
    expect(() => call('rand.intn', 'k', 1.5)).toThrow('eval_type_error: rand.intn: operand 2 must be integer number but got floating-point number');
  });
  it('test.sleep blocks for about the given duration', () => {
    const t0 = Date.now();
    expect(call('test.sleep', '20ms')).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
  });
  it('rego.parse_module gives OPA-shaped terms and parse errors', () => {
    const m = call('rego.parse_module', 'x.rego', 'package foo.bar\n\np := 1\n') as Record<string, any>;
    expect(m.package.path).toEqual([{ type: 'var', value: 'data' }, { type: 'string', value: 'foo' }, { type: 'string', value: 'bar' }]);
    expect(m.rules).toHaveLength(1);
    expect(() => call('rego.parse_module', 'x.rego', 'package')).toThrow(/^eval_builtin_error: rego.parse_module: rego_parse_error: /);
  });
});

describe('test.sleep through compile() and the SDK', () => {
  it('is declared to the compiler and blocks for the duration', async () => {
    const { compile } = await import('../index.js');
    const { loadPolicy } = await import('@open-policy-agent/opa-wasm');
    const r = await compile({ modules: [{ file: 's.rego', source: 'package s\np if {\n  a := time.now_ns()\n  test.sleep("20ms")\n  b := time.now_ns()\n  a == b\n}' }], entrypoints: ['s/p'] });
    expect(r.errors).toEqual([]);
    const policy = await loadPolicy(r.wasm!, undefined, hostBuiltins as never);
    // time.now_ns is fixed for the whole evaluation (OPA's per-query time), sleep or not
    expect(policy.evaluate({}, 's/p')).toEqual([{ result: true }]);
    expect(() => call('test.sleep', 'soon')).toThrow('eval_builtin_error: test.sleep: time: invalid duration "soon"');
  });
});
