// Which schemas type which rules (OPA's typeChecker with a SchemaSet and
// WithUseTypeCheckAnnotations): `input` of every rule and query from the set's `schema.input`,
// then per rule the `schemas:` of its METADATA annotations (and of the packages given in
// SchemaOptions.packages), each a path (`input`, `input.x`, `data.y`) and a schema by reference
// (`schema.a.b`) or inline.
import type { Rule, Term } from '../ast/types.js';
import { AnnotationSet } from '../planner/metadata.js';
import { TYPE_ERR, error, type CompileContext } from './context.js';
import { ruleRef } from './ruletree.js';
import { schemaToType } from './schema.js';
import type { TypeEnv } from './typeenv.js';
import type { SchemaOptions } from './types.js';
import { newObject, type RegoType } from './typesys.js';
import type { RegoError } from '../ast/types.js';

const pathTerms = (path: string[]): Term[] => path.map((p, i) => ({ value: i === 0 ? { type: 'var', value: p } : { type: 'string', value: p } }));

export class RuleSchemas {
  errors: RegoError[] = [];
  private readonly types = new Map<string, RegoType>();
  private annotations?: AnnotationSet;

  constructor(
    private readonly c: CompileContext,
    private readonly opts: SchemaOptions,
  ) {}

  private typeOf(key: string, schema: unknown, base?: string): RegoType {
    let t = this.types.get(key);
    if (!t) this.types.set(key, (t = schemaToType(schema, this.opts.resolve, base)));
    return t;
  }

  /** The environment with `input` typed by the set's `schema.input`, when there is one. */
  typeRoot(env: TypeEnv): TypeEnv {
    const wrapped = env.wrap();
    const input = this.opts.set?.input;
    if (input !== undefined) wrapped.tree.putOne({ type: 'var', value: 'input' }, this.typeOf('schema.input', input, this.opts.bases?.input));
    return wrapped;
  }

  /** Path types for one rule: package defaults, then its annotations (later ones win). */
  forRule(rule: Rule): Array<{ path: Term[]; type: RegoType }> {
    const out: Array<{ path: Term[]; type: RegoType }> = [];
    const m = this.c.moduleOf(rule);
    if (!m) return out;
    const pkg = m.package.path.slice(1).map((t) => (t.value.type === 'string' ? t.value.value : '')).join('.');
    for (const p of this.opts.packages ?? []) {
      if (pkg === p.package || pkg.startsWith(p.package + '.')) out.push({ path: pathTerms(['input']), type: this.typeOf(`package:${p.package}`, p.input, p.base) });
    }
    this.annotations ??= new AnnotationSet(this.c.sorted.map((x) => x.module), (r) => ruleRef(r, this.c.moduleOf(r)));
    for (const a of this.annotations.schemaAnnotations(rule)) {
      const loc = { file: a.location.file, row: a.location.row, col: a.location.col, offset: 0 };
      if (a.path.length === 0 || (a.path[0] !== 'input' && a.path[0] !== 'data')) {
        this.once(error(TYPE_ERR, `invalid schema annotation path: ${a.path.join('.')}`, loc));
        continue;
      }
      let type: RegoType;
      if (a.schema) {
        const key = a.schema.slice(1).join('.');
        const schema = a.schema[0] === 'schema' ? this.opts.set?.[key] : undefined;
        if (schema === undefined) {
          this.once(error(TYPE_ERR, `undefined schema: ${a.schema.join('.')}`, loc));
          continue;
        }
        type = this.typeOf(`schema.${key}`, schema, this.opts.bases?.[key]);
      } else if (a.definition !== undefined) {
        type = schemaToType(a.definition, this.opts.resolve);
      } else continue;
      out.push(...override(out, a.path, type));
    }
    return out;
  }

  private readonly reported = new Set<string>();
  private once(e: RegoError): void {
    const k = `${e.location?.file}:${e.location?.row}:${e.message}`;
    if (this.reported.has(k)) return;
    this.reported.add(k);
    this.c.err(e);
  }
}

/**
 * OPA's override for `input.a.b` when `input` already has a type: the object type with `a.b`
 * replaced; otherwise the path gets the type on its own.
 */
function override(earlier: Array<{ path: Term[]; type: RegoType }>, path: string[], type: RegoType): Array<{ path: Term[]; type: RegoType }> {
  const base = [...earlier].reverse().find((e) => e.path.length === 1 && e.path[0]!.value.type === 'var' && e.path[0]!.value.value === path[0]);
  if (path.length === 1 || !base) return [{ path: pathTerms(path), type }];
  return [{ path: base.path, type: setIn(base.type, path.slice(1), type) }];
}

function setIn(t: RegoType, rest: string[], type: RegoType): RegoType {
  if (rest.length === 0) return type;
  const statics = t.kind === 'object' ? [...(t.static ?? [])] : [];
  const i = statics.findIndex(([k]) => k.type === 'string' && k.value === rest[0]);
  const inner = i >= 0 && statics[i]![1] ? statics[i]![1]! : newObject([]);
  const v = setIn(inner, rest.slice(1), type);
  if (i >= 0) statics[i] = [statics[i]![0], v];
  else statics.push([{ type: 'string', value: rest[0]! }, v]);
  return newObject(statics, t.kind === 'object' ? t.dynamic : undefined);
}

