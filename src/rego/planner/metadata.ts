// rego.metadata.chain() and rego.metadata.rule(): OPA's compiler replaces these calls by constants
// built from the METADATA annotations (v1/ast/compile.go rewriteRegoMetadataCalls, annotations.go
// AnnotationSet.Chain / toObject). The planner does the same when it meets such a call inside a
// rule: the value depends only on the rule being planned.
//
// Annotations are attached as OPA does: a block belongs to the first statement (package, import
// or rule) on a later row. Scopes: `rule` (that rule), `document` (every rule with the same
// path), `package` (rules of that package, in any module), `subpackages` (that package and all
// below it).
import { jsonToTerm } from '../ast/json.js';
import type { Module, Rule, Term } from '../ast/types.js';

type RawAnnotation = NonNullable<Module['annotations']>[number];

interface Annotation {
  /** OPA's toObject() form. */
  object: Record<string, unknown>;
  row: number;
  col: number;
  file: string;
  /** Target path, `data` first. */
  path: Term[];
}

/** The JSON form of a ground path term (strings, numbers, booleans; vars by name, like ast.JSON). */
function pathValue(t: Term): unknown {
  const v = t.value;
  switch (v.type) {
    case 'string':
    case 'boolean':
      return v.value;
    case 'number':
      return Number(v.value);
    case 'var':
      return v.value;
    case 'null':
      return null;
    default:
      return undefined;
  }
}

const isGroundPathTerm = (t: Term) => ['string', 'number', 'boolean', 'null'].includes(t.value.type);

function pathKey(path: Term[]): string {
  return JSON.stringify(path.map(pathValue));
}

/** OPA's parseAuthorString: `Name <email>`. */
function author(v: unknown): Record<string, string> | undefined {
  if (typeof v === 'string') {
    const parts = v.trim().split(/\s+/).filter(Boolean);
    if (parts.length === 0) return undefined;
    let n = parts.length;
    let email = '';
    const last = parts[n - 1];
    if (last.length >= 2 && last.startsWith('<') && last.endsWith('>')) {
      email = last.slice(1, -1);
      n--;
    }
    const name = parts.slice(0, n).join(' ');
    return { ...(name ? { name } : {}), ...(email ? { email } : {}) };
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return { ...(typeof o.name === 'string' && o.name ? { name: o.name } : {}), ...(typeof o.email === 'string' && o.email ? { email: o.email } : {}) };
  }
  return undefined;
}

function relatedResource(v: unknown): Record<string, string> | undefined {
  if (typeof v === 'string') return { ref: v };
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.ref !== 'string') return undefined;
    return { ref: o.ref, ...(typeof o.description === 'string' && o.description ? { description: o.description } : {}) };
  }
  return undefined;
}

/** `input.a["b"]` -> ["input", "a", "b"] (a ref printed as an array of its terms' JSON). */
function refArray(text: string): string[] {
  const out: string[] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)|\[\s*"((?:[^"\\]|\\.)*)"\s*\]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? JSON.parse(`"${m[2]}"`));
  return out;
}

function schemas(v: unknown): unknown[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: unknown[] = [];
  for (const item of v) {
    if (!item || typeof item !== 'object') continue;
    for (const [path, spec] of Object.entries(item as Record<string, unknown>)) {
      const o: Record<string, unknown> = { path: refArray(path) };
      if (typeof spec === 'string') o.schema = refArray(spec);
      else if (spec !== null && spec !== undefined) o.definition = spec;
      out.push(o);
    }
  }
  return out;
}

/** OPA's Annotations.toObject(): only the known fields, empty ones left out. */
function toObject(raw: RawAnnotation, scope: string): Record<string, unknown> {
  const o: Record<string, unknown> = { scope };
  if (typeof raw.title === 'string' && raw.title) o.title = raw.title;
  if (raw.entrypoint === true) o.entrypoint = true;
  if (typeof raw.description === 'string' && raw.description) o.description = raw.description;
  if (Array.isArray(raw.organizations) && raw.organizations.length > 0) o.organizations = raw.organizations.map(String);
  const rr = Array.isArray(raw.related_resources) ? raw.related_resources.map(relatedResource).filter(Boolean) : [];
  if (rr.length > 0) o.related_resources = rr;
  const authors = Array.isArray(raw.authors) ? raw.authors.map(author).filter(Boolean) : [];
  if (authors.length > 0) o.authors = authors;
  const sc = schemas(raw.schemas);
  if (sc && sc.length > 0) o.schemas = sc;
  if (raw.custom && typeof raw.custom === 'object' && Object.keys(raw.custom).length > 0) o.custom = raw.custom;
  return o;
}

export class AnnotationSet {
  private readonly byRule = new Map<Rule, Annotation[]>();
  private readonly byPackage = new Map<string, Annotation>();
  /** document (rule paths) and subpackages (package paths) scopes, as OPA's byPath tree. */
  private readonly byPath = new Map<string, Annotation>();
  private readonly moduleOf = new Map<Rule, Module>();

  constructor(
    modules: Module[],
    private readonly ruleRef: (r: Rule) => Term[],
  ) {
    for (const m of modules) {
      for (const rule of m.rules) for (let r: Rule | undefined = rule; r; r = r.else) this.moduleOf.set(r, m);
      this.addModule(m);
    }
  }

  private addModule(m: Module): void {
    const stmts: Array<{ row: number; node: Rule | 'package' | 'import' }> = [
      { row: m.package.location?.row ?? 0, node: 'package' as const },
      ...m.imports.map((i) => ({ row: i.location?.row ?? 0, node: 'import' as const })),
      ...m.rules.map((r) => ({ row: r.location?.row ?? 0, node: r })),
    ].sort((a, b) => a.row - b.row);
    for (const raw of m.annotations ?? []) {
      const row = raw.location?.row ?? 0;
      const target = stmts.find((s) => s.row > row)?.node;
      if (target === undefined || target === 'import') continue;
      // The parser defaults the scope by position; OPA defaults `entrypoint: true` rules to document.
      const scope = raw.scope === 'rule' && raw.entrypoint === true && target !== 'package' ? 'document' : raw.scope;
      const path = target === 'package' ? m.package.path : this.groundPrefix(target);
      const a: Annotation = { object: toObject(raw, scope), row, col: raw.location?.col ?? 0, file: raw.location?.file ?? '', path };
      if (scope === 'rule' && target !== 'package') this.byRule.set(target, [...(this.byRule.get(target) ?? []), a]);
      else if (scope === 'package' && target === 'package') {
        if (!this.byPackage.has(pathKey(path))) this.byPackage.set(pathKey(path), a);
      } else if ((scope === 'document' && target !== 'package') || (scope === 'subpackages' && target === 'package')) {
        if (!this.byPath.has(pathKey(path))) this.byPath.set(pathKey(path), a);
      }
    }
  }

  private groundPrefix(rule: Rule): Term[] {
    const ref = this.ruleRef(rule);
    let n = 1;
    while (n < ref.length && isGroundPathTerm(ref[n])) n++;
    return ref.slice(0, n);
  }

  /** Rule-scope annotations of `rule`, closest (latest location) first. */
  private ruleScope(rule: Rule): Annotation[] {
    return [...(this.byRule.get(rule) ?? [])].sort((a, b) => (a.file !== b.file ? (a.file < b.file ? 1 : -1) : b.row - a.row || b.col - a.col));
  }

  /** The value of rego.metadata.chain() in `rule`. */
  chain(rule: Rule): Term {
    const entry = (path: Term[], a?: Annotation) => ({ path: path.slice(1).map(pathValue), ...(a ? { annotations: a.object } : {}) });
    const out: unknown[] = [];
    const own = this.ruleScope(rule);
    const rulePath = this.groundPrefix(rule);
    if (own.length > 0) out.push(...own.map((a) => entry(a.path, a)));
    else out.push(entry(rulePath));
    const doc = this.byPath.get(pathKey(rulePath));
    if (doc) out.push(entry(doc.path, doc));
    const m = this.moduleOf.get(rule);
    if (m) {
      const pkg = this.byPackage.get(pathKey(m.package.path));
      if (pkg) out.push(entry(pkg.path, pkg));
      // subpackages: the package itself, then its ancestors (closest first)
      for (let n = m.package.path.length; n >= 2; n--) {
        const sub = this.byPath.get(pathKey(m.package.path.slice(0, n)));
        if (sub) out.push(entry(sub.path, sub));
      }
    }
    return jsonToTerm(out);
  }

  /**
   * The `schemas:` entries that apply to `rule`, in OPA's getRuleAnnotation order (subpackages
   * scopes from the outermost package in, the package scope, the document scope, the rule's own
   * blocks): later entries override earlier ones for the same path.
   */
  schemaAnnotations(rule: Rule): Array<{ path: string[]; schema?: string[]; definition?: unknown; location: { file: string; row: number; col: number } }> {
    const blocks: Annotation[] = [];
    const m = this.moduleOf.get(rule);
    if (m) {
      for (let n = 2; n <= m.package.path.length; n++) {
        const sub = this.byPath.get(pathKey(m.package.path.slice(0, n)));
        if (sub && sub.object.scope === 'subpackages') blocks.push(sub);
      }
      const pkg = this.byPackage.get(pathKey(m.package.path));
      if (pkg) blocks.push(pkg);
    }
    const doc = this.byPath.get(pathKey(this.groundPrefix(rule)));
    if (doc && doc.object.scope === 'document') blocks.push(doc);
    blocks.push(...this.ruleScope(rule).reverse());
    return blocks.flatMap((a) =>
      ((a.object.schemas as Array<{ path: string[]; schema?: string[]; definition?: unknown }> | undefined) ?? []).map((x) => ({ ...x, location: { file: a.file, row: a.row, col: a.col } })),
    );
  }

  /** The value of rego.metadata.rule() in `rule`: its closest rule-scope block, else its document block, else {}. */
  rule(rule: Rule): Term {
    const own = this.ruleScope(rule)[0] ?? this.byPath.get(pathKey(this.groundPrefix(rule)));
    return jsonToTerm(own ? own.object : {});
  }
}

export const METADATA_CALLS = new Set(['rego.metadata.chain', 'rego.metadata.rule']);
