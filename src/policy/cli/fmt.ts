// `bastion policy fmt`: `opa fmt` (cmd/fmt.go) on our formatter (src/rego/format). Paths are
// walked for .rego files; without paths, stdin is formatted to stdout. -w overwrites, -l lists
// the files that would change, -d prints the diff OPA prints (diff-match-patch, coloured),
// --fail exits 2 when a file would change. A failure stops the walk with exit 2; a bad stdin
// exits 1.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type DiffMatchPatch from 'diff-match-patch';
import { formatSource, parseModule, type RegoError } from '../../rego/index.js';
import { errorsText, type CliResult } from './common.js';

export interface FmtOptions {
  paths: string[];
  write?: boolean;
  list?: boolean;
  diff?: boolean;
  fail?: boolean;
  /** Parse the result again (OPA's --check-result, default true). */
  checkResult?: boolean;
  /** Source for the no-path case (stdin). */
  stdin?: () => Promise<string>;
}

const require = createRequire(import.meta.url);
const DMP = require('diff-match-patch') as typeof DiffMatchPatch;

/** go-diff's DiffMain + DiffPrettyText, as `opa fmt -d` prints them. */
export function prettyDiff(a: string, b: string): string {
  const dmp = new DMP();
  return dmp
    .diff_main(a, b, false)
    .map(([op, text]) => (op === 1 ? `\x1b[32m${text}\x1b[0m` : op === -1 ? `\x1b[31m${text}\x1b[0m` : text))
    .join('');
}

async function regoFiles(path: string): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return path.endsWith('.rego') ? [path] : [];
  const out: string[] = [];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(path, e.name);
    if (e.isDirectory()) out.push(...(await regoFiles(p)));
    else if (e.name.endsWith('.rego')) out.push(p);
  }
  return out;
}

class FmtError extends Error {}

function formatText(source: string, file: string, checkResult: boolean): string {
  const r = formatSource(source, file);
  if (r.text === undefined) throw new FmtError(`failed to format Rego source file: ${errorsText(r.errors).trimEnd()}`);
  if (checkResult) {
    const again = parseModule(r.text, 'formatted');
    if (!again.module) {
      throw new FmtError(
        `${file} was successfully formatted, but the result is invalid: ${errorsText(again.errors as RegoError[]).trimEnd()}\n\nTo inspect the formatted Rego, you can turn off this check with --check-result=false.`,
      );
    }
  }
  return r.text;
}

export async function runFmt(opts: FmtOptions): Promise<CliResult> {
  const checkResult = opts.checkResult ?? true;
  if (opts.paths.length === 0) {
    const source = opts.stdin ? await opts.stdin() : '';
    try {
      return { stdout: formatText(source, 'stdin', checkResult), stderr: '', exitCode: 0 };
    } catch (e) {
      return { stdout: '', stderr: (e as Error).message + '\n', exitCode: 1 };
    }
  }
  let stdout = '';
  for (const path of opts.paths) {
    let files: string[];
    try {
      files = await regoFiles(path);
    } catch (e) {
      return { stdout, stderr: `${(e as Error).message}\n`, exitCode: 1 };
    }
    for (const file of files) {
      try {
        const source = await readFile(file, 'utf8');
        const formatted = formatText(source, file, checkResult);
        const changed = formatted !== source;
        if (opts.fail && !opts.list && !opts.diff && changed) throw new FmtError('unexpected diff');
        if (opts.list) {
          if (changed) {
            stdout += file + '\n';
            if (opts.fail) throw new FmtError('unexpected diff');
          }
          continue;
        }
        if (opts.diff) {
          if (changed) {
            stdout += prettyDiff(source, formatted) + '\n';
            if (opts.fail) throw new FmtError('unexpected diff');
          }
          continue;
        }
        if (opts.write) await writeFile(file, formatted);
        else stdout += formatted;
      } catch (e) {
        if (e instanceof FmtError) return { stdout, stderr: e.message + '\n', exitCode: 2 };
        return { stdout, stderr: `failed to open file: ${(e as Error).message}\n`, exitCode: 2 };
      }
    }
  }
  return { stdout, stderr: '', exitCode: 0 };
}
