// `bastion policy check <paths>`: parse and compile everything, like `opa check`.
import { compile } from '../../rego/index.js';
import { errorLine, jsonErrors, loadErrorOf, loadSources, type CliResult } from './common.js';

export interface CheckOptions {
  paths: string[];
  bundles?: string[];
  strict?: boolean;
  format?: 'pretty' | 'json';
}

export async function runCheck(opts: CheckOptions): Promise<CliResult> {
  let sources;
  try {
    sources = await loadSources(opts.paths, opts.bundles ?? []);
  } catch (e) {
    const errs = [loadErrorOf(e)];
    return { stdout: '', stderr: opts.format === 'json' ? jsonErrors(errs) : errs.map(errorLine).join('\n') + '\n', exitCode: 1 };
  }
  // Compiling without entrypoints still parses, resolves and type-checks every module.
  const out = await compile({ modules: sources.modules, strict: opts.strict });
  if (out.errors.length === 0) return { stdout: '', stderr: '', exitCode: 0 };
  const text = opts.format === 'json' ? jsonErrors(out.errors) : out.errors.map(errorLine).join('\n') + '\n';
  return { stdout: '', stderr: text, exitCode: 1 };
}
