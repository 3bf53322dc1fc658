// OPA bundles (https://www.openpolicyagent.org/docs/management-bundles/#bundle-file-format):
// a gzipped tarball with `/.manifest`, `/policy.wasm`, `data.json`/`data.yaml` files whose
// directory is their place in `data`, and the `.rego` sources. `opa build -t wasm` writes entry
// names with a leading slash and mode 0600; we read both spellings and write OPA's.
import { gunzipSync, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import YAML from 'yaml';
import { mergeData, setAtPath } from './data.js';
import { signaturesFile, SignatureError, verifyBundleFiles, type SigningOptions, type VerificationConfig } from './bundle-sign.js';

export interface WasmResolver {
  entrypoint: string; // `sip/decision`
  module: string; // `/policy.wasm`
  annotations?: unknown[];
}

export interface BundleManifest {
  revision?: string;
  roots?: string[];
  wasm?: WasmResolver[];
  rego_version?: number;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Bundle {
  manifest: BundleManifest;
  data: Record<string, unknown>;
  modules: Array<{ path: string; source: string }>;
  wasm: Array<{ path: string; bytes: Uint8Array }>;
  /** The `.signatures.json` document, when the bundle has one. */
  signatures?: { signatures?: string[]; plugin?: string };
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

const MAX_UNZIPPED = 256 * 1024 * 1024;

/** `/a/./b.rego`, `a/b.rego` -> `a/b.rego`; rejects `..` so no entry escapes the bundle. */
export function normalizeEntryPath(name: string): string {
  const parts = name.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new BundleError(`bundle entry ${JSON.stringify(name)} escapes the bundle`);
  return parts.join('/');
}

async function untar(buf: Buffer): Promise<Array<{ path: string; bytes: Buffer }>> {
  const extract = tar.extract();
  const files: Array<{ path: string; bytes: Buffer }> = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (header.type === 'file' || header.type === 'contiguous-file') {
          files.push({ path: header.name, bytes: Buffer.concat(chunks) });
        }
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([buf]).pipe(extract);
  await done;
  return files;
}

function parseDataFile(path: string, bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  try {
    return path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new BundleError(`${path}: ${(e as Error).message}`);
  }
}

// A path is inside the roots when a root is a prefix of it; an ancestor of a root is accepted
// too (a top-level data.json holding `{"sip": {...}}` for root `sip/config`).
function underRoot(path: string[], roots: string[]): boolean {
  const p = path.join('/');
  return roots.some((r) => r === '' || p === r || p.startsWith(r + '/') || r.startsWith(p + '/'));
}

/**
 * Read and verify a bundle. Throws BundleError for anything OPA would refuse to activate. With
 * a verification config, the bundle must be signed and every file must match its signature.
 */
export async function readBundle(archive: Uint8Array, opts: { verification?: VerificationConfig } = {}): Promise<Bundle> {
  let tarBytes: Buffer;
  try {
    tarBytes = gunzipSync(archive, { maxOutputLength: MAX_UNZIPPED });
  } catch (e) {
    throw new BundleError(`bundle is not a gzip archive: ${(e as Error).message}`);
  }
  let entries: Array<{ path: string; bytes: Buffer }>;
  try {
    entries = await untar(tarBytes);
  } catch (e) {
    throw new BundleError(`bundle is not a tar archive: ${(e as Error).message}`);
  }
  const bundle: Bundle = { manifest: {}, data: {}, modules: [], wasm: [] };
  const dataFiles: Array<{ path: string; value: unknown }> = [];
  const seen = new Set<string>();
  const normalized = entries.map((e) => ({ path: normalizeEntryPath(e.path), bytes: e.bytes }));
  for (const { path } of normalized) {
    if (seen.has(path)) throw new BundleError(`bundle has two entries for ${path}`);
    seen.add(path);
  }
  if (opts.verification) {
    try {
      verifyBundleFiles(normalized, opts.verification);
    } catch (e) {
      throw new BundleError(e instanceof SignatureError ? e.message : `bundle signature: ${(e as Error).message}`);
    }
  }
  for (const entry of normalized) {
    const path = entry.path;
    const base = path.split('/').pop()!;
    if (path === '.manifest') {
      try {
        bundle.manifest = JSON.parse(entry.bytes.toString('utf8')) as BundleManifest;
      } catch (e) {
        throw new BundleError(`.manifest: ${(e as Error).message}`);
      }
      if (typeof bundle.manifest !== 'object' || bundle.manifest === null || Array.isArray(bundle.manifest)) {
        throw new BundleError('.manifest must be a JSON object');
      }
    } else if (base === 'data.json' || base === 'data.yaml' || base === 'data.yml') {
      dataFiles.push({ path, value: parseDataFile(path, entry.bytes) });
    } else if (path.endsWith('.rego')) {
      bundle.modules.push({ path, source: entry.bytes.toString('utf8') });
    } else if (path.endsWith('.wasm')) {
      bundle.wasm.push({ path, bytes: new Uint8Array(entry.bytes) });
    } else if (path === '.signatures.json') {
      // Checked above when verification keys are configured; else kept for `inspect`, as OPA
      // loads a signed bundle without checking it when no verification config is given.
      try {
        bundle.signatures = JSON.parse(entry.bytes.toString('utf8')) as Bundle['signatures'];
      } catch (e) {
        throw new BundleError(`bundle load failed on signatures decode: ${(e as Error).message}`);
      }
    }
    // Other files (plan.json, patch.json of delta bundles, READMEs) are ignored.
  }
  const roots = bundle.manifest.roots ?? [''];
  if (!Array.isArray(roots) || roots.some((r) => typeof r !== 'string')) throw new BundleError('.manifest roots must be a list of strings');
  const normRoots = roots.map((r) => r.replace(/^\/+|\/+$/g, ''));
  for (let i = 0; i < normRoots.length; i++) {
    for (let j = 0; j < normRoots.length; j++) {
      const a = normRoots[i]!, b = normRoots[j]!;
      if (i !== j && (a === b || a === '' || b.startsWith(a + '/'))) throw new BundleError(`manifest has overlapped roots: '${roots[i]}' and '${roots[j]}'`);
    }
  }
  // Data files merge into one document at their directory; conflicts are errors, as in OPA.
  for (const f of dataFiles.sort((a, b) => a.path.localeCompare(b.path))) {
    const dir = f.path.split('/').slice(0, -1);
    if (dir.length === 0 && (typeof f.value !== 'object' || f.value === null || Array.isArray(f.value))) {
      throw new BundleError(`${f.path}: root data document must be an object`);
    }
    const keys = dir.length > 0 ? [dir] : Object.keys(f.value as object).map((k) => [k]);
    for (const k of keys) {
      if (!underRoot(k, normRoots)) throw new BundleError(`${f.path}: data path /${k.join('/')} is outside the manifest roots`);
    }
    try {
      bundle.data = mergeData(bundle.data, dir.length > 0 ? setAtPath({}, dir, f.value) : (f.value as Record<string, unknown>));
    } catch (e) {
      throw new BundleError(`${f.path}: ${(e as Error).message}`);
    }
  }
  const resolvers = bundle.manifest.wasm ?? [];
  if (!Array.isArray(resolvers)) throw new BundleError('.manifest wasm must be a list');
  for (const r of resolvers) {
    if (typeof r?.entrypoint !== 'string' || typeof r?.module !== 'string') throw new BundleError('.manifest wasm entries need entrypoint and module');
    const mod = normalizeEntryPath(r.module);
    if (!bundle.wasm.some((w) => w.path === mod)) throw new BundleError(`.manifest names wasm module ${r.module}, which the bundle lacks`);
    if (!underRoot(r.entrypoint.split('/').filter(Boolean), normRoots)) throw new BundleError(`wasm entrypoint ${r.entrypoint} is outside the manifest roots`);
  }
  return bundle;
}

function entry(pack: tar.Pack, name: string, bytes: Uint8Array | string): void {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  pack.entry({ name: '/' + normalizeEntryPath(name), mode: 0o600, size: buf.length, mtime: new Date(0), type: 'file' }, buf);
}

/**
 * Write a bundle the way `opa build -t wasm` does: data.json, sources, policy.wasm, .manifest,
 * and with signing options `.signatures.json` over all of them.
 */
export async function writeBundle(bundle: Bundle, opts: { signing?: SigningOptions } = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const files: Array<{ path: string; bytes: Uint8Array }> = [
    { path: 'data.json', bytes: Buffer.from(JSON.stringify(bundle.data) + '\n') },
    ...bundle.modules.map((m) => ({ path: normalizeEntryPath(m.path), bytes: Buffer.from(m.source, 'utf8') })),
    ...bundle.wasm.map((w) => ({ path: normalizeEntryPath(w.path), bytes: w.bytes })),
    { path: '.manifest', bytes: Buffer.from(JSON.stringify(bundle.manifest) + '\n') },
  ];
  for (const f of files) entry(pack, f.path, f.bytes);
  if (opts.signing) entry(pack, '.signatures.json', signaturesFile(files, opts.signing));
  pack.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}
