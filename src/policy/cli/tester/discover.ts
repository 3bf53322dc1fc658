// Test discovery as OPA's tester does it (v1/tester/runner.go): a test is a rule whose head
// reference has, in its ground prefix, a term named `test_*` (run) or `todo_test_*` (skipped).
// Before compiling, the modules are rewritten the way OPA's test compiler stages do:
//  - RewriteDuplicateTestNames: the second and later rules of the same test path are renamed
//    `test_x#01`, `test_x#02`, ... so that each runs on its own;
//  - InjectTestCaseFunc: a test with a reference tail behind its name (`test_cases[name] if ...`)
//    gets an `internal.test_case([name])` call as early in its body as the tail's variables are
//    bound, so that every case evaluation reports, also the ones whose body fails later.
import { ast, type Expr, type Location, type Module, type Rule, type Term } from '../../../rego/index.js';

export const TEST_PREFIX = 'test_';
export const SKIP_PREFIX = 'todo_test_';
export const TEST_CASE_BUILTIN = 'internal.test_case';

export interface DiscoveredTest {
  /** `data.pkg` as OPA prints the package path. */
  package: string;
  /** The rule reference up to the test name, printed (`test_x`, `a.b.test_x`, `a.b["test_x#01"]`). */
  name: string;
  /** Entrypoint path of the test (`pkg/a/b/test_x`). */
  entrypoint: string;
  location: { file: string; row: number; col: number };
  skip: boolean;
  /** Partial-object test (`test_cases[x] if ...`): its value's keys are sub-results. */
  partialObject: boolean;
  file: string;
}

const VAR_COMPATIBLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(['as', 'default', 'else', 'false', 'import', 'not', 'null', 'package', 'some', 'true', 'with', 'contains', 'every', 'if', 'in']);

// Not the AST toolkit's isGround (OPA's Term.IsGround): a ref term counts its head var here, so
// `test_double[tc.note]` (a table test) is a partial object with sub-results; the toolkit's would call it ground.
const isGround = (t: Term): boolean => {
  const v = t.value;
  switch (v.type) {
    case 'var':
      return false;
    case 'ref':
    case 'array':
    case 'set':
    case 'call':
      return v.value.every(isGround);
    case 'object':
      return v.value.every(([k, x]) => isGround(k) && isGround(x));
    case 'arraycomprehension':
    case 'setcomprehension':
    case 'objectcomprehension':
    case 'templatestring':
      return false;
    default:
      return true;
  }
};

/** OPA's Ref.GroundPrefix: the head, then terms up to the first non-ground one. */
function groundPrefix(ref: Term[]): Term[] {
  const i = ref.findIndex((t, j) => j > 0 && !isGround(t));
  return i < 0 ? ref : ref.slice(0, i);
}

function termName(t: Term): string {
  return t.value.type === 'var' || t.value.type === 'string' ? t.value.value : '';
}

/** OPA's ruleName: the first ground-prefix term named test_/todo_test_, and the ref up to it. */
export function ruleName(rule: Rule): { name: string; ref: Term[] } {
  let name = '';
  const ref: Term[] = [];
  for (const t of groundPrefix(rule.head.reference)) {
    ref.push(t);
    name = termName(t);
    if (name.startsWith(TEST_PREFIX) || name.startsWith(SKIP_PREFIX)) break;
  }
  return { name, ref };
}

function jsonOf(t: Term): string {
  const v = t.value;
  switch (v.type) {
    case 'string':
      return JSON.stringify(v.value);
    case 'number':
      return v.value;
    case 'boolean':
      return String(v.value);
    case 'null':
      return 'null';
    case 'var':
      return v.value;
    default:
      return t.location?.text ?? v.type;
  }
}

/** OPA's Ref.String() for the refs the tester prints. */
export function refString(ref: Term[]): string {
  if (ref.length === 0) return '';
  let s = jsonOf(ref[0]!);
  for (const p of ref.slice(1)) {
    if (p.value.type === 'string' && VAR_COMPATIBLE.test(p.value.value) && !KEYWORDS.has(p.value.value)) s += '.' + p.value.value;
    else s += '[' + jsonOf(p) + ']';
  }
  return s;
}

export function packagePath(m: Module): string[] {
  return m.package.path.slice(1).map(termName);
}

function packageString(m: Module): string {
  return refString(m.package.path);
}

/** A test of this module, or undefined for other rules (functions are never tests). */
function testOf(file: string, module: Module, rule: Rule): DiscoveredTest | undefined {
  if (rule.head.args && rule.head.args.length > 0) return undefined;
  const { name, ref } = ruleName(rule);
  const skip = name.startsWith(SKIP_PREFIX);
  if (!skip && !name.startsWith(TEST_PREFIX)) return undefined;
  const loc: Location | undefined = rule.location ?? rule.head.location;
  const full = rule.head.reference;
  const last = full[full.length - 1]!;
  return {
    package: packageString(module),
    name: refString(ref),
    entrypoint: [...packagePath(module), ...ref.map(termName)].join('/'),
    location: { file, row: loc?.row ?? 0, col: loc?.col ?? 0 },
    skip,
    partialObject: full.length > ref.length && rule.head.value !== undefined && !rule.head.multiValue && !isGround(last),
    file,
  };
}

/** Tests of the modules, in module then rule order (after duplicate renaming). */
export function discoverTests(modules: Array<{ file: string; module: Module }>): DiscoveredTest[] {
  const out: DiscoveredTest[] = [];
  for (const { file, module } of modules) {
    for (const rule of module.rules) {
      const t = testOf(file, module, rule);
      if (t) out.push(t);
    }
  }
  return out;
}

/** RewriteDuplicateTestNames, in place: a second `test_x` of a package becomes `test_x#01`. */
export function renameDuplicateTests(modules: Array<{ module: Module }>): void {
  const count = new Map<string, number>();
  for (const { module } of modules) {
    const pkg = packagePath(module);
    for (const rule of module.rules) {
      const { name, ref } = ruleName(rule);
      if (!name.startsWith(TEST_PREFIX)) continue;
      const key = [...pkg, ...ref.map(termName)].join('\u0000');
      const k = count.get(key);
      if (k !== undefined) {
        const newName = `${name}#${String(k).padStart(2, '0')}`;
        const i = ref.length - 1;
        const old = rule.head.reference[i]!;
        rule.head.reference[i] = i === 0 ? { value: { type: 'var', value: newName }, location: old.location } : { value: { type: 'string', value: newName }, location: old.location };
        if (i === 0 && rule.head.name) rule.head.name = newName;
      }
      count.set(key, (k ?? 0) + 1);
    }
  }
}

// ---- InjectTestCaseFunc --------------------------------------------------------------------

function varsOf(x: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(x)) {
    for (const y of x) varsOf(y, out);
  } else if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    if (o.type === 'var' && typeof o.value === 'string') out.add(o.value);
    for (const [k, v] of Object.entries(o)) if (k !== 'location') varsOf(v, out);
  }
  return out;
}

/** Whether an expression only declares (`some x`): it binds nothing by itself. */
function isBareSome(e: Expr): boolean {
  const t = e.terms;
  return !Array.isArray(t) && 'type' in t && t.type === 'some' && t.symbols.every((s) => s.value.type === 'var');
}

function callsTestCase(body: Expr[]): boolean {
  return body.some((e) => Array.isArray(e.terms) && e.terms[0]?.value.type === 'ref' && refString(e.terms[0].value.value) === TEST_CASE_BUILTIN);
}

/**
 * Inject `internal.test_case([<tail terms>])` into every test whose head has a reference tail
 * behind the test name, below the first expression that mentions each variable of the tail
 * (OPA moves the generated key assignment up and injects below it: the same position).
 */
export function injectTestCases(modules: Array<{ module: Module }>): void {
  for (const { module } of modules) {
    for (const rule of module.rules) {
      const { name, ref } = ruleName(rule);
      if (!name.startsWith(TEST_PREFIX)) continue;
      const tail = rule.head.reference.slice(ref.length);
      if (tail.length === 0 || callsTestCase(rule.body)) continue;
      const vars = varsOf(tail);
      let below = -1;
      for (const v of vars) {
        const first = rule.body.findIndex((e) => !isBareSome(e) && varsOf(e).has(v));
        if (first > below) below = first;
      }
      const loc = tail[0]!.location;
      const op: Term = {
        value: { type: 'ref', value: [{ value: { type: 'var', value: 'internal' }, location: loc }, { value: { type: 'string', value: 'test_case' }, location: loc }] },
        location: loc,
      };
      const arg: Term = { value: { type: 'array', value: ast.clone(tail) }, location: loc };
      const expr: Expr = { index: 0, negated: false, terms: [op, arg], with: [], location: loc };
      rule.body.splice(below + 1, 0, expr);
      rule.body.forEach((e, i) => (e.index = i));
    }
  }
}
