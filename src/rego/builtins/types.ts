/** Host builtins keyed by OPA name; arguments arrive JSON-parsed, results go back as JSON. */
export type HostBuiltin = (...args: unknown[]) => unknown;
export type BuiltinTable = Record<string, HostBuiltin>;
