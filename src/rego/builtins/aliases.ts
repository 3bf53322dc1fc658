// How calls to host builtins are planned (kept apart from host.ts so that the planner can read it
// without loading every host builtin): private call names for builtins the SDK would shadow, and
// the builtins whose JSON result the planner turns back into a set.
/**
 * OPA builtins that the SDK implements itself, differently from OPA, and looks up *before* the
 * customBuiltins handed to loadPolicy (opa.js `builtinFuncs[name] || customBuiltins[name]`).
 * The planner calls these under the private name instead, so that our implementation runs; the
 * SDK never sees the OPA name. (sprintf and json.is_valid avoid the SDK by living in the module.)
 */
export const HOST_BUILTIN_ALIASES: Readonly<Record<string, string>> = {
  'yaml.is_valid': 'internal.bastion.yaml.is_valid',
  'yaml.unmarshal': 'internal.bastion.yaml.unmarshal',
  'yaml.marshal': 'internal.bastion.yaml.marshal',
  'regex.split': 'internal.bastion.regex.split',
};

/**
 * Host builtins whose OPA result is a set. JSON has no sets, so they return arrays (sorted, without
 * duplicates); the planner turns the result into a set after the call (a scan into a new set), or
 * comparisons with set literals in policies fail.
 */
export const HOST_BUILTIN_SET_RESULTS: ReadonlySet<string> = new Set([
  'net.cidr_expand',
  'net.cidr_merge',
  'net.cidr_contains_matches',
  'net.lookup_ip_addr',
]);

/**
 * How the planner passes some arguments of some host builtins, under a private call name, so that
 * what the SDK's JSON would lose survives (createHostBuiltins decodes them):
 *  - `set`: net.cidr_contains_matches keys its matches by the element of a set but by the index of
 *    an array, which JSON cannot tell apart. The argument goes as `["set", <elements>]` when it is
 *    a set, `["value", <value>]` otherwise (sets become SetArg). Only the top level is tagged.
 *  - `json`: int64 nanoseconds beyond 2^53 (every current time.now_ns()) would be rounded by
 *    JSON.parse. The argument goes as its json.marshal text, read back with integers exact
 *    (bigint beyond 2^53).
 *  - `int64`: like `json`, for a number OPA reads with ast.Number.Int64(), which goes by the
 *    number's text: an integer literal arrives as a bigint, any other number (`-1e9`, `1.0`) as a
 *    RawNumber holding its text, which such a builtin rejects as OPA does.
 */
export type ArgEncoding = 'set' | 'json' | 'int64';

const exact = (name: string, ...args: number[]) => ({ [name]: { alias: `internal.bastion.exact.${name}`, args: Object.fromEntries(args.map((a) => [a, 'json' as ArgEncoding])) } });

export const HOST_BUILTIN_ARG_ENCODINGS: Readonly<Record<string, { alias: string; args: Record<number, ArgEncoding> }>> = {
  'net.cidr_contains_matches': { alias: 'internal.bastion.typed.net.cidr_contains_matches', args: { 0: 'set', 1: 'set' } },
  ...exact('time.format', 0),
  ...exact('time.date', 0),
  ...exact('time.clock', 0),
  ...exact('time.weekday', 0),
  ...exact('time.add_date', 0),
  ...exact('time.diff', 0, 1),
  'providers.aws.sign_req': { alias: 'internal.bastion.exact.providers.aws.sign_req', args: { 2: 'int64' } },
};

/** Call name -> argument encodings, for the planner. */
export const ENCODED_ARG_CALLS: ReadonlyMap<string, Record<number, ArgEncoding>> = new Map(Object.values(HOST_BUILTIN_ARG_ENCODINGS).map((e) => [e.alias, e.args]));

/** The private call name of a builtin, or undefined when it is called by its OPA name. */
export function hostCallAlias(name: string): string | undefined {
  if (Object.hasOwn(HOST_BUILTIN_ALIASES, name)) return HOST_BUILTIN_ALIASES[name];
  if (Object.hasOwn(HOST_BUILTIN_ARG_ENCODINGS, name)) return HOST_BUILTIN_ARG_ENCODINGS[name].alias;
  return undefined;
}

/** Call names (OPA or private) whose result the planner turns into a set. */
export const SET_RESULT_CALLS: ReadonlySet<string> = new Set([...HOST_BUILTIN_SET_RESULTS].flatMap((n) => [n, hostCallAlias(n) ?? n]));

/**
 * Host builtins whose OPA result is one of their arguments with some keys replaced: the planner
 * builds the result from the argument as the policy holds it (sets and all) and takes only `keys`
 * from the host's JSON answer, where sets nested in the argument would have become arrays.
 * providers.aws.sign_req returns its request with `headers` replaced (OPA's topdown/providers.go),
 * and request bodies may hold sets.
 */
export const HOST_BUILTIN_RESULT_FROM_ARG: Readonly<Record<string, { arg: number; keys: string[] }>> = {
  'providers.aws.sign_req': { arg: 0, keys: ['headers'] },
};

/** Call names (OPA or private) whose result is built from an argument. */
export const RESULT_FROM_ARG_CALLS: ReadonlyMap<string, { arg: number; keys: string[] }> = new Map(
  Object.entries(HOST_BUILTIN_RESULT_FROM_ARG).flatMap(([n, spec]) => [[n, spec], [hostCallAlias(n) ?? n, spec]] as Array<[string, { arg: number; keys: string[] }]>),
);

/** The host builtin that print() output reaches (planner.ts planPrint, print.ts). */
export const PRINT_BUILTIN = 'internal.bastion_print';
