// Collecting policy files from disk.
//  - 'files' mode is OPA's loader for `-d <path>` (`opa eval/test/check/build` without -b):
//    every .rego is a module; every .json/.yaml/.yml is data placed at its directory relative to
//    the path given (a file named directly lands at the root).
//  - 'bundle' mode is a bundle directory (`opa run -b dir`, `opa build -b`): only data.json /
//    data.yaml / data.yml are data, and a `.manifest` is read.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import YAML from 'yaml';
import type { BundleManifest } from './bundle.js';
import { setAtPath, type JsonObject } from './data.js';

export interface SourceModule {
  file: string;
  source: string;
}

export interface LoadedFiles {
  modules: SourceModule[];
  data: JsonObject;
  manifest?: BundleManifest;
  /** Data files read, in order (for error messages and revisions). */
  dataFiles: string[];
}

export class LoadError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'LoadError';
  }
}

const SKIP_DIRS = new Set(['node_modules', '.git']);

async function walk(dir: string, out: string[], ignored: (name: string) => boolean): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.') && e.name !== '.manifest') continue;
    if (ignored(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) await walk(p, out, ignored);
    } else if (e.isFile()) out.push(p);
  }
}

/** Go's filepath.Match pattern (`*`, `?`, `[a-z]`, `[^x]`, `\\x`) as a RegExp on a base name. */
export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += '\\' + pattern[++i];
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return /(?!)/; // Go: ErrBadPattern, matches nothing
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1).replace(/[\]\\]/g, '\\$&');
      else cls = cls.replace(/[\]\\^]/g, '\\$&');
      re += '[' + cls + ']';
      i = end;
    } else re += c.replace(/[.+^${}()|\]\\\/]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}

/** `--ignore` patterns (OPA: file and directory names, matched on the base name). */
export function ignoreFilter(patterns: string[]): (name: string) => boolean {
  const res = patterns.filter(Boolean).map(globRegExp);
  return (name) => res.some((r) => r.test(name));
}

async function parseData(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new LoadError(`${file}: ${(e as Error).message}`, file);
  }
}

function isDataFile(name: string, mode: 'files' | 'bundle'): boolean {
  if (mode === 'bundle') return name === 'data.json' || name === 'data.yaml' || name === 'data.yml';
  return /\.(json|ya?ml)$/.test(name);
}

export async function loadPaths(paths: string[], mode: 'files' | 'bundle' = 'files', ignore: string[] = []): Promise<LoadedFiles> {
  const out: LoadedFiles = { modules: [], data: {}, dataFiles: [] };
  const seen = new Set<string>();
  const ignored = ignoreFilter(ignore);
  for (const root of paths) {
    let st;
    try {
      st = await stat(root);
    } catch {
      throw new LoadError(`${root}: no such file or directory`, root);
    }
    const files: string[] = [];
    if (st.isDirectory()) await walk(root, files, ignored);
    else if (!ignored(root.split(sep).pop()!)) files.push(root);
    for (const file of files) {
      const abs = resolve(file);
      if (seen.has(abs)) continue;
      seen.add(abs);
      const name = file.split(sep).pop()!;
      if (name.endsWith('.rego')) {
        out.modules.push({ file, source: await readFile(file, 'utf8') });
      } else if (name === '.manifest' && st.isDirectory() && mode === 'bundle') {
        try {
          out.manifest = JSON.parse(await readFile(file, 'utf8')) as BundleManifest;
        } catch (e) {
          throw new LoadError(`${file}: ${(e as Error).message}`, file);
        }
      } else if (isDataFile(name, mode)) {
        const value = await parseData(file);
        const dir = st.isDirectory() ? relative(root, file).split(sep).slice(0, -1) : [];
        try {
          out.data = setAtPath(out.data, dir, value);
        } catch (e) {
          throw new LoadError(`${file}: ${(e as Error).message}`, file);
        }
        out.dataFiles.push(file);
      }
    }
  }
  return out;
}

/** Extra data files (the gateway's `policy.data`), merged at the root, skipping files already loaded. */
export async function mergeDataFiles(loaded: LoadedFiles, files: string[]): Promise<void> {
  const known = new Set(loaded.dataFiles.map((f) => resolve(f)));
  for (const f of files) {
    if (known.has(resolve(f))) continue;
    let value: unknown;
    try {
      value = await parseData(f);
    } catch (e) {
      if (e instanceof LoadError) throw e;
      throw new LoadError(`${f}: ${(e as Error).message}`, f);
    }
    try {
      loaded.data = setAtPath(loaded.data, [], value);
    } catch (e) {
      throw new LoadError(`${f}: ${(e as Error).message}`, f);
    }
    loaded.dataFiles.push(f);
  }
}
