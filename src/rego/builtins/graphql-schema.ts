// Schema validation as OPA's GraphQL builtins do it: gqlparser's ValidateSchemaDocument (OPA's
// internal/gqlparser/validator/schema.go) over the schema merged with gqlparser's prelude. It
// accepts what graphql-js's validateSchema refuses in places (a scalar as root type, a
// repeated directive, input objects referring to themselves) and refuses what graphql-js
// accepts in others, so schema_is_valid and friends decide with this port, not graphql-js.
// The schema is read from graphql-js's AST; gqlparser's first error is reported.
import type { DefinitionNode, DocumentNode, TypeNode } from 'graphql';

type Kind = 'SCALAR' | 'OBJECT' | 'INTERFACE' | 'UNION' | 'ENUM' | 'INPUT_OBJECT';

interface TypeRef {
  named?: string;
  elem?: TypeRef;
  nonNull: boolean;
  pos: Pos;
}

interface Pos {
  line: number;
  column: number;
}

interface Arg {
  name: string;
  type: TypeRef;
  hasDefault: boolean;
  directives: Dir[];
  pos: Pos;
}

interface Dir {
  name: string;
  pos: Pos;
}

interface Field {
  name: string;
  type: TypeRef;
  args: Arg[];
  directives: Dir[];
  pos: Pos;
}

interface Definition {
  kind: Kind;
  name: string;
  fields: Field[];
  interfaces: string[];
  types: string[];
  enumValues: string[];
  directives: Dir[];
  builtIn: boolean;
  pos: Pos;
}

interface DirectiveDefinition {
  name: string;
  args: Arg[];
  locations: string[];
  pos: Pos;
}

/** gqlparser's first schema error: its message and position. */
export class GqlSchemaError extends Error {
  constructor(
    message: string,
    readonly pos: Pos,
  ) {
    super(message);
  }
}

const KINDS: Record<string, Kind> = {
  ScalarTypeDefinition: 'SCALAR', ScalarTypeExtension: 'SCALAR',
  ObjectTypeDefinition: 'OBJECT', ObjectTypeExtension: 'OBJECT',
  InterfaceTypeDefinition: 'INTERFACE', InterfaceTypeExtension: 'INTERFACE',
  UnionTypeDefinition: 'UNION', UnionTypeExtension: 'UNION',
  EnumTypeDefinition: 'ENUM', EnumTypeExtension: 'ENUM',
  InputObjectTypeDefinition: 'INPUT_OBJECT', InputObjectTypeExtension: 'INPUT_OBJECT',
};

/** gqlparser's prelude: the builtin scalars and directives, and the introspection types. */
const PRELUDE = `
scalar Int
scalar Float
scalar String
scalar Boolean
scalar ID
directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
directive @deprecated(reason: String = "No longer supported") on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE
directive @specifiedBy(url: String!) on SCALAR
directive @oneOf on INPUT_OBJECT
type __Schema { description: String types: [__Type!]! queryType: __Type! mutationType: __Type subscriptionType: __Type directives: [__Directive!]! }
type __Type { kind: __TypeKind! name: String description: String fields(includeDeprecated: Boolean = false): [__Field!] interfaces: [__Type!] possibleTypes: [__Type!] enumValues(includeDeprecated: Boolean = false): [__EnumValue!] inputFields(includeDeprecated: Boolean = false): [__InputValue!] ofType: __Type specifiedByURL: String isOneOf: Boolean }
type __Field { name: String! description: String args(includeDeprecated: Boolean = false): [__InputValue!]! type: __Type! isDeprecated: Boolean! deprecationReason: String }
type __InputValue { name: String! description: String type: __Type! defaultValue: String isDeprecated: Boolean! deprecationReason: String }
type __EnumValue { name: String! description: String isDeprecated: Boolean! deprecationReason: String }
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
type __Directive { name: String! description: String locations: [__DirectiveLocation!]! args(includeDeprecated: Boolean = false): [__InputValue!]! isRepeatable: Boolean! }
enum __DirectiveLocation { QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD INLINE_FRAGMENT VARIABLE_DEFINITION SCHEMA SCALAR OBJECT FIELD_DEFINITION ARGUMENT_DEFINITION INTERFACE UNION ENUM ENUM_VALUE INPUT_OBJECT INPUT_FIELD_DEFINITION }
`;

interface Node {
  kind: string;
  loc?: { startToken: { line: number; column: number; prev: { line: number; column: number; kind: string } | null } };
  name?: { value: string; loc?: Node['loc'] };
  description?: unknown;
}

/** gqlparser's positions: a definition at its keyword (after any description), others at their start. */
function posOf(n: Node | undefined, keyword = false): Pos {
  const name = n?.name?.loc?.startToken;
  if (keyword && n?.description && name?.prev) return { line: name.prev.line, column: name.prev.column };
  const t = n?.loc?.startToken;
  return t ? { line: t.line, column: t.column } : { line: 0, column: 0 };
}

function typeRef(t: TypeNode): TypeRef {
  const pos = posOf(t as unknown as Node);
  if (t.kind === 'NonNullType') return { ...typeRef(t.type), nonNull: true, pos };
  if (t.kind === 'ListType') return { elem: typeRef(t.type), nonNull: false, pos };
  return { named: t.name.value, nonNull: false, pos };
}

const typeName = (t: TypeRef): string => (t.named !== undefined ? t.named : typeName(t.elem!));

function typeString(t: TypeRef): string {
  const s = t.named !== undefined ? t.named : `[${typeString(t.elem!)}]`;
  return t.nonNull ? `${s}!` : s;
}

function dirs(list: ReadonlyArray<{ name: { value: string } }> | undefined): Dir[] {
  return (list ?? []).map((d) => ({ name: d.name.value, pos: posOf(d as unknown as Node) }));
}

function args(list: ReadonlyArray<{ name: { value: string }; type: TypeNode; defaultValue?: unknown; directives?: ReadonlyArray<{ name: { value: string } }> }> | undefined): Arg[] {
  return (list ?? []).map((a) => ({ name: a.name.value, type: typeRef(a.type), hasDefault: a.defaultValue !== undefined, directives: dirs(a.directives), pos: posOf(a as unknown as Node) }));
}

function definitionOf(d: DefinitionNode, builtIn: boolean): Definition {
  const n = d as unknown as {
    name: { value: string };
    fields?: ReadonlyArray<{ name: { value: string }; type: TypeNode; arguments?: Parameters<typeof args>[0]; directives?: Parameters<typeof dirs>[0] }>;
    interfaces?: ReadonlyArray<{ name: { value: string } }>;
    types?: ReadonlyArray<{ name: { value: string } }>;
    values?: ReadonlyArray<{ name: { value: string } }>;
    directives?: Parameters<typeof dirs>[0];
  };
  return {
    kind: KINDS[d.kind]!,
    name: n.name.value,
    fields: (n.fields ?? []).map((f) => ({ name: f.name.value, type: typeRef(f.type), args: args(f.arguments), directives: dirs(f.directives), pos: posOf(f as unknown as Node) })),
    interfaces: (n.interfaces ?? []).map((i) => i.name.value),
    types: (n.types ?? []).map((t) => t.name.value),
    enumValues: (n.values ?? []).map((v) => v.name.value),
    directives: dirs(n.directives),
    builtIn,
    pos: posOf(d as unknown as Node, true),
  };
}

interface SchemaDoc {
  definitions: Definition[];
  extensions: Definition[];
  directives: DirectiveDefinition[];
  schema: Array<{ ops: Array<{ operation: string; type: string; pos: Pos }>; pos: Pos }>;
  schemaExtensions: Array<{ ops: Array<{ operation: string; type: string; pos: Pos }> }>;
}

function collect(doc: DocumentNode, builtIn: boolean, into: SchemaDoc): void {
  for (const d of doc.definitions) {
    if (d.kind === 'DirectiveDefinition') {
      into.directives.push({ name: d.name.value, args: args(d.arguments), locations: d.locations.map((l) => l.value), pos: posOf(d as unknown as Node, true) });
    } else if (d.kind === 'SchemaDefinition' || d.kind === 'SchemaExtension') {
      const ops = (d.operationTypes ?? []).map((o) => ({ operation: o.operation, type: o.type.name.value, pos: posOf(o as unknown as Node) }));
      if (d.kind === 'SchemaDefinition') into.schema.push({ ops, pos: posOf(d as unknown as Node, true) });
      else into.schemaExtensions.push({ ops });
    } else if (KINDS[d.kind]) {
      (d.kind.endsWith('Extension') ? into.extensions : into.definitions).push(definitionOf(d, builtIn));
    }
  }
}

let prelude: DocumentNode | undefined;

/**
 * Throws gqlparser's first error for the schema (merged after the prelude, as OPA's
 * convertSchema does). `parse` is graphql-js's parser (loaded by the caller).
 */
export function validateSchemaDocument(doc: DocumentNode, parse: (s: string) => DocumentNode): void {
  prelude ??= parse(PRELUDE);
  const sd: SchemaDoc = { definitions: [], extensions: [], directives: [], schema: [], schemaExtensions: [] };
  collect(prelude, true, sd);
  collect(doc, false, sd);
  const fail = (pos: Pos, message: string): never => {
    throw new GqlSchemaError(message, pos);
  };

  const types = new Map<string, Definition>();
  for (const def of sd.definitions) {
    if (types.has(def.name)) fail(def.pos, `Cannot redeclare type ${def.name}.`);
    types.set(def.name, def);
  }
  const defs = [...sd.definitions];
  for (const ext of sd.extensions) {
    let def = types.get(ext.name);
    if (!def) {
      // OPA's gqlparser: extending a type that is not defined defines it
      def = { kind: ext.kind, name: ext.name, fields: [], interfaces: [], types: [], enumValues: [], directives: [], builtIn: false, pos: ext.pos };
      types.set(ext.name, def);
      defs.push(def);
    }
    if (def.kind !== ext.kind) fail(ext.pos, `Cannot extend type ${ext.name} because the base type is a ${def.kind}, not ${ext.kind}.`);
    def.directives.push(...ext.directives);
    def.interfaces.push(...ext.interfaces);
    def.fields.push(...ext.fields);
    def.types.push(...ext.types);
    def.enumValues.push(...ext.enumValues);
  }
  // possible types, for field covariance
  const possible = new Map<string, Definition[]>();
  const addPossible = (name: string, def: Definition | undefined) => {
    if (!def) return;
    possible.set(name, [...(possible.get(name) ?? []), def]);
  };
  for (const def of defs) {
    if (def.kind === 'UNION') for (const t of def.types) addPossible(def.name, types.get(t));
    else if (def.kind === 'INPUT_OBJECT' || def.kind === 'OBJECT') {
      for (const i of def.interfaces) addPossible(i, def);
      addPossible(def.name, def);
    } else if (def.kind === 'INTERFACE') for (const i of def.interfaces) addPossible(i, def);
  }

  // builtin directives may be declared again (the later declaration counts); others may not
  const redeclarable = ['include', 'skip', 'deprecated', 'specifiedBy', 'oneOf'];
  const directives = new Map<string, DirectiveDefinition>();
  for (const dir of sd.directives) {
    if (directives.has(dir.name) && !redeclarable.includes(dir.name)) fail(dir.pos, `Cannot redeclare directive ${dir.name}.`);
    directives.set(dir.name, dir);
  }

  if (sd.schema.length > 1) fail(sd.schema[1]!.pos, 'Cannot have multiple schema entry points, consider schema extensions instead.');
  for (const entry of [...sd.schema, ...sd.schemaExtensions]) {
    for (const op of entry.ops) if (!types.has(op.type)) fail(op.pos, `Schema root ${op.operation} refers to a type ${op.type} that does not exist.`);
  }

  const validateName = (pos: Pos, name: string) => {
    if (name.startsWith('__')) fail(pos, `Name "${name}" must not begin with "__", which is reserved by GraphQL introspection.`);
  };
  const isInput = (d: Definition | undefined) => !!d && (d.kind === 'SCALAR' || d.kind === 'ENUM' || d.kind === 'INPUT_OBJECT');
  const validateDirectives = (list: Dir[], location: string, current?: DirectiveDefinition) => {
    for (const dir of list) {
      validateName(dir.pos, dir.name);
      if (current && dir.name === current.name) fail(dir.pos, `Directive ${current.name} cannot refer to itself.`);
      const def = directives.get(dir.name);
      if (!def) fail(dir.pos, `Undefined directive ${dir.name}.`);
      if (!def!.locations.includes(location)) fail(dir.pos, `Directive ${dir.name} is not applicable on ${location}.`);
    }
  };
  const validateArgs = (list: Arg[], current?: DirectiveDefinition) => {
    for (const a of list) {
      validateName(a.pos, a.name);
      if (!types.has(typeName(a.type))) fail(a.type.pos, `Undefined type ${typeName(a.type)}.`);
      const def = types.get(typeName(a.type));
      if (!isInput(def)) fail(a.pos, `cannot use ${typeString(a.type)} as argument ${a.name} because ${def!.kind} is not a valid input type`);
      validateDirectives(a.directives, 'ARGUMENT_DEFINITION', current);
    }
  };
  const covariant = (required: TypeRef, actual: TypeRef): boolean => {
    if (required.nonNull && !actual.nonNull) return false;
    if (required.named !== undefined) {
      if (required.named === actual.named) return true;
      return (possible.get(required.named) ?? []).some((pt) => pt.name === actual.named);
    }
    if (required.elem && !actual.elem) return false;
    return covariant(required.elem!, actual.elem!);
  };
  const compatible = (a: TypeRef, b: TypeRef): boolean => {
    if (a.nonNull !== b.nonNull) return false;
    if (a.named !== undefined || b.named !== undefined) return a.named === b.named;
    return compatible(a.elem!, b.elem!);
  };
  const validateImplements = (def: Definition, intfName: string) => {
    const intf = types.get(intfName);
    if (!intf) fail(def.pos, `Undefined type ${JSON.stringify(intfName)}.`);
    if (intf!.kind !== 'INTERFACE') fail(def.pos, `${JSON.stringify(intfName)} is a non interface type ${intf!.kind}.`);
    for (const rf of intf!.fields) {
      const found = def.fields.find((f) => f.name === rf.name);
      if (!found) fail(def.pos, `For ${def.name} to implement ${intf!.name} it must have a field called ${rf.name}.`);
      if (!covariant(rf.type, found!.type)) fail(found!.pos, `For ${def.name} to implement ${intf!.name} the field ${rf.name} must have type ${typeString(rf.type)}.`);
      for (const ra of rf.args) {
        const fa = found!.args.find((a) => a.name === ra.name);
        if (!fa) fail(found!.pos, `For ${def.name} to implement ${intf!.name} the field ${rf.name} must have the same arguments but it is missing ${ra.name}.`);
        if (!compatible(ra.type, fa!.type)) fail(fa!.pos, `For ${def.name} to implement ${intf!.name} the field ${rf.name} must have the same arguments but ${ra.name} has the wrong type.`);
      }
      for (const fa of found!.args) {
        if (!rf.args.some((a) => a.name === fa.name) && fa.type.nonNull && !fa.hasDefault) {
          fail(fa.pos, `For ${def.name} to implement ${intf!.name} any additional arguments on ${found!.name} must be optional or have a default value but ${fa.name} is required.`);
        }
      }
    }
    for (const transitive of intf!.interfaces) {
      if (!def.interfaces.includes(transitive)) {
        if (transitive === def.name) fail(def.pos, `Type ${def.name} cannot implement ${intfName} because it would create a circular reference.`);
        fail(def.pos, `Type ${def.name} must implement ${transitive} because it is implemented by ${intfName}.`);
      }
    }
  };
  const validateDefinition = (def: Definition) => {
    for (const f of def.fields) {
      validateName(f.pos, f.name);
      if (!types.has(typeName(f.type))) fail(f.type.pos, `Undefined type ${typeName(f.type)}.`);
      validateArgs(f.args);
      validateDirectives(f.directives, def.kind === 'INPUT_OBJECT' ? 'INPUT_FIELD_DEFINITION' : 'FIELD_DEFINITION');
    }
    for (const t of def.types) {
      const td = types.get(t);
      if (!td) fail(def.pos, `Undefined type ${JSON.stringify(t)}.`);
      if (td!.kind !== 'OBJECT') fail(def.pos, `${def.kind} type ${JSON.stringify(t)} must be OBJECT.`);
    }
    for (const i of def.interfaces) validateImplements(def, i);
    if (def.kind === 'OBJECT' || def.kind === 'INTERFACE') {
      if (def.fields.length === 0) fail(def.pos, `${def.kind} ${def.name}: must define one or more fields.`);
      for (const f of def.fields) {
        const t = types.get(typeName(f.type));
        if (t && t.kind === 'INPUT_OBJECT') fail(f.pos, `${def.kind} ${def.name}: field must be one of SCALAR, OBJECT, INTERFACE, UNION, ENUM.`);
      }
    } else if (def.kind === 'ENUM') {
      if (def.enumValues.length === 0) fail(def.pos, `${def.kind} ${def.name}: must define one or more unique enum values.`);
      for (const v of def.enumValues) if (v === 'true' || v === 'false' || v === 'null') fail(def.pos, `${def.kind} ${def.name}: non-enum value ${v}.`);
    } else if (def.kind === 'INPUT_OBJECT') {
      if (def.fields.length === 0) fail(def.pos, `${def.kind} ${def.name}: must define one or more input fields.`);
      for (const f of def.fields) {
        const t = types.get(typeName(f.type));
        if (t && !isInput(t)) fail(f.pos, `${t.kind} ${f.name}: field must be one of SCALAR, ENUM, INPUT_OBJECT.`);
      }
    }
    def.fields.forEach((f1, i) => {
      const dup = def.fields.slice(i + 1).find((f2) => f2.name === f1.name);
      if (dup) fail(dup.pos, `Field ${def.name}.${dup.name} can only be defined once.`);
    });
    if (!def.builtIn) validateName(def.pos, def.name);
    validateDirectives(def.directives, def.kind);
  };

  for (const name of [...types.keys()].sort()) validateDefinition(types.get(name)!);
  for (const name of [...directives.keys()].sort()) {
    const dir = directives.get(name)!;
    validateName(dir.pos, dir.name);
    validateArgs(dir.args, dir);
  }
}
