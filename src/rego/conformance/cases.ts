// Loading OPA's conformance cases (the JSON form of v1/test/cases/testdata/v1).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ConformanceCase {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: Array<Record<string, unknown>>;
  want_plan_result?: Array<Record<string, unknown>> | null;
  want_error_code?: string;
  want_error?: string;
  sort_bindings?: boolean;
  strict_error?: boolean;
  ignore_generated_vars?: boolean;
  entrypoints?: string[];
}

export interface LoadedCase extends ConformanceCase {
  topic: string;
  file: string;
}

/** The 40 core-language topics named in the suite's README; every other topic tests builtins. */
export const CORE_TOPICS: ReadonlySet<string> = new Set([
  'assignments', 'baseandvirtualdocs', 'comparisonexpr', 'completedoc', 'compositebasedereference',
  'compositereferences', 'comprehensions', 'containskeyword', 'dataderef', 'defaultkeyword',
  'disjunction', 'elsekeyword', 'embeddedvirtualdoc', 'eqexpr', 'evaltermexpr', 'every', 'example',
  'fix1863', 'functionerrors', 'functions', 'helloworld', 'indexing', 'indirectreferences',
  'inputvalues', 'invalidkeyerror', 'keywordrefs', 'negation', 'nestedreferences',
  'partialdocconstants', 'partialiter', 'partialobjectdoc', 'partialsetdoc', 'planner-ir', 'refheads',
  'stringinterpolation', 'topdowndynamicdispatch', 'undos', 'varreferences', 'virtualdocs',
  'withkeyword',
]);

/**
 * Where the shared suite lives: $OPA_CONFORMANCE_DIR, else the first `shared/opa-conformance/v1`
 * found walking up from the repository (`../shared/` next to a checkout, or further up for a
 * worktree).
 */
export function defaultSuiteDir(): string {
  if (process.env.OPA_CONFORMANCE_DIR) return resolve(process.env.OPA_CONFORMANCE_DIR);
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  for (let dir = dirname(repo); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared/opa-conformance/v1');
    if (safeIsDir(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  return resolve(repo, '../shared/opa-conformance/v1');
}

function listJsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listJsonFiles(p));
    else if (name.endsWith('.json')) out.push(p);
  }
  return out;
}

/**
 * Loads cases from a suite folder. `selectors` are topic names or file paths; empty means all.
 * The topic of a case is its folder under the suite root (or the note's prefix for loose files).
 */
export function loadCases(suiteDir: string, selectors: string[] = []): LoadedCase[] {
  const files: string[] = [];
  if (selectors.length === 0) files.push(...listJsonFiles(suiteDir));
  for (const sel of selectors) {
    const asTopic = join(suiteDir, sel);
    if (safeIsDir(asTopic)) files.push(...listJsonFiles(asTopic));
    else if (safeIsDir(sel)) files.push(...listJsonFiles(sel));
    else files.push(sel);
  }
  const cases: LoadedCase[] = [];
  for (const file of files) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { cases?: ConformanceCase[] };
    const rel = file.startsWith(suiteDir) ? file.slice(suiteDir.length + 1) : '';
    const folderTopic = rel.includes('/') ? rel.split('/')[0] : '';
    for (const c of parsed.cases ?? []) {
      const topic = folderTopic || c.note.split('/')[0] || basename(dirname(file));
      cases.push({ ...c, topic, file });
    }
  }
  return cases;
}

function safeIsDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
