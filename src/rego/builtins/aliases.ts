// Private call names for host builtins the SDK would shadow (kept apart from host.ts so that the
// planner can read them without loading every host builtin).
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
