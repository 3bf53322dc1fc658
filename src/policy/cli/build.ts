// `bastion policy build`: an OPA bundle as `opa build` writes it. `-t wasm` (our default; the
// gateway evaluates WASM): .manifest with revision + wasm entrypoints, /policy.wasm, /data.json,
// the .rego sources. `-t rego` (OPA's default): sources and data, checked like `policy check`
// (the gateway compiles them when it loads the bundle). Entrypoints must name a rule or package,
// as OPA requires. `--signing-key` (with -b, as OPA) adds `.signatures.json`. Errors are printed
// as OPA prints them: `error: ...` on stdout, exit 1.
import { loadSchemaOptions, type SchemaFlags } from './schemas.js';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { compile, parseModule, type Module } from '../../rego/index.js';
import { writeBundle, type BundleManifest } from '../bundle.js';
import type { SigningOptions } from '../bundle-sign.js';
import { checkSources } from './check.js';
import { errorsText, loadErrorOf, loadSources, type CliResult } from './common.js';
import { DocumentTree } from './lint/rules.js';

export interface BuildOptions extends SchemaFlags {
  paths: string[];
  /** `--wasm-include-print`: keep print() calls in the WASM module (erased by default). */
  print?: boolean;
  /** `-b`: the paths are bundles (directories or .tar.gz), as `opa build -b`. */
  bundle?: boolean;
  entrypoints: string[];
  output?: string;
  revision?: string;
  target?: 'wasm' | 'rego';
  /** `-O`: 0 none; 1 and 2 run binaryen's optimizer on the WASM module. */
  optimize?: number;
  strict?: boolean;
  /** Strict builtin errors baked into the module (default true, as the gateway compiles). */
  strictBuiltinErrors?: boolean;
  ignore?: string[];
  /** `--signing-key`: a PEM private key file (or its text), or the HMAC secret. */
  signingKey?: string;
  /** `--signing-alg`, default RS256. */
  signingAlg?: string;
  /** `--verification-key-id` (default `default`): the `kid` of the signature. */
  keyId?: string;
  /** `--claims-file`: extra JWT claims (JSON object). */
  claimsFile?: string;
}

export class BuildError extends Error {}

function normalizeEntrypoint(e: string): string {
  return e.replace(/^data\./, '').replace(/\./g, '/').replace(/^\/+|\/+$/g, '');
}

function signingOptions(opts: BuildOptions): SigningOptions | undefined {
  if (!opts.signingKey) {
    if (opts.claimsFile) throw new BuildError('specify the secret (HMAC) or path of the PEM file containing the private key (RSA and ECDSA)');
    return undefined;
  }
  if (!opts.bundle) throw new BuildError('enable bundle mode (ie. --bundle) to verify or sign bundle files or directories');
  const key = existsSync(opts.signingKey) ? readFileSync(opts.signingKey, 'utf8') : opts.signingKey;
  let claims: Record<string, unknown> | undefined;
  if (opts.claimsFile) {
    try {
      claims = JSON.parse(readFileSync(opts.claimsFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new BuildError(`failed to read claims file: ${(e as Error).message}`);
    }
  }
  return { key, algorithm: opts.signingAlg ?? 'RS256', keyId: claims ? undefined : (opts.keyId ?? 'default'), claims };
}

export async function buildBundle(opts: BuildOptions): Promise<{ bytes?: Buffer; errors: string[] }> {
  const target = opts.target ?? 'wasm';
  const entrypoints = opts.entrypoints.map(normalizeEntrypoint);
  let signing: SigningOptions | undefined;
  try {
    signing = signingOptions(opts);
  } catch (e) {
    return { errors: [(e as Error).message] };
  }
  if (target === 'wasm' && entrypoints.length === 0) return { errors: ['wasm compilation requires at least one entrypoint'] };
  let sources;
  try {
    sources = opts.bundle ? await loadSources([], opts.paths, opts.ignore) : await loadSources(opts.paths, [], opts.ignore);
  } catch (e) {
    return { errors: [errorsText([loadErrorOf(e)]).trimEnd()] };
  }
  const parsed: Array<{ file: string; source: string; module: Module }> = [];
  for (const m of sources.modules) {
    const r = parseModule(m.source, m.file);
    if (!r.module) return { errors: [errorsText(r.errors).trimEnd()] };
    parsed.push({ ...m, module: r.module });
  }
  // An entrypoint must be a rule or a package (a policy decision), as `opa build` requires.
  const tree = new DocumentTree(parsed, {});
  for (const e of entrypoints) {
    if (e === '' || !tree.resolves(e.split('/'))) return { errors: [`entrypoint ${JSON.stringify(e)} does not refer to a rule or policy decision`] };
  }
  const manifest: BundleManifest = { revision: opts.revision ?? '', roots: [''] };
  // In bundle mode a module's path is relative to its bundle root (as OPA writes it).
  const bundlePath = (file: string): string => {
    const root = opts.bundle ? opts.paths.find((p) => file.startsWith(p.replace(/\/+$/, '') + '/')) : undefined;
    return (root ? relative(root, file) : file).replace(/^(\.\/)+/, '');
  };
  const modules = sources.modules.map((m) => ({ path: bundlePath(m.file), source: m.source }));
  const wasm: Array<{ path: string; bytes: Uint8Array }> = [];
  const schemas = await loadSchemaOptions(opts);
  if ('code' in schemas) return { errors: [errorsText([schemas]).trimEnd()] };
  if (target === 'wasm') {
    const out = await compile({
      schemas,
      print: !!opts.print,
      modules: parsed.map((m) => ({ file: m.file, source: m.source, parsed: m.module })),
      entrypoints,
      strict: opts.strict,
      strictBuiltinErrors: opts.strictBuiltinErrors ?? true,
      optimize: (opts.optimize ?? 0) > 0,
    });
    if (out.errors.length > 0 || !out.wasm) return { errors: [errorsText(out.errors).trimEnd()] };
    wasm.push({ path: 'policy.wasm', bytes: out.wasm });
    manifest.wasm = entrypoints.map((entrypoint) => ({ entrypoint, module: '/policy.wasm' }));
  } else {
    // A source bundle must still compile; refuse to ship one that does not.
    const errors = checkSources(parsed.map((m) => ({ file: m.file, source: m.source, parsed: m.module })), opts.strict, schemas);
    if (errors.length > 0) return { errors: [errorsText(errors).trimEnd()] };
  }
  manifest.rego_version = 1;
  try {
    return { bytes: await writeBundle({ manifest, data: sources.data, modules, wasm }, { signing }), errors: [] };
  } catch (e) {
    return { errors: [(e as Error).message] };
  }
}

export async function runBuild(opts: BuildOptions): Promise<CliResult> {
  const { bytes, errors } = await buildBundle(opts);
  if (!bytes) return { stdout: errors.map((e) => `error: ${e}\n`).join(''), stderr: '', exitCode: 1 };
  await writeFile(opts.output ?? 'bundle.tar.gz', bytes);
  return { stdout: '', stderr: '', exitCode: 0 };
}
