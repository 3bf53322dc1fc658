// `bastion policy check <paths>`: parse and compile every module, like `opa check` (no planning:
// every rule is checked whether an entrypoint reaches it or not).
import { check, type RegoError, type SchemaOptions, type SourceModule } from '../../rego/index.js';
import { loadSchemaOptions, type SchemaFlags } from './schemas.js';
import { errorLine, jsonErrors, loadErrorOf, loadSources, type CliResult } from './common.js';

export interface CheckOptions extends SchemaFlags {
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
  const schemas = await loadSchemaOptions(opts);
  if ('code' in schemas) return [schemas];
  return checkSources(sources.modules, opts.strict, schemas);
}

/** Compiles already-loaded modules (`parsed` used when given) and returns every error. */
export function checkSources(sources: SourceModule[], strict?: boolean, schemas?: SchemaOptions): RegoError[] {
  return check({ modules: sources, strict, schemas }).errors;
}

export async function runCheck(opts: CheckOptions): Promise<CliResult> {
  const errors = await checkPaths(opts);
  if (errors.length === 0) return { stdout: '', stderr: '', exitCode: 0 };
  const text = opts.format === 'json' ? jsonErrors(errors) : errors.map(errorLine).join('\n') + '\n';
  return { stdout: '', stderr: text, exitCode: 1 };
}
