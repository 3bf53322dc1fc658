// The lint rules: mistakes that compile but do not do what the author meant. Names, categories,
// descriptions and documentation links are Regal's where Regal has the rule (bugs/
// constant-condition, bugs/impossible-not, bugs/impossible-default, imports/unresolved-import,
// imports/unresolved-reference, testing/identically-named-tests); unused imports and variables
// come from the compiler's strict mode (OPA's `--strict`, which Regal leaves them to).
import type { Expr, Location, Module, Rule, Term } from '../../../rego/index.js';

export interface LintModule {
  file: string;
  source: string;
  module: Module;
}

export interface Violation {
  title: string;
  description: string;
  category: string;
  level: 'error' | 'warning';
  related_resources: Array<{ description: string; ref: string }>;
  location: { end?: { row: number; col: number }; text?: string; file: string; col: number; row: number };
}

export interface RuleInfo {
  title: string;
  category: string;
  description: string;
  level: 'error' | 'warning';
  /** Documentation (Regal's page where Regal has the rule). */
  ref: string;
}

const regal = (category: string, title: string, description: string): RuleInfo => ({
  title,
  category,
  description,
  level: 'error',
  ref: `https://www.openpolicyagent.org/projects/regal/rules/${category}/${title}`,
});

export const RULES: Record<string, RuleInfo> = {
  'constant-condition': regal('bugs', 'constant-condition', 'Constant condition'),
  'impossible-not': regal('bugs', 'impossible-not', 'Impossible `not` condition'),
  'impossible-default': regal('bugs', 'impossible-default', 'Rule defined unconditionally alongside default definition'),
  'unresolved-import': regal('imports', 'unresolved-import', 'Unresolved import'),
  'unresolved-reference': regal('imports', 'unresolved-reference', 'Unresolved Reference'),
  'identically-named-tests': regal('testing', 'identically-named-tests', 'Multiple tests with same name'),
  'unused-import': { title: 'unused-import', category: 'imports', description: 'Unused import', level: 'error', ref: 'https://www.openpolicyagent.org/docs/policy-language#strict-mode' },
  'unused-variable': { title: 'unused-variable', category: 'bugs', description: 'Unused variable', level: 'error', ref: 'https://www.openpolicyagent.org/docs/policy-language#strict-mode' },
};

// ---- AST helpers ---------------------------------------------------------------------------

const SCALARS = new Set(['null', 'boolean', 'number', 'string']);
const COMPARISONS = new Set(['equal', 'gt', 'gte', 'lt', 'lte', 'neq']);

const isTerm = (t: Expr['terms']): t is Term => !Array.isArray(t) && !('type' in t);
const name = (t: Term | undefined): string => (t && (t.value.type === 'var' || t.value.type === 'string') ? t.value.value : '');
const refTerms = (t: Term): Term[] => (t.value.type === 'ref' ? t.value.value : [t]);

function operator(e: Expr): string {
  if (!Array.isArray(e.terms)) return '';
  const op = e.terms[0]!;
  return op.value.type === 'ref' ? op.value.value.map(name).join('.') : name(op);
}

/** The static part of a ref after its head: strings up to the first non-string term. */
function staticTail(ref: Term[]): string[] {
  const out: string[] = [];
  for (const t of ref.slice(1)) {
    if (t.value.type !== 'string') break;
    out.push(t.value.value);
  }
  return out;
}

const isGround = (t: Term): boolean => {
  const v = t.value;
  if (v.type === 'var' || v.type.endsWith('comprehension') || v.type === 'templatestring' || v.type === 'call') return false;
  if (v.type === 'ref') return false;
  if (v.type === 'array' || v.type === 'set') return v.value.every(isGround);
  if (v.type === 'object') return v.value.every(([k, x]) => isGround(k) && isGround(x));
  return true;
};

/** A rule body written by the author (rules without one get a generated `true` at the head). */
function hasWrittenBody(rule: Rule): boolean {
  if (rule.default) return false;
  const first = rule.body[0]?.location;
  const head = rule.head.location;
  return !!first && !!head && first.offset >= head.offset + (head.text?.length ?? 0);
}

/** Every expression of a rule (bodies, else branches, nested bodies), with its rule. */
function* expressions(rule: Rule): Generator<Expr> {
  const walk = function* (body: Expr[]): Generator<Expr> {
    for (const e of body) {
      yield e;
      for (const nested of nestedBodies(e)) yield* walk(nested);
    }
  };
  for (let r: Rule | undefined = rule; r; r = r.else) if (hasWrittenBody(r)) yield* walk(r.body);
}

function nestedBodies(x: unknown): Expr[][] {
  const out: Expr[][] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ((o.type === 'every' || o.type?.toString().endsWith('comprehension')) && Array.isArray(o.body)) out.push(o.body as Expr[]);
      for (const [k, y] of Object.entries(o)) if (k !== 'location' && k !== 'body') visit(y);
    }
  };
  visit((x as Expr).terms);
  return out;
}

/** Every ref term under x (not descending into a ref's own terms' refs twice). */
function refsIn(x: unknown, out: Term[] = []): Term[] {
  if (Array.isArray(x)) x.forEach((y) => refsIn(y, out));
  else if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    if (o.value && typeof o.value === 'object' && (o.value as { type?: string }).type === 'ref') out.push(o as unknown as Term);
    for (const [k, v] of Object.entries(o)) if (k !== 'location') refsIn(v, out);
  }
  return out;
}

function lineText(m: LintModule, row: number): string | undefined {
  return m.source.split('\n')[row - 1];
}

export function violation(id: keyof typeof RULES, m: LintModule, loc: Location | undefined, text?: string): Violation {
  const r = RULES[id]!;
  const row = loc?.row ?? 1;
  const col = loc?.col ?? 1;
  const t = text ?? lineText(m, row);
  const location: Violation['location'] = { file: m.file, col, row };
  if (loc?.text) {
    const lines = loc.text.split('\n');
    location.end = { row: row + lines.length - 1, col: (lines.length === 1 ? col : 1) + lines[lines.length - 1]!.length };
  }
  return {
    title: r.title,
    description: r.description,
    category: r.category,
    level: r.level,
    related_resources: [{ description: 'documentation', ref: r.ref }],
    location: { ...(location.end ? { end: location.end } : {}), ...(t !== undefined ? { text: t } : {}), file: m.file, col, row },
  };
}

// ---- document tree: what `data.*` references can resolve to ---------------------------------

export class DocumentTree {
  /** Package and rule paths (ground prefixes), as dotted strings below data. */
  private readonly rules = new Set<string>();
  private readonly packages = new Set<string>();
  private readonly multiValue = new Set<string>();

  constructor(
    modules: LintModule[],
    private readonly data: unknown,
  ) {
    for (const m of modules) {
      const pkg = packageOf(m.module);
      for (let i = 1; i <= pkg.length; i++) this.packages.add(pkg.slice(0, i).join('.'));
      for (const rule of m.module.rules) {
        const ref = rule.head.reference;
        const ground = [name(ref[0]), ...staticTail(ref)];
        const path = [...pkg, ...ground].join('.');
        this.rules.add(path);
        if (rule.head.key && !rule.head.value && ground.length === ref.length) this.multiValue.add(path);
      }
    }
  }

  isMultiValue(path: string[]): boolean {
    return this.multiValue.has(path.join('.'));
  }

  /** A path resolves when a rule, a package or a data document is at it, above it, or below it. */
  resolves(path: string[]): boolean {
    if (path.length === 0) return true;
    for (let i = 1; i <= path.length; i++) if (this.rules.has(path.slice(0, i).join('.'))) return true;
    const full = path.join('.');
    if (this.packages.has(full)) return true;
    for (const p of [...this.packages, ...this.rules]) if (p.startsWith(full + '.')) return true;
    let d: unknown = this.data;
    for (const k of path) {
      if (Array.isArray(d)) return true; // indexes into arrays are not checked
      if (d === null || typeof d !== 'object' || !(k in d)) return false;
      d = (d as Record<string, unknown>)[k];
    }
    return true;
  }
}

export function packageOf(m: Module): string[] {
  return m.package.path.slice(1).map(name);
}

/** Import aliases of a module: alias -> full path below data (only `data` imports). */
function importAliases(m: Module): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const imp of m.imports) {
    const ref = refTerms(imp.path);
    if (name(ref[0]) !== 'data') continue;
    const path = staticTail(ref);
    const alias = imp.alias ?? path[path.length - 1];
    if (alias) out.set(alias, path);
  }
  return out;
}

function varsIn(x: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(x)) x.forEach((y) => varsIn(y, out));
  else if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    const val = o.value as { type?: string; value?: unknown } | undefined;
    if (val && val.type === 'var' && typeof val.value === 'string') out.add(val.value);
    for (const [k, y] of Object.entries(o)) if (k !== 'location') varsIn(y, out);
  }
  return out;
}

/** Names a rule declares: its arguments, `:=` targets, `some` and `every` variables. */
function localNames(rule: Rule): Set<string> {
  const out = new Set<string>();
  for (let r: Rule | undefined = rule; r; r = r.else) {
    varsIn(r.head.args ?? [], out);
    const visit = (body: Expr[]): void => {
      for (const e of body) {
        const t = e.terms;
        if (Array.isArray(t) && operator(e) === 'assign') varsIn(t[1], out);
        else if (!Array.isArray(t) && 'type' in t && t.type === 'some') {
          for (const sym of t.symbols) varsIn(sym.value.type === 'call' ? sym.value.value.slice(1, -1) : sym, out);
        } else if (!Array.isArray(t) && 'type' in t && t.type === 'every') varsIn([t.key, t.value], out);
        for (const b of nestedBodies(e)) visit(b);
      }
    };
    if (hasWrittenBody(r)) visit(r.body);
  }
  return out;
}

/** Imports of `data` whose name no rule of the module uses (OPA strict mode's unused import). */
export function unusedImports(m: LintModule): Violation[] {
  const used = varsIn(m.module.rules);
  return m.module.imports.filter((imp) => {
    const ref = refTerms(imp.path);
    const head = name(ref[0]);
    if (head !== 'data' && head !== 'input') return false;
    const alias = imp.alias ?? (ref.length > 1 ? name(ref[ref.length - 1]) : head);
    return !used.has(alias);
  }).map((imp) => ({ ...violation('unused-import', m, imp.location), description: `${RULES['unused-import']!.description}: ${(imp.location?.text ?? '').trim()} unused` }));
}

// ---- the checks ----------------------------------------------------------------------------

export function constantCondition(m: LintModule): Violation[] {
  const out: Violation[] = [];
  for (const rule of m.module.rules) {
    for (const e of expressions(rule)) {
      if (isTerm(e.terms) && SCALARS.has(e.terms.value.type)) out.push(violation('constant-condition', m, e.terms.location));
      else if (Array.isArray(e.terms) && COMPARISONS.has(operator(e)) && e.terms.length === 3 && SCALARS.has(e.terms[1]!.value.type) && SCALARS.has(e.terms[2]!.value.type)) {
        out.push(violation('constant-condition', m, e.location));
      }
    }
  }
  return out;
}

export function identicallyNamedTests(m: LintModule): Violation[] {
  const seen = new Set<string>();
  const out: Violation[] = [];
  for (const rule of m.module.rules) {
    const ref = rule.head.reference;
    const n = [name(ref[0]), ...staticTail(ref)].join('.');
    if (!name(ref[0]).startsWith('test_')) continue;
    if (seen.has(n)) out.push(violation('identically-named-tests', m, rule.head.location));
    seen.add(n);
  }
  return out;
}

export function impossibleDefault(m: LintModule): Violation[] {
  const target = (r: Rule): string | undefined => {
    if (!r.head.value || r.head.reference.slice(1).some((t) => t.value.type !== 'string')) return undefined;
    return `${r.head.reference.map(name).join('.')}/${r.head.args?.length ?? 0}`;
  };
  const unconditional = new Set<string>();
  for (const r of m.module.rules) {
    if (r.default || hasWrittenBody(r) || r.else || !r.head.value || !isGround(r.head.value)) continue;
    const args = r.head.args ?? [];
    if (!args.every((a) => a.value.type === 'var') || new Set(args.map(name)).size !== args.length) continue;
    const t = target(r);
    if (t) unconditional.add(t);
  }
  return m.module.rules.filter((r) => r.default && unconditional.has(target(r) ?? '')).map((r) => violation('impossible-default', m, r.location));
}

export function impossibleNot(m: LintModule, tree: DocumentTree): Violation[] {
  const out: Violation[] = [];
  const pkg = packageOf(m.module);
  const aliases = importAliases(m.module);
  const ruleNames = new Set(m.module.rules.map((r) => name(r.head.reference[0])));
  for (const rule of m.module.rules) {
    const locals = localNames(rule);
    for (const e of expressions(rule)) {
      if (!e.negated || !isTerm(e.terms) || (e.terms.value.type !== 'ref' && e.terms.value.type !== 'var')) continue;
      const ref = refTerms(e.terms);
      if (ref.slice(1).some((t) => t.value.type !== 'string')) continue;
      const head = name(ref[0]);
      let path: string[] | undefined;
      if (head === 'data') path = staticTail(ref);
      else if (aliases.has(head) && !locals.has(head)) path = [...aliases.get(head)!, ...staticTail(ref)];
      else if (ruleNames.has(head) && !locals.has(head)) path = [...pkg, head, ...staticTail(ref)];
      if (path && tree.isMultiValue(path)) {
        out.push(violation('impossible-not', m, e.terms.location, `not ${ref.map(name).join('.')}`));
      }
    }
  }
  return out;
}

export function unresolved(m: LintModule, tree: DocumentTree): Violation[] {
  const out: Violation[] = [];
  const aliases = importAliases(m.module);
  for (const imp of m.module.imports) {
    const ref = refTerms(imp.path);
    if (name(ref[0]) === 'data' && !tree.resolves(staticTail(ref))) out.push(violation('unresolved-import', m, imp.location));
  }
  for (const rule of m.module.rules) {
    const locals = localNames(rule);
    const terms: unknown[] = [];
    for (let r: Rule | undefined = rule; r; r = r.else) terms.push(r.head, r.body.map((e) => ({ ...e, with: e.with.map((w) => w.value) })));
    for (const t of refsIn(terms)) {
      const ref = (t.value as { value: Term[] }).value;
      const head = name(ref[0]);
      let path: string[] | undefined;
      if (ref[0]!.value.type !== 'var') continue;
      if (head === 'data') path = staticTail(ref);
      else if (aliases.has(head) && !locals.has(head)) path = [...aliases.get(head)!, ...staticTail(ref)];
      if (path && !tree.resolves(path)) out.push(violation('unresolved-reference', m, ref[0]!.location));
    }
  }
  return out;
}

/** Strict-mode compiler errors that are lint findings: unused variables and arguments. */
export function isUnusedVariableError(message: string): boolean {
  return /^(assigned|declared) var .* unused$/.test(message) || /^unused argument /.test(message);
}
