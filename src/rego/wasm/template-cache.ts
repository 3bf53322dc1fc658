// Prepared runtime templates kept on disk, so that a process links policies without ever
// loading binaryen (its load and the template preparation are most of a cold start).
//
// A template is keyed by the SHA-256 of the runtime it was prepared from, the preparation's
// format version and its mode (with or without exception handling): a new runtime or a
// changed preparation never reads an old entry. Places looked at, in order:
//  1. the runtime's own build directory (`npm run build` prepares both modes there, so an
//     installed package starts fast on its first run); read only;
//  2. the user's cache: $XDG_CACHE_HOME/sip-bastion, else ~/.cache/sip-bastion (never
//     inside node_modules). Written after a template was prepared in-process.
// Every disk operation is best effort: an unreadable, unwritable or corrupt cache only means
// the template is prepared in memory again.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Bump when the preparation in template.ts changes what it produces. */
export const TEMPLATE_FORMAT = 3;

export type TemplateMode = 'eh' | 'noeh';

const PREFIX = 'runtime-template-';

export function templateKey(runtime: Uint8Array, mode: TemplateMode): string {
  const h = createHash('sha256').update(runtime).update(`\0format ${TEMPLATE_FORMAT}\0${mode}`).digest('hex');
  return `${mode}-${h.slice(0, 24)}`;
}

export function templateFileName(key: string): string {
  return `${PREFIX}${key}.wasm`;
}

/** The user cache directory for templates, or undefined when there is no usable home. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && xdg.startsWith('/')) return join(xdg, 'sip-bastion');
  let home: string;
  try {
    home = homedir();
  } catch {
    return undefined;
  }
  if (!home || home === '/') return undefined;
  return join(home, '.cache', 'sip-bastion');
}

/** The first readable template for `key` in `dirs`, or undefined. */
export function readTemplate(key: string, dirs: Array<string | undefined>): Uint8Array | undefined {
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      return new Uint8Array(readFileSync(join(dir, templateFileName(key))));
    } catch {
      // not there or unreadable: try the next place
    }
  }
  return undefined;
}

/** Other templates unused for this long are removed when a new one is written. */
const STALE_MS = 30 * 24 * 3600 * 1000;

/**
 * Stores a template under `key` in `dir` (atomically: a whole file or none) and removes
 * templates nobody used for a month (several checkouts of different versions can share one
 * cache). Returns false when the cache could not be written.
 */
export function writeTemplate(key: string, dir: string | undefined, bytes: Uint8Array): boolean {
  if (!dir) return false;
  const file = join(dir, templateFileName(key));
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, bytes, { mode: 0o644 });
    renameSync(tmp, file);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
    return false;
  }
  try {
    const now = Date.now();
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(PREFIX) || name === templateFileName(key)) continue;
      const p = join(dir, name);
      if (now - statSync(p).atimeMs > STALE_MS && now - statSync(p).mtimeMs > STALE_MS) rmSync(p, { force: true });
    }
  } catch {
    // pruning is a courtesy
  }
  return true;
}
