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
 * Host builtins whose result depends on whether an argument is a set or an array, which JSON
 * cannot tell apart (net.cidr_contains_matches keys its matches by the element of a set but by
 * the index of an array). The planner calls them by the private name below and passes each listed
 * argument (0-based) tagged: `["set", <elements>]` when it is a set, `["value", <value>]`
 * otherwise. createHostBuiltins unwraps the tags (sets become SetArg). Only the top level of an
 * argument is tagged: sets nested inside objects or arrays still arrive as arrays.
 */
export const HOST_BUILTIN_SET_ARGS: Readonly<Record<string, { alias: string; args: number[] }>> = {
  'net.cidr_contains_matches': { alias: 'internal.bastion.typed.net.cidr_contains_matches', args: [0, 1] },
};

/** Call name -> tagged argument positions, for the planner. */
export const TAGGED_ARG_CALLS: ReadonlyMap<string, number[]> = new Map(Object.values(HOST_BUILTIN_SET_ARGS).map((e) => [e.alias, e.args]));

/** The private call name of a builtin, or undefined when it is called by its OPA name. */
export function hostCallAlias(name: string): string | undefined {
  if (Object.hasOwn(HOST_BUILTIN_ALIASES, name)) return HOST_BUILTIN_ALIASES[name];
  if (Object.hasOwn(HOST_BUILTIN_SET_ARGS, name)) return HOST_BUILTIN_SET_ARGS[name].alias;
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
