// Host builtins (crypto.x509.*, time.*, regex.*, http.send, ...) come from the Rego toolchain
// (src/rego/builtins/host.ts). The gateway and the CLI pass the same set to the SDK, with the same
// strictness as the module was compiled with, so a policy behaves the same offline and in
// production.
import { createHostBuiltins, type HostBuiltin } from '../rego/index.js';

const sets = new Map<boolean, Record<string, HostBuiltin>>();

/**
 * strict (the default here, fail closed): a failing builtin makes the evaluation an error.
 * Not strict (OPA's default): a failing builtin call is undefined.
 */
export async function hostBuiltins(strict = true): Promise<Record<string, (...args: unknown[]) => unknown>> {
  let set = sets.get(strict);
  if (!set) sets.set(strict, (set = createHostBuiltins({ strict })));
  return set as Record<string, (...args: unknown[]) => unknown>;
}
