// graphql.* (OPA's topdown/graphql.go, which uses vektah/gqlparser): parsing and validation with
// graphql-js, ASTs laid out in gqlparser's JSON shape and pruned as OPA prunes them (no Position,
// no null or empty values). AST objects given back as arguments are printed to GraphQL text first.
import type {
  ArgumentNode,
  ConstDirectiveNode,
  DefinitionNode,
  DirectiveNode,
  DocumentNode,
  FieldDefinitionNode,
  InputValueDefinitionNode,
  SelectionNode,
  TypeNode,
  ValueNode,
} from 'graphql';
import { builtinError, typeError } from './errors.js';
import { GqlSchemaError, validateSchemaDocument } from './graphql-schema.js';
import { lazy } from './lazy.js';
import type { BuiltinTable } from './types.js';

type Json = Record<string, unknown>;

const graphql = lazy<typeof import('graphql')>('graphql');

/** graphql-js's node kinds (only read once graphql-js parsed something). */
const kind = () => graphql().Kind;

// ---- graphql-js AST -> gqlparser JSON ----

const VALUE_KIND: Record<string, number> = {
  Variable: 0, IntValue: 1, FloatValue: 2, StringValue: 3, BooleanValue: 5, NullValue: 6, EnumValue: 7, ListValue: 8, ObjectValue: 9,
};

function gqType(t: TypeNode): Json {
  if (t.kind === kind().NON_NULL_TYPE) return { ...gqType(t.type), NonNull: true };
  if (t.kind === kind().LIST_TYPE) return { Elem: gqType(t.type), NamedType: '', NonNull: false };
  return { NamedType: t.name.value, NonNull: false };
}

function gqValue(v: ValueNode): Json {
  const base = { ExpectedTypeHasDefault: false };
  switch (v.kind) {
    case kind().VARIABLE:
      return { ...base, Kind: 0, Raw: v.name.value };
    case kind().INT:
    case kind().FLOAT:
    case kind().ENUM:
      return { ...base, Kind: VALUE_KIND[v.kind], Raw: v.value };
    case kind().STRING:
      return { ...base, Kind: v.block ? 4 : 3, Raw: v.value };
    case kind().BOOLEAN:
      return { ...base, Kind: 5, Raw: String(v.value) };
    case kind().NULL:
      return { ...base, Kind: 6, Raw: 'null' };
    case kind().LIST:
      return { ...base, Kind: 8, Raw: '', Children: v.values.map((x) => ({ Name: '', Value: gqValue(x) })) };
    case kind().OBJECT:
      return { ...base, Kind: 9, Raw: '', Children: v.fields.map((f) => ({ Name: f.name.value, Value: gqValue(f.value) })) };
  }
}

const gqArgs = (args: readonly ArgumentNode[] | undefined) => (args ?? []).map((a) => ({ Name: a.name.value, Value: gqValue(a.value) }));
const gqDirectives = (ds: readonly (DirectiveNode | ConstDirectiveNode)[] | undefined) =>
  (ds ?? []).map((d) => ({ Name: d.name.value, Arguments: gqArgs(d.arguments), Location: '' }));

function gqSelections(sels: readonly SelectionNode[] | undefined): Json[] {
  return (sels ?? []).map((s) => {
    if (s.kind === kind().FIELD) {
      return { Alias: (s.alias ?? s.name).value, Name: s.name.value, Arguments: gqArgs(s.arguments), Directives: gqDirectives(s.directives), SelectionSet: gqSelections(s.selectionSet?.selections) };
    }
    if (s.kind === kind().FRAGMENT_SPREAD) return { Name: s.name.value, Directives: gqDirectives(s.directives) };
    return { TypeCondition: s.typeCondition?.name.value ?? '', Directives: gqDirectives(s.directives), SelectionSet: gqSelections(s.selectionSet.selections) };
  });
}

function gqQuery(doc: DocumentNode): Json {
  const ops: Json[] = [];
  const frags: Json[] = [];
  for (const d of doc.definitions) {
    if (d.kind === kind().OPERATION_DEFINITION) {
      ops.push({
        Operation: d.operation,
        Name: d.name?.value ?? '',
        VariableDefinitions: (d.variableDefinitions ?? []).map((v) => ({
          Variable: v.variable.name.value,
          Type: gqType(v.type),
          DefaultValue: v.defaultValue ? gqValue(v.defaultValue) : null,
          Directives: gqDirectives(v.directives),
          Used: false,
        })),
        Directives: gqDirectives(d.directives),
        SelectionSet: gqSelections(d.selectionSet.selections),
      });
    } else if (d.kind === kind().FRAGMENT_DEFINITION) {
      frags.push({ Name: d.name.value, TypeCondition: d.typeCondition.name.value, Directives: gqDirectives(d.directives), SelectionSet: gqSelections(d.selectionSet.selections) });
    }
  }
  return { Operations: ops, Fragments: frags };
}

const desc = (n: { description?: { value: string } }) => n.description?.value ?? '';

function gqInputValue(a: InputValueDefinitionNode): Json {
  return { Description: desc(a), Name: a.name.value, DefaultValue: a.defaultValue ? gqValue(a.defaultValue) : null, Type: gqType(a.type), Directives: gqDirectives(a.directives) };
}

function gqField(f: FieldDefinitionNode | InputValueDefinitionNode): Json {
  if (f.kind === kind().INPUT_VALUE_DEFINITION) return gqInputValue(f);
  return { Description: desc(f), Name: f.name.value, Arguments: (f.arguments ?? []).map(gqInputValue), Type: gqType(f.type), Directives: gqDirectives(f.directives) };
}

const TYPE_KINDS: Record<string, string> = {
  ScalarTypeDefinition: 'SCALAR', ObjectTypeDefinition: 'OBJECT', InterfaceTypeDefinition: 'INTERFACE', UnionTypeDefinition: 'UNION',
  EnumTypeDefinition: 'ENUM', InputObjectTypeDefinition: 'INPUT_OBJECT',
  ScalarTypeExtension: 'SCALAR', ObjectTypeExtension: 'OBJECT', InterfaceTypeExtension: 'INTERFACE', UnionTypeExtension: 'UNION',
  EnumTypeExtension: 'ENUM', InputObjectTypeExtension: 'INPUT_OBJECT',
};

function gqDefinition(d: DefinitionNode): Json {
  const n = d as unknown as Json & { name: { value: string }; directives?: ConstDirectiveNode[] };
  const fields = (n.fields as Array<FieldDefinitionNode | InputValueDefinitionNode> | undefined) ?? [];
  return {
    Kind: TYPE_KINDS[d.kind],
    Description: desc(n as { description?: { value: string } }),
    Name: n.name.value,
    Directives: gqDirectives(n.directives),
    Interfaces: ((n.interfaces as Array<{ name: { value: string } }> | undefined) ?? []).map((i) => i.name.value),
    Fields: fields.map(gqField),
    Types: ((n.types as Array<{ name: { value: string } }> | undefined) ?? []).map((t) => t.name.value),
    EnumValues: ((n.values as Array<{ name: { value: string }; directives?: ConstDirectiveNode[]; description?: { value: string } }> | undefined) ?? []).map((v) => ({
      Description: desc(v),
      Name: v.name.value,
      Directives: gqDirectives(v.directives),
    })),
    BuiltIn: false,
  };
}

function gqSchema(doc: DocumentNode): Json {
  const out: Record<string, Json[]> = { Schema: [], SchemaExtension: [], Directives: [], Definitions: [], Extensions: [] };
  for (const d of doc.definitions) {
    if (d.kind === kind().SCHEMA_DEFINITION || d.kind === kind().SCHEMA_EXTENSION) {
      const s = { Description: d.kind === kind().SCHEMA_DEFINITION ? desc(d) : '', Directives: gqDirectives(d.directives), OperationTypes: (d.operationTypes ?? []).map((o) => ({ Operation: o.operation, Type: o.type.name.value })) };
      (d.kind === kind().SCHEMA_DEFINITION ? out.Schema : out.SchemaExtension).push(s);
    } else if (d.kind === kind().DIRECTIVE_DEFINITION) {
      out.Directives.push({ Description: desc(d), Name: d.name.value, Arguments: (d.arguments ?? []).map(gqInputValue), Locations: d.locations.map((l) => l.value), IsRepeatable: d.repeatable });
    } else if (TYPE_KINDS[d.kind]) {
      (d.kind.endsWith('Extension') ? out.Extensions : out.Definitions).push(gqDefinition(d));
    }
  }
  return out;
}

/** OPA's pruneIrrelevantGraphQLASTNodes. */
export function prune(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const e of v) {
      if (e === null || e === undefined) continue;
      const p = prune(e);
      if (p && typeof p === 'object' && (Array.isArray(p) ? p.length === 0 : Object.keys(p).length === 0)) continue;
      out.push(p);
    }
    return out;
  }
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, e] of Object.entries(v)) {
      if (k === 'Position' || e === null || e === undefined) continue;
      const p = prune(e);
      if (p && typeof p === 'object' && (Array.isArray(p) ? p.length === 0 : Object.keys(p).length === 0)) continue;
      out[k] = p;
    }
    return out;
  }
  return v;
}

// ---- gqlparser JSON -> GraphQL text (for AST arguments) ----

const arr = (x: unknown): Json[] => (Array.isArray(x) ? (x as Json[]) : []);
const s = (x: unknown): string => (typeof x === 'string' ? x : '');

function printType(t: unknown): string {
  const o = (t ?? {}) as Json;
  const base = o.Elem ? `[${printType(o.Elem)}]` : s(o.NamedType);
  return o.NonNull ? `${base}!` : base;
}

function printValue(v: unknown): string {
  const o = (v ?? {}) as Json;
  switch (o.Kind) {
    case 0:
      return `$${s(o.Raw)}`;
    case 3:
    case 4:
      return JSON.stringify(s(o.Raw));
    case 8:
      return `[${arr(o.Children).map((c) => printValue(c.Value)).join(', ')}]`;
    case 9:
      return `{${arr(o.Children).map((c) => `${s(c.Name)}: ${printValue(c.Value)}`).join(', ')}}`;
    default:
      return s(o.Raw);
  }
}

const printArgs = (args: unknown) => {
  const a = arr(args);
  return a.length ? `(${a.map((x) => `${s(x.Name)}: ${printValue(x.Value)}`).join(', ')})` : '';
};
const printDirectives = (ds: unknown) => arr(ds).map((d) => ` @${s(d.Name)}${printArgs(d.Arguments)}`).join('');
const printDesc = (d: unknown) => (s(d) ? `${JSON.stringify(s(d))} ` : '');

function printSelections(sels: unknown): string {
  const list = arr(sels);
  if (!list.length) return '';
  return ` { ${list
    .map((x) => {
      if ('Alias' in x || ('Name' in x && 'SelectionSet' in x) || ('Name' in x && 'Arguments' in x)) {
        const alias = s(x.Alias) && s(x.Alias) !== s(x.Name) ? `${s(x.Alias)}: ` : '';
        return `${alias}${s(x.Name)}${printArgs(x.Arguments)}${printDirectives(x.Directives)}${printSelections(x.SelectionSet)}`;
      }
      if ('TypeCondition' in x || !('Name' in x)) return `...${s(x.TypeCondition) ? ` on ${s(x.TypeCondition)}` : ''}${printDirectives(x.Directives)}${printSelections(x.SelectionSet)}`;
      return `...${s(x.Name)}${printDirectives(x.Directives)}`;
    })
    .join(' ')} }`;
}

export function printQuery(doc: Json): string {
  const ops = arr(doc.Operations).map((o) => {
    const vars = arr(o.VariableDefinitions);
    const v = vars.length ? `(${vars.map((d) => `$${s(d.Variable)}: ${printType(d.Type)}${d.DefaultValue ? ` = ${printValue(d.DefaultValue)}` : ''}`).join(', ')})` : '';
    return `${s(o.Operation) || 'query'} ${s(o.Name)}${v}${printDirectives(o.Directives)}${printSelections(o.SelectionSet) || ' { __typename }'}`;
  });
  const frags = arr(doc.Fragments).map((f) => `fragment ${s(f.Name)} on ${s(f.TypeCondition)}${printDirectives(f.Directives)}${printSelections(f.SelectionSet)}`);
  return [...ops, ...frags].join('\n');
}

function printInputValue(a: Json): string {
  return `${printDesc(a.Description)}${s(a.Name)}: ${printType(a.Type)}${a.DefaultValue ? ` = ${printValue(a.DefaultValue)}` : ''}${printDirectives(a.Directives)}`;
}

function printDefinition(d: Json, extend: boolean): string {
  const kw: Record<string, string> = { SCALAR: 'scalar', OBJECT: 'type', INTERFACE: 'interface', UNION: 'union', ENUM: 'enum', INPUT_OBJECT: 'input' };
  let out = `${extend ? 'extend ' : printDesc(d.Description)}${kw[s(d.Kind)] ?? 'type'} ${s(d.Name)}`;
  const ifs = arr(d.Interfaces) as unknown as string[];
  if (ifs.length) out += ` implements ${ifs.join(' & ')}`;
  out += printDirectives(d.Directives);
  const types = arr(d.Types) as unknown as string[];
  if (types.length) out += ` = ${types.join(' | ')}`;
  const values = arr(d.EnumValues);
  if (values.length) out += ` { ${values.map((v) => `${printDesc(v.Description)}${s(v.Name)}${printDirectives(v.Directives)}`).join(' ')} }`;
  const fields = arr(d.Fields);
  if (fields.length) {
    out += ` { ${fields
      .map((f) => (d.Kind === 'INPUT_OBJECT' ? printInputValue(f) : `${printDesc(f.Description)}${s(f.Name)}${arr(f.Arguments).length ? `(${arr(f.Arguments).map(printInputValue).join(', ')})` : ''}: ${printType(f.Type)}${printDirectives(f.Directives)}`))
      .join(' ')} }`;
  }
  return out;
}

export function printSchema(doc: Json): string {
  const parts: string[] = [];
  for (const sd of arr(doc.Schema)) parts.push(`${printDesc(sd.Description)}schema${printDirectives(sd.Directives)} { ${arr(sd.OperationTypes).map((o) => `${s(o.Operation)}: ${s(o.Type)}`).join(' ')} }`);
  for (const sd of arr(doc.SchemaExtension)) {
    const ops = arr(sd.OperationTypes);
    parts.push(`extend schema${printDirectives(sd.Directives)}${ops.length ? ` { ${ops.map((o) => `${s(o.Operation)}: ${s(o.Type)}`).join(' ')} }` : ''}`);
  }
  for (const dd of arr(doc.Directives)) {
    const args = arr(dd.Arguments);
    parts.push(`${printDesc(dd.Description)}directive @${s(dd.Name)}${args.length ? `(${args.map(printInputValue).join(', ')})` : ''}${dd.IsRepeatable ? ' repeatable' : ''} on ${(arr(dd.Locations) as unknown as string[]).join(' | ')}`);
  }
  for (const d of arr(doc.Definitions)) parts.push(printDefinition(d, false));
  for (const d of arr(doc.Extensions)) parts.push(printDefinition(d, true));
  return parts.join('\n');
}

// ---- parsing, validation ----

function parseError(err: unknown, source: string): Error {
  if (err instanceof graphql().GraphQLError) {
    let msg = err.message.replace(/^Syntax Error: /, '').replace(/\.$/, '').replace(/"([^A-Za-z0-9\s"])"/g, '$1');
    const loc = err.locations?.[0];
    // gqlparser's words for an empty `{}` and for broken strings
    const before = source.slice(0, err.positions?.[0] ?? 0).trimEnd();
    if (msg === 'Expected Name, found }' && before.endsWith('{')) msg = 'expected at least one definition, found }';
    if (msg.startsWith('Unterminated string') || msg.startsWith('Invalid character')) msg = 'Unexpected <Invalid>';
    return new Error(`${msg} in GraphQL string at location ${loc?.line ?? 0}:${loc?.column ?? 0}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function parseDoc(text: string, allowEmpty = false): DocumentNode {
  // gqlparser accepts an empty document; graphql-js does not
  if (allowEmpty && text.replace(/#[^\n]*/g, '').trim() === '') return { kind: kind().DOCUMENT, definitions: [] };
  try {
    return graphql().parse(text, { noLocation: false });
  } catch (err) {
    throw parseError(err, text);
  }
}

function queryDoc(v: unknown): DocumentNode {
  if (typeof v === 'string') return parseDoc(v, true);
  return parseDoc(printQuery(v as Json), true);
}

function schemaDoc(v: unknown): DocumentNode {
  if (typeof v === 'string') return parseDoc(v);
  return parseDoc(printSchema(v as Json));
}

/**
 * OPA's convertSchema: the schema validated as gqlparser validates it (graphql-schema.ts), then
 * built as a graphql-js schema for validating queries, without graphql-js's own schema checks
 * (an extension of a type that is not defined defines it, as in gqlparser).
 */
function buildSchema(doc: DocumentNode) {
  try {
    validateSchemaDocument(doc, (text) => graphql().parse(text));
  } catch (err) {
    if (err instanceof GqlSchemaError) throw new Error(`Error in gqlparser SchemaDocument to Schema conversion: input:${err.pos.line}: ${err.message}`);
    throw err;
  }
  const defined = new Set(doc.definitions.filter((d) => 'name' in d && !d.kind.endsWith('Extension') && d.kind !== kind().DIRECTIVE_DEFINITION).map((d) => (d as { name: { value: string } }).name.value));
  const definitions = doc.definitions.map((d) => {
    if (!d.kind.endsWith('TypeExtension')) return d;
    const name = (d as { name: { value: string } }).name.value;
    if (defined.has(name)) return d;
    defined.add(name);
    return { ...d, kind: d.kind.replace('Extension', 'Definition') } as DefinitionNode;
  });
  return graphql().buildASTSchema({ ...doc, definitions }, { assumeValidSDL: true, assumeValid: true });
}

function validateQuery(query: DocumentNode, schemaNode: DocumentNode): void {
  const schema = buildSchema(schemaNode);
  if (!schema.getQueryType()) {
    // graphql-js cannot validate against a schema without a query root; gqlparser can, and an
    // operation then fails for want of a root type.
    const op = query.definitions.find((d) => d.kind === kind().OPERATION_DEFINITION);
    if (op) throw new Error(`Schema does not support operation type "${op.operation}" in GraphQL string at location ${op.loc?.startToken.line ?? 0}:${op.loc?.startToken.column ?? 0}`);
    return;
  }
  const errors = graphql().validate(schema, query, graphql().specifiedRules);
  if (errors.length) {
    const e = errors[0];
    const loc = e.locations?.[0];
    throw new Error(`${e.message.replace(/\.$/, '')} in GraphQL string at location ${loc?.line ?? 0}:${loc?.column ?? 0}`);
  }
}

function stringOrObject(name: string, v: unknown, pos: number): void {
  if (typeof v !== 'string' && (v === null || typeof v !== 'object' || Array.isArray(v))) throw typeError(name, pos, v, 'string', 'object');
}

function wrap<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw builtinError(name, (err as Error).message);
  }
}

function ok(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

export const graphqlBuiltins: BuiltinTable = {
  'graphql.parse_query': (q) => {
    const name = 'graphql.parse_query';
    if (typeof q !== 'string') throw typeError(name, 1, q, 'string');
    return prune(gqQuery(wrap(name, () => parseDoc(q))));
  },
  'graphql.parse_schema': (sc) => {
    const name = 'graphql.parse_schema';
    if (typeof sc !== 'string') throw typeError(name, 1, sc, 'string');
    return prune(gqSchema(wrap(name, () => parseDoc(sc))));
  },
  'graphql.parse': (q, sc) => {
    const name = 'graphql.parse';
    stringOrObject(name, q, 0);
    stringOrObject(name, sc, 1);
    const qd = wrap(name, () => queryDoc(q));
    const sd = wrap(name, () => schemaDoc(sc));
    wrap(name, () => validateQuery(qd, sd));
    return [prune(gqQuery(qd)), prune(gqSchema(sd))];
  },
  'graphql.parse_and_verify': (q, sc) => {
    try {
      const qd = queryDoc(q);
      const sd = schemaDoc(sc);
      validateQuery(qd, sd);
      return [true, prune(gqQuery(qd)), prune(gqSchema(sd))];
    } catch {
      return [false, {}, {}];
    }
  },
  'graphql.is_valid': (q, sc) => ok(() => validateQuery(queryDoc(q), schemaDoc(sc))),
  'graphql.schema_is_valid': (sc) => ok(() => buildSchema(schemaDoc(sc))),
};
