// `bastion policy check <paths>`: parse and compile every module, like `opa check` (no planning:
// every rule is checked whether an entrypoint reaches it or not).
import type { Module, RegoError } from '../../rego/ast/types.js';
import { compileModules } from '../../rego/compiler/index.js';
import { parseModule, parseQuery } from '../../rego/parser/index.js';
import { errorLine, jsonErrors, loadErrorOf, loadSources, type CliResult } from './common.js';

export interface CheckOptions {
  paths: string[];
  bundles?: string[];
  strict?: boolean;
  format?: 'pretty' | 'json';
}

export async function checkPaths(opts: CheckOptions): Promise<RegoError[]> {
  let sources;
  try {
    sources = await loadSources(opts.paths, opts.bundles ?? []);
  } catch (e) {
    return [loadErrorOf(e)];
  }
  return checkSources(sources.modules, opts.strict);
}

/** Compile already-loaded modules (`parsed` used when given) and return every error. */
export function checkSources(sources: Array<{ file: string; source: string; parsed?: Module }>, strict?: boolean): RegoError[] {
  const errors: RegoError[] = [];
  const modules: Array<{ file: string; module: Module }> = [];
  for (const m of sources) {
    const r = m.parsed ? { module: m.parsed, errors: [] } : parseModule(m.source, m.file);
    errors.push(...r.errors);
    if (r.module) modules.push({ file: m.file, module: r.module });
  }
  if (errors.length > 0) return errors;
  const body = parseQuery('true').body!;
  try {
    return compileModules({ modules, queries: [{ name: 'check', body }], strict }).errors;
  } catch (e) {
    return [{ code: 'rego_compile_error', message: `internal error: ${(e as Error).message}` }];
  }
}

export async function runCheck(opts: CheckOptions): Promise<CliResult> {
  const errors = await checkPaths(opts);
  if (errors.length === 0) return { stdout: '', stderr: '', exitCode: 0 };
  const text = opts.format === 'json' ? jsonErrors(errors) : errors.map(errorLine).join('\n') + '\n';
  return { stdout: '', stderr: text, exitCode: 1 };
}
