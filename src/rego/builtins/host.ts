// The project's host builtins: OPA built-in functions implemented in JavaScript and handed to
// `loadPolicy(wasm, memory, customBuiltins)`. The WASM back end routes every name in
// HOST_BUILTIN_NAMES through `opa_builtin0..4` (declared in the module's `builtins()` export)
// instead of its own runtime.
import { BuiltinError, SetArg, builtinError } from './errors.js';
import { RawNumber, toSdkResult } from './json-out.js';
import { regexBuiltins } from './regex.js';
import { globBuiltins } from './glob.js';
import { netBuiltins } from './net.js';
import { unitsBuiltins } from './units.js';
import { semverBuiltins } from './semver.js';
import { uuidBuiltins } from './uuid.js';
import { timeBuiltins } from './time.js';
import { jwtBuiltins } from './jwt.js';
import { x509Builtins } from './x509.js';
import { miscBuiltins } from './misc.js';
import { templateBuiltins } from './template.js';
import { jsonSchemaBuiltins } from './jsonschema.js';
import { awsBuiltins } from './aws.js';
import { graphqlBuiltins } from './graphql.js';
import { yamlBuiltins } from './yaml.js';
import { HOST_BUILTIN_ALIASES, HOST_BUILTIN_ARG_ENCODINGS, type ArgEncoding } from './aliases.js';
import { parseExactJSON } from './exact-json.js';
import { createHttpSend, type HttpSendOptions } from './http-send.js';
import type { BuiltinTable, HostBuiltin } from './types.js';

export type { HostBuiltin, BuiltinTable } from './types.js';
export type { HttpSendOptions } from './http-send.js';
export { BuiltinError } from './errors.js';

const families: BuiltinTable[] = [regexBuiltins, globBuiltins, netBuiltins, unitsBuiltins, semverBuiltins, uuidBuiltins, timeBuiltins, jwtBuiltins, x509Builtins, miscBuiltins, templateBuiltins, jsonSchemaBuiltins, awsBuiltins, graphqlBuiltins, yamlBuiltins];

const implementations: BuiltinTable = Object.assign({}, ...families);

/** Builtins whose behaviour depends on the host's configuration: made per createHostBuiltins call. */
const CONFIGURED_ARITY: Record<string, number> = { 'http.send': 1, 'opa.runtime': 0 };

/** Number of arguments of each host builtin (its Rego arity). */
export const HOST_BUILTIN_ARITY: Record<string, number> = {
  ...Object.fromEntries(Object.entries(implementations).map(([name, fn]) => [name, fn.length])),
  ...CONFIGURED_ARITY,
};

export { HOST_BUILTIN_ALIASES } from './aliases.js';

/** Builtins the WASM back end must route to the host (opa_builtin0..4) instead of its runtime. */
export const HOST_BUILTIN_NAMES: ReadonlySet<string> = new Set(Object.keys(HOST_BUILTIN_ARITY));

export { HOST_BUILTIN_SET_RESULTS } from './aliases.js';

export interface HostBuiltinOptions {
  /**
   * OPA's `strict-builtin-errors`. true (the default here, fail closed): a builtin failure aborts
   * the evaluation with `eval_builtin_error: <name>: <message>` (or `eval_type_error`). false:
   * OPA's default evaluation, where a failing builtin call, type errors included, is undefined.
   */
  strict?: boolean;
  /** http.send: allowed hosts, default timeout, response size limit, cache size. */
  http?: HttpSendOptions;
  /**
   * What `opa.runtime()` returns (OPA: `{env, config, version, commit, ...}` when run by the OPA
   * runtime, `{}` otherwise). Default `{}`; see opaRuntimeInfo() for OPA's shape.
   */
  runtime?: Record<string, unknown>;
}

/** OPA's `opa.runtime()` object for a host process: environment, configuration, version. */
export function opaRuntimeInfo(config: Record<string, unknown> = {}, version = 'sip-bastion'): Record<string, unknown> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return { env, config, version, commit: '', build_timestamp: '', build_hostname: '' };
}

/** An argument passed in one of the planner's encodings (see HOST_BUILTIN_ARG_ENCODINGS). */
function decodeArg(a: unknown, encoding: ArgEncoding | undefined): unknown {
  if (encoding === 'set') {
    if (Array.isArray(a) && a.length === 2 && a[0] === 'set' && Array.isArray(a[1])) return new SetArg(a[1]);
    if (Array.isArray(a) && a.length === 2 && a[0] === 'value') return a[1];
  }
  if (encoding === 'int64' && typeof a === 'string') {
    if (/^-?\d+$/.test(a)) return BigInt(a);
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(a)) return new RawNumber(a);
  }
  if ((encoding === 'json' || encoding === 'int64') && typeof a === 'string') {
    try {
      return parseExactJSON(a);
    } catch {
      return a;
    }
  }
  return a; // a caller that did not encode: take the value as it is
}

/** The host builtins, wrapped so that unexpected exceptions surface as OPA errors, never crashes. */
export function createHostBuiltins(options: HostBuiltinOptions = {}): Record<string, HostBuiltin> {
  const strict = options.strict ?? true;
  const out: Record<string, HostBuiltin> = {};
  const runtime = options.runtime ?? {};
  const configured: BuiltinTable = {
    'http.send': createHttpSend(options.http).builtin,
    'opa.runtime': () => runtime,
    // OPA's trace(note) is true and a no-op unless something traces the evaluation (the test
    // runner's --explain replaces it with a hook that records the note).
    trace: () => true,
  };
  for (const [name, fn] of Object.entries({ ...implementations, ...configured })) {
    const wrapped = (...args: unknown[]) => {
      try {
        return toSdkResult(fn(...args));
      } catch (err) {
        const e = err instanceof BuiltinError ? err : builtinError(name, err instanceof Error ? err.message : String(err));
        if (!strict && (e.code === 'eval_builtin_error' || e.code === 'eval_type_error')) return undefined;
        throw e;
      }
    };
    out[name] = wrapped;
    const alias = HOST_BUILTIN_ALIASES[name];
    if (alias) out[alias] = wrapped;
    const encoded = Object.hasOwn(HOST_BUILTIN_ARG_ENCODINGS, name) ? HOST_BUILTIN_ARG_ENCODINGS[name] : undefined;
    if (encoded) out[encoded.alias] = (...args: unknown[]) => wrapped(...args.map((a, i) => decodeArg(a, encoded.args[i])));
  }
  return out;
}

/** Strict host builtins: what the gateway, the CLI and the conformance runner register. */
export const hostBuiltins: Record<string, HostBuiltin> = createHostBuiltins();
