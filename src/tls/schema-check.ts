// Validation of identity documents against schemas/identity.schema.json and of TLS domain configs
// against schemas/tls-domain.schema.json (ajv, draft 2020-12). The schemas are imported, so tsc
// places them in dist/ next to the code and the built CLI finds them.
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import identitySchema from '../../schemas/identity.schema.json' with { type: 'json' };
import tlsDomainSchema from '../../schemas/tls-domain.schema.json' with { type: 'json' };

// ajv ships CommonJS; createRequire avoids default-export interop differences between tsc and vite.
const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

let validator: ValidateFunction | undefined;

function compile(schema: object): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** Returns the schema violations of `doc` as readable strings (empty when valid). */
export function validateIdentity(doc: unknown): string[] {
  validator ??= compile(identitySchema);
  if (validator(doc)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

let domainValidator: ValidateFunction | undefined;

/** Validates `{server_domains, client_domains}` against schemas/tls-domain.schema.json. */
export function validateTlsDomains(cfg: unknown): string[] {
  domainValidator ??= compile(tlsDomainSchema);
  if (domainValidator(cfg)) return [];
  return (domainValidator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}
