// `bastion policy build`: an OPA bundle as `opa build -t wasm -e <ep>... <paths>` writes it
// (.manifest with revision + wasm entrypoints, /policy.wasm, /data.json, the .rego sources).
// `-t rego` writes a source-only bundle that the gateway compiles when it loads it.
import { writeFile } from 'node:fs/promises';
import { compile } from '../../rego/index.js';
import { writeBundle, type BundleManifest } from '../bundle.js';
import { errorLine, loadErrorOf, loadSources, type CliResult } from './common.js';

export interface BuildOptions {
  paths: string[];
  bundles?: string[];
  entrypoints: string[];
  output?: string;
  revision?: string;
  target?: 'wasm' | 'rego';
  optimize?: boolean;
  strict?: boolean;
  /** Strict builtin errors baked into the module (default true, as the gateway compiles). */
  strictBuiltinErrors?: boolean;
}

export async function buildBundle(opts: BuildOptions): Promise<{ bytes?: Buffer; errors: string[] }> {
  const target = opts.target ?? 'wasm';
  const entrypoints = opts.entrypoints.map((e) => e.replace(/^data\./, '').replace(/\./g, '/').replace(/^\/+|\/+$/g, ''));
  if (target === 'wasm' && entrypoints.length === 0) return { errors: ['wasm compilation requires at least one entrypoint (-e)'] };
  let sources;
  try {
    sources = await loadSources(opts.paths, opts.bundles ?? []);
  } catch (e) {
    return { errors: [errorLine(loadErrorOf(e))] };
  }
  const manifest: BundleManifest = { revision: opts.revision ?? '', roots: [''] };
  const modules = sources.modules.map((m) => ({ path: m.file.replace(/^(\.\/)+/, ''), source: m.source }));
  const wasm: Array<{ path: string; bytes: Uint8Array }> = [];
  if (target === 'wasm') {
    const out = await compile({ modules: sources.modules, entrypoints, strict: opts.strict, strictBuiltinErrors: opts.strictBuiltinErrors ?? true, optimize: opts.optimize });
    if (out.errors.length > 0 || !out.wasm) return { errors: out.errors.map(errorLine) };
    wasm.push({ path: 'policy.wasm', bytes: out.wasm });
    manifest.wasm = entrypoints.map((entrypoint) => ({ entrypoint, module: '/policy.wasm' }));
  } else {
    // A source bundle must still compile; refuse to ship one that does not.
    const out = await compile({ modules: sources.modules, strict: opts.strict });
    if (out.errors.length > 0) return { errors: out.errors.map(errorLine) };
  }
  manifest.rego_version = 1;
  return { bytes: await writeBundle({ manifest, data: sources.data, modules, wasm }), errors: [] };
}

export async function runBuild(opts: BuildOptions): Promise<CliResult> {
  const { bytes, errors } = await buildBundle(opts);
  if (!bytes) return { stdout: '', stderr: errors.join('\n') + '\n', exitCode: 1 };
  await writeFile(opts.output ?? 'bundle.tar.gz', bytes);
  return { stdout: '', stderr: '', exitCode: 0 };
}
