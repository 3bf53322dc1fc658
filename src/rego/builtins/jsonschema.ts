// json.verify_schema / json.match_schema (OPA's topdown/jsonschema.go) with ajv (draft-07,
// formats), errors laid out as OPA's gojsonschema reports them: {error, type, field, desc}.
// Operands as OPA's astValueToJSONSchemaLoader takes them: a string holding JSON, an object or
// an array; anything else is "wrong type, expected string or object".
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { builtinError } from './errors.js';
import { lazy } from './lazy.js';
import type { BuiltinTable } from './types.js';

const ajvModule = lazy<typeof import('ajv')>('ajv');
const formatsModule = lazy<{ default: (ajv: Ajv) => Ajv }>('ajv-formats');
let instance: Ajv | undefined;

/** The validator, made on first use (loading ajv costs a cold start more than it is used). */
function ajv(): Ajv {
  if (!instance) {
    instance = new (ajvModule().Ajv)({ allErrors: true, strict: false, validateSchema: true, logger: false });
    formatsModule().default(instance);
  }
  return instance;
}

const cache = new Map<string, ValidateFunction | Error>();
const PRIMITIVES = ['array', 'boolean', 'integer', 'number', 'null', 'object', 'string'];

/** gojsonschema's check for `type` values, which ajv reports differently. */
function badType(schema: unknown): string | undefined {
  if (Array.isArray(schema)) {
    for (const s of schema) {
      const b = badType(s);
      if (b) return b;
    }
    return undefined;
  }
  if (!schema || typeof schema !== 'object') return undefined;
  const o = schema as Record<string, unknown>;
  const types = typeof o.type === 'string' ? [o.type] : Array.isArray(o.type) ? o.type : [];
  for (const t of types) if (typeof t === 'string' && !PRIMITIVES.includes(t)) return t;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'enum' || k === 'const' || k === 'examples' || k === 'default') continue;
    const b = badType(v);
    if (b) return b;
  }
  return undefined;
}

/** OPA's astValueToJSONSchemaLoader: the JSON value of an operand, or its error text. */
function loaderOf(v: unknown): unknown {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      throw new Error('invalid JSON string');
    }
  }
  if (v !== null && typeof v === 'object') return v;
  throw new Error('wrong type, expected string or object');
}

function compileSchema(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  let hit = cache.get(key);
  if (!hit) {
    const bad = badType(schema);
    if (bad) hit = new Error(`has a primitive type that is NOT VALID -- given: /${bad}/ Expected valid values are:[${PRIMITIVES.join(' ')}]`);
    else {
      try {
        hit = ajv().compile(schema as object);
      } catch (err) {
        hit = new Error((err as Error).message);
      }
    }
    if (cache.size >= 100) cache.delete(cache.keys().next().value as string);
    cache.set(key, hit);
  }
  if (hit instanceof Error) throw hit;
  return hit;
}

function jsType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** One ajv error in gojsonschema's words. */
function describe(e: ErrorObject, doc: unknown): Record<string, string> {
  const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let field = segments.length ? segments.join('.') : '(root)';
  let value: unknown = doc;
  for (const s of segments) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[s] : undefined;
  const p = e.params as Record<string, unknown>;
  let type = e.keyword;
  let desc = e.message ?? e.keyword;
  switch (e.keyword) {
    case 'type':
      type = 'invalid_type';
      desc = `Invalid type. Expected: ${String(p.type).replace(/,/g, ', ')}, given: ${jsType(value)}`;
      break;
    case 'required':
      desc = `${String(p.missingProperty)} is required`;
      break;
    case 'additionalProperties':
      type = 'additional_property_not_allowed';
      desc = `Additional property ${String(p.additionalProperty)} is not allowed`;
      break;
    case 'enum':
      desc = `${field} must be one of the following: ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
      break;
    case 'const':
      desc = `${field} does not match: ${JSON.stringify(p.allowedValue)}`;
      break;
    case 'minimum':
      type = 'number_gte';
      desc = `Must be greater than or equal to ${String(p.limit)}`;
      break;
    case 'maximum':
      type = 'number_lte';
      desc = `Must be less than or equal to ${String(p.limit)}`;
      break;
    case 'minLength':
      type = 'string_gte';
      desc = `String length must be greater than or equal to ${String(p.limit)}`;
      break;
    case 'maxLength':
      type = 'string_lte';
      desc = `String length must be less than or equal to ${String(p.limit)}`;
      break;
    case 'pattern':
      type = 'pattern';
      desc = `Does not match pattern '${String(p.pattern)}'`;
      break;
    case 'format':
      type = 'format';
      desc = `Does not match format '${String(p.format)}'`;
      break;
    case 'minItems':
      type = 'array_min_items';
      desc = `Array must have at least ${String(p.limit)} items`;
      break;
    case 'maxItems':
      type = 'array_max_items';
      desc = `Array must have at most ${String(p.limit)} items`;
      break;
    case 'exclusiveMinimum':
      type = 'number_gt';
      desc = `Must be greater than ${String(p.limit)}`;
      break;
    case 'exclusiveMaximum':
      type = 'number_lt';
      desc = `Must be less than ${String(p.limit)}`;
      break;
    case 'multipleOf':
      type = 'multiple_of';
      desc = `Must be a multiple of ${String(p.multipleOf)}`;
      break;
    case 'uniqueItems':
      type = 'unique';
      // ajv names the later index first; gojsonschema the earlier
      desc = `array items[${Math.min(Number(p.i), Number(p.j))},${Math.max(Number(p.i), Number(p.j))}] must be unique`;
      break;
    case 'minProperties':
      type = 'array_min_properties';
      desc = `Must have at least ${String(p.limit)} properties`;
      break;
    case 'maxProperties':
      type = 'array_max_properties';
      desc = `Must have at most ${String(p.limit)} properties`;
      break;
    case 'anyOf':
      type = 'number_any_of';
      desc = 'Must validate at least one schema (anyOf)';
      break;
    case 'oneOf':
      type = 'number_one_of';
      desc = 'Must validate one and only one schema (oneOf)';
      break;
    case 'not':
      type = 'number_not';
      desc = 'Must not validate the schema (not)';
      break;
    case 'dependencies':
    case 'dependentRequired':
      type = 'missing_dependency';
      desc = `Has a dependency on ${String(p.property ?? p.missingProperty)}`;
      break;
    case 'contains':
      type = 'contains';
      desc = 'At least one of the items must match';
      break;
    case 'additionalItems':
      type = 'array_no_additional_items';
      desc = 'No additional items allowed on array';
      break;
    case 'propertyNames':
      type = 'invalid_property_name';
      desc = `Property name of "${String(p.propertyName)}" does not match`;
      break;
    case 'if':
      type = p.failingKeyword === 'else' ? 'condition_else' : 'condition_then';
      desc = p.failingKeyword === 'else' ? 'Must validate "else" as "if" was not valid' : 'Must validate "then" as "if" was valid';
      break;
    case 'false schema':
      type = 'false';
      desc = 'False always fails validation';
      break;
  }
  if (field === '') field = '(root)';
  return { error: `${field}: ${desc}`, type, field, desc };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export const jsonSchemaBuiltins: BuiltinTable = {
  // [true, null] for a valid schema, else [false, "jsonschema: <why>"]: never an error
  'json.verify_schema': (schema) => {
    try {
      compileSchema(loaderOf(schema));
      return [true, null];
    } catch (err) {
      return [false, `jsonschema: ${message(err)}`];
    }
  },
  // [valid, errors]; a document or schema that cannot be loaded is a builtin error
  'json.match_schema': (document, schema) => {
    const name = 'json.match_schema';
    let doc: unknown;
    let validate: ValidateFunction;
    try {
      doc = loaderOf(document);
      validate = compileSchema(loaderOf(schema));
    } catch (err) {
      throw builtinError(name, message(err));
    }
    if (validate(doc)) return [true, []];
    return [false, (validate.errors ?? []).map((e) => describe(e, doc))];
  },
};
