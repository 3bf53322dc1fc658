// `bastion policy lint`: the rules of rules.ts over the .rego files of the paths (data files
// there resolve references), reported as Regal reports (pkg/reporter: pretty, compact, json,
// github) with Regal's exit codes: 3 when a violation of level error was found (or 2 for a
// warning with --fail-level warning), 1 when the files could not be linted.
import { ast, parseModule, type RegoError } from '../../../rego/index.js';
import { checkSources } from '../check.js';
import { errorsText, loadErrorOf, loadSources, type CliResult } from '../common.js';
import {
  constantCondition,
  DocumentTree,
  isUnusedVariableError,
  identicallyNamedTests,
  impossibleDefault,
  impossibleNot,
  RULES,
  unresolved,
  unusedImports,
  violation,
  type LintModule,
  type Violation,
} from './rules.js';

export interface LintOptions {
  paths: string[];
  format?: 'pretty' | 'compact' | 'json' | 'github';
  failLevel?: 'error' | 'warning';
  disable?: string[];
  enable?: string[];
  disableAll?: boolean;
  disableCategory?: string[];
  enableCategory?: string[];
}

export interface LintReport {
  violations: Violation[];
  summary: { files_scanned: number; files_failed: number; rules_skipped: number; num_violations: number };
}

function enabled(o: LintOptions): Set<string> {
  const on = new Set(o.disableAll ? [] : Object.keys(RULES));
  for (const [id, r] of Object.entries(RULES)) {
    if (o.disableCategory?.includes(r.category)) on.delete(id);
    if (o.enableCategory?.includes(r.category)) on.add(id);
  }
  for (const id of o.disable ?? []) on.delete(id);
  for (const id of o.enable ?? []) on.add(id);
  return on;
}

export async function lintPaths(o: LintOptions): Promise<{ report?: LintReport; errors: RegoError[] }> {
  let sources;
  try {
    sources = await loadSources(o.paths);
  } catch (e) {
    return { errors: [loadErrorOf(e)] };
  }
  const modules: LintModule[] = [];
  const errors: RegoError[] = [];
  for (const s of sources.modules) {
    const r = parseModule(s.source, s.file);
    errors.push(...r.errors);
    if (r.module) modules.push({ file: s.file, source: s.source, module: r.module });
  }
  if (errors.length > 0) return { errors };
  const on = enabled(o);
  const tree = new DocumentTree(modules, sources.data);
  const found: Violation[] = [];
  for (const m of modules) {
    if (on.has('constant-condition')) found.push(...constantCondition(m));
    if (on.has('identically-named-tests')) found.push(...identicallyNamedTests(m));
    if (on.has('impossible-default')) found.push(...impossibleDefault(m));
    if (on.has('impossible-not')) found.push(...impossibleNot(m, tree));
    if (on.has('unresolved-import') || on.has('unresolved-reference')) found.push(...unresolved(m, tree).filter((v) => on.has(v.title)));
  }
  const unusedImportsFound = modules.flatMap(unusedImports);
  if (on.has('unused-import')) found.push(...unusedImportsFound);
  // Unused variables and arguments: the compiler's strict mode finds them (with the unused
  // imports left out, which would stop it before it gets there).
  if (on.has('unused-variable')) {
    const byFile = new Map(modules.map((m) => [m.file, m]));
    const unusedRows = new Set(unusedImportsFound.map((v) => `${v.location.file}:${v.location.row}`));
    const parsed = modules.map((m) => {
      const module = ast.clone(m.module);
      module.imports = module.imports.filter((i) => !unusedRows.has(`${m.file}:${i.location?.row}`));
      return { file: m.file, source: m.source, parsed: module };
    });
    for (const e of checkSources(parsed, true)) {
      const m = e.location ? byFile.get(e.location.file) : undefined;
      if (m && isUnusedVariableError(e.message)) found.push({ ...violation('unused-variable', m, e.location), description: `${RULES['unused-variable']!.description}: ${e.message}` });
    }
  }
  found.sort((a, b) => (a.location.file < b.location.file ? -1 : a.location.file > b.location.file ? 1 : a.location.row - b.location.row || a.location.col - b.location.col));
  const failed = new Set(found.map((v) => v.location.file));
  return {
    report: { violations: found, summary: { files_scanned: modules.length, files_failed: failed.size, rules_skipped: 0, num_violations: found.length } },
    errors: [],
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Regal's PrettyReporter without colour: an aligned two-column table per violation, then the summary. */
export function prettyLintReport(r: LintReport): string {
  const rows: Array<[string, string]> = [];
  r.violations.forEach((v, i) => {
    rows.push(['Rule:', v.title], ['Level:', v.level], ['Description:', v.description], ['Category:', v.category]);
    rows.push(['Location:', `${v.location.file}:${v.location.row}:${v.location.col}`]);
    if (v.location.text !== undefined) rows.push(['Text:', v.location.text.length > 117 ? v.location.text.slice(0, 117) + '...' : v.location.text.trim()]);
    rows.push(['Documentation:', v.related_resources[0]?.ref ?? '']);
    if (i + 1 < r.violations.length) rows.push(['', '']);
  });
  const w1 = Math.max(0, ...rows.map(([a]) => a.length)) + 2;
  const w2 = Math.max(0, ...rows.map(([, b]) => b.length)) + 1;
  const table = rows.map(([a, b]) => a.padEnd(w1) + b.padEnd(w2) + '\n').join('');
  const s = r.summary;
  let footer = `${plural(s.files_scanned, 'file')} linted.`;
  if (s.num_violations === 0) footer += ' No violations found.';
  else {
    footer += ` ${plural(s.num_violations, 'violation')} found`;
    footer += s.files_scanned > 1 && s.files_failed > 0 ? ` in ${plural(s.files_failed, 'file')}.` : '.';
  }
  return table + (r.violations.length > 0 ? '\n' : '') + footer + '\n';
}

/** Regal's JSONReporter: {violations, summary}. */
export function jsonLintReport(r: LintReport): string {
  return JSON.stringify({ violations: r.violations, summary: r.summary }, null, 2) + '\n';
}

/** Regal's CompactReporter: one `location | description` row per violation. */
function compactLintReport(r: LintReport): string {
  if (r.violations.length === 0) return '\n';
  const rows = r.violations.map((v) => [`${v.location.file}:${v.location.row}:${v.location.col}`, v.description]);
  const w = [Math.max(8, ...rows.map((x) => x[0]!.length)), Math.max(11, ...rows.map((x) => x[1]!.length))];
  const line = `+${'-'.repeat(w[0]! + 2)}+${'-'.repeat(w[1]! + 2)}+`;
  const fmt = (a: string, b: string): string => `| ${a.padEnd(w[0]!)} | ${b.padEnd(w[1]!)} |`;
  const s = r.summary;
  const summary = `${plural(s.files_scanned, 'file')} linted , ${s.num_violations} violation${s.num_violations === 1 ? '' : 's'} found. `;
  return [line, fmt('Location', 'Description'), line, ...rows.map(([a, b]) => fmt(a!, b!)), line].join('\n') + '\n ' + summary + '\n';
}

/** Regal's GitHubReporter: the pretty report, then one workflow annotation per violation. */
function githubLintReport(r: LintReport): string {
  return (
    prettyLintReport(r) +
    r.violations.map((v) => `::${v.level} file=${v.location.file},line=${v.location.row},col=${v.location.col}::${v.description}. To learn more, see: ${v.related_resources[0]?.ref ?? ''}\n`).join('')
  );
}

export async function runLint(o: LintOptions): Promise<CliResult> {
  const unknown = [...(o.enable ?? []), ...(o.disable ?? [])].filter((id) => !RULES[id]);
  if (unknown.length > 0) return { stdout: '', stderr: `unknown rule(s): ${unknown.join(', ')} (known: ${Object.keys(RULES).sort().join(', ')})\n`, exitCode: 1 };
  const { report, errors } = await lintPaths(o);
  if (!report) return { stdout: '', stderr: `error(s) encountered while linting: ${errorsText(errors)}`, exitCode: 1 };
  const format = o.format ?? 'pretty';
  const stdout = format === 'json' ? jsonLintReport(report) : format === 'compact' ? compactLintReport(report) : format === 'github' ? githubLintReport(report) : prettyLintReport(report);
  const errorsFound = report.violations.filter((v) => v.level === 'error').length;
  const warningsFound = report.violations.filter((v) => v.level === 'warning').length;
  let exitCode = 0;
  if (errorsFound > 0) exitCode = 3;
  else if ((o.failLevel ?? 'error') === 'warning' && warningsFound > 0) exitCode = 2;
  return { stdout, stderr: '', exitCode };
}
