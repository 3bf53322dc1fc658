// The decision document: validation against schemas/decision.schema.json and the fail-closed
// fallback. A decision that is not exactly valid is never applied.
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import decisionSchema from '../../schemas/decision.schema.json' with { type: 'json' };

export interface Decision {
  allow: boolean;
  reject?: { status: number; reason?: string };
  alert_info?: string[];
  route?: { uri: string; expected_domain?: string };
  client_domain?: string;
  log?: Record<string, unknown>;
}

/** Why a decision failed closed; 'timeout': the evaluation took longer than its budget. */
export type FailureKind = 'no_policy' | 'undefined' | 'error' | 'invalid' | 'timeout';

export interface FailClosedOptions {
  status?: number; // default 500
  reason?: string; // default 'Policy Error'
}

// ajv ships CommonJS; createRequire avoids default-export interop differences between tsc and vite.
const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

let validator: ValidateFunction | undefined;
function getValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    validator = ajv.compile(decisionSchema);
  }
  return validator;
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`)
    .join('; ');
}

/** null when valid, else a one-line description of what is wrong. */
export function checkDecision(value: unknown): string | null {
  const validate = getValidator();
  return validate(value) ? null : describe(validate.errors);
}

/** The decision applied when the policy cannot give a valid one. */
export function failClosedDecision(opts: FailClosedOptions = {}): Decision {
  return { allow: false, reject: { status: opts.status ?? 500, reason: opts.reason ?? 'Policy Error' } };
}

/** A valid decision with its reject filled in (403 Forbidden) when it denies without one. */
export function normalizeDecision(d: Decision): Decision {
  if (!d.allow && !d.reject) return { ...d, reject: { status: 403, reason: 'Forbidden' } };
  return d;
}
