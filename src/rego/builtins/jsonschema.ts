// json.verify_schema / json.match_schema with ajv (draft-07, formats), errors laid out as OPA's
// gojsonschema-based implementation reports them: {error, type, field, desc}.
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { builtinError, typeError } from './errors.js';
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

function schemaOf(name: string, pos: number, v: unknown): unknown {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch (err) {
      throw builtinError(name, `${(err as Error).message}`);
    }
  }
  if (v !== null && typeof v === 'object') return v;
  if (typeof v === 'boolean') return v;
  throw typeError(name, pos, v, 'string', 'object', 'boolean');
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
  }
  if (field === '') field = '(root)';
  return { error: `${field}: ${desc}`, type, field, desc };
}

export const jsonSchemaBuiltins: BuiltinTable = {
  'json.verify_schema': (schema) => {
    const name = 'json.verify_schema';
    const s = schemaOf(name, 1, schema);
    try {
      compileSchema(s);
      return [true, null];
    } catch (err) {
      return [false, (err as Error).message];
    }
  },
  'json.match_schema': (document, schema) => {
    const name = 'json.match_schema';
    let doc = document;
    if (typeof document === 'string') {
      try {
        doc = JSON.parse(document);
      } catch (err) {
        throw builtinError(name, (err as Error).message);
      }
    } else if (document === null || typeof document !== 'object') throw typeError(name, 1, document, 'string', 'object', 'array');
    const s = schemaOf(name, 2, schema);
    let validate: ValidateFunction;
    try {
      validate = compileSchema(s);
    } catch (err) {
      throw builtinError(name, `${name}: ${(err as Error).message}`);
    }
    if (validate(doc)) return [true, []];
    return [false, (validate.errors ?? []).map((e) => describe(e, doc))];
  },
};
