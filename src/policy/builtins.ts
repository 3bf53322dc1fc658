// Host builtins (crypto.x509.*, time.now_ns, ...) come from the Rego toolchain
// (src/rego/builtins/host.ts). The gateway and the CLI pass the same set to the SDK so a policy
// behaves the same offline and in production.
type HostBuiltins = Record<string, (...args: unknown[]) => unknown>;

let cached: Promise<HostBuiltins> | undefined;

export function hostBuiltins(): Promise<HostBuiltins> {
  cached ??= (async () => {
    const spec = '../rego/builtins/host.js';
    try {
      const mod = (await import(spec)) as { hostBuiltins?: HostBuiltins };
      return mod.hostBuiltins ?? {};
    } catch (e) {
      const msg = String((e as Error)?.message ?? e);
      // Only a missing module is tolerated (the toolchain may not ship host builtins yet).
      if (/Cannot find module|ERR_MODULE_NOT_FOUND|Failed to load url|Does the file exist/i.test(msg)) return {};
      throw e;
    }
  })();
  return cached;
}
