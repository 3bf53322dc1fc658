// Validation of identity documents against schemas/identity.schema.json (ajv, draft 2020-12).
// The schemas are imported, not read at run time: the build then carries them into dist/.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import identitySchema from '../../schemas/identity.schema.json' with { type: 'json' };
import tlsDomainSchema from '../../schemas/tls-domain.schema.json' with { type: 'json' };

let validator: ValidateFunction | undefined;

function compile(): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  const mod = addFormatsModule as unknown as { default?: (a: Ajv2020) => void } & ((a: Ajv2020) => void);
  (mod.default ?? mod)(ajv);
  return ajv.compile(identitySchema);
}

/** Returns the schema violations of `doc` as readable strings (empty when valid). */
export function validateIdentity(doc: unknown): string[] {
  validator ??= compile();
  if (validator(doc)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

let domainValidator: ValidateFunction | undefined;

/** Validates `{server_domains, client_domains}` against schemas/tls-domain.schema.json. */
export function validateTlsDomains(cfg: unknown): string[] {
  if (!domainValidator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    domainValidator = ajv.compile(tlsDomainSchema);
  }
  if (domainValidator(cfg)) return [];
  return (domainValidator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}
