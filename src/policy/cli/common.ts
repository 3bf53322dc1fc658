// Shared pieces of `bastion policy ...`: loading -d/-b paths, Go-style durations, OPA's error shape.
import { readFile } from 'node:fs/promises';
import { readBundle } from '../bundle.js';
import { mergeData, type JsonObject } from '../data.js';
import { loadPaths, type SourceModule } from '../loader.js';
import type { RegoError } from '../../rego/index.js';

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface Sources {
  modules: SourceModule[];
  data: JsonObject;
}

/** Loads `-d` paths (OPA loader: all .rego/.json/.yaml) and `-b` paths (bundle dirs or .tar.gz). */
export async function loadSources(dataPaths: string[], bundlePaths: string[] = [], ignore: string[] = []): Promise<Sources> {
  const files = await loadPaths(dataPaths, 'files', ignore);
  let data = files.data;
  const modules = [...files.modules];
  for (const b of bundlePaths) {
    if (/\.(tar\.gz|tgz)$/.test(b)) {
      const bundle = await readBundle(await readFile(b));
      modules.push(...bundle.modules.map((m) => ({ file: `${b}/${m.path}`, source: m.source })));
      data = mergeData(data, bundle.data);
    } else {
      const dir = await loadPaths([b], 'bundle', ignore);
      modules.push(...dir.modules);
      data = mergeData(data, dir.data);
    }
  }
  return { modules, data };
}

/** Go's time.Duration.String() for durations below an hour (what `opa test` prints). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const trim = (v: number, digits: number): string => v.toFixed(digits).replace(/\.?0+$/, '');
  if (ns < 1_000) return `${ns}ns`;
  if (ns < 1_000_000) return `${trim(ns / 1_000, 3)}µs`;
  if (ns < 1_000_000_000) return `${trim(ns / 1_000_000, 6)}ms`;
  const s = ns / 1e9;
  if (s < 60) return `${trim(s, 9)}s`;
  return `${Math.floor(s / 60)}m${trim(s % 60, 9)}s`;
}

const GO_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration (`5s`, `1m30s`, `250ms`, `0`): nanoseconds, or the error text. */
export function parseGoDuration(s: string): number | string {
  let rest = s.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return `time: invalid duration "${s}"`;
  let total = 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)?/;
  while (rest !== '') {
    const m = part.exec(rest);
    if (!m) return `time: invalid duration "${s}"`;
    if (!m[2]) return `time: missing unit in duration "${s}"`;
    total += Number(m[1]) * GO_UNITS[m[2]]!;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** `file:row:col: code: message`, as `opa check` prints. */
export function errorLine(e: RegoError): string {
  return e.location ? `${e.location.file}:${e.location.row}:${e.location.col}: ${e.code}: ${e.message}` : `${e.code}: ${e.message}`;
}

/** OPA's ast.Errors text: `1 error occurred: <e>` or `N errors occurred:` and one line each. */
export function errorsText(errors: RegoError[]): string {
  if (errors.length === 1) return `1 error occurred: ${errorLine(errors[0]!)}\n`;
  return [`${errors.length} errors occurred:`, ...errors.map(errorLine)].join('\n') + '\n';
}

/** OPA's pretty error block: "1 error occurred:" / "N errors occurred:" then one line per error. */
export function prettyErrors(errors: RegoError[]): string {
  const head = errors.length === 1 ? '1 error occurred:' : `${errors.length} errors occurred:`;
  return [head, ...errors.map(errorLine)].join('\n') + '\n';
}

/** OPA's JSON error shape: {"errors": [{code, message, location: {file, row, col}}]}. */
export function jsonErrors(errors: RegoError[]): string {
  return (
    JSON.stringify(
      {
        errors: errors.map((e) => ({
          code: e.code,
          message: e.message,
          ...(e.location ? { location: { file: e.location.file, row: e.location.row, col: e.location.col } } : {}),
        })),
      },
      null,
      2,
    ) + '\n'
  );
}

export function loadErrorOf(e: unknown): RegoError {
  const file = (e as { file?: string }).file;
  return { code: 'rego_load_error', message: (e as Error).message ?? String(e), ...(file ? { location: { file, row: 0, col: 0, offset: 0 } } : {}) };
}
