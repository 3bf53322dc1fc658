// OPA's coverage report (v1/cover/cover.go): covered rows come from the compiled module's
// `internal.bastion_cover(file, row)` calls (recorded by tester/evaluate.ts) (see src/rego/planner/NEEDS.md); candidate rows are
// every rule head and every expression except `some` declarations, in every module.
import type { Module } from '../../rego/index.js';

export interface Range {
  start: { row: number };
  end: { row: number };
}
export interface FileReport {
  covered?: Range[];
  not_covered?: Range[];
  covered_lines?: number;
  not_covered_lines?: number;
  coverage?: number;
}
export interface CoverageReport {
  files: Record<string, FileReport>;
  covered_lines: number;
  not_covered_lines: number;
  coverage: number;
}

export const COVER_BUILTIN = 'internal.bastion_cover';

/** Collects the hits the instrumented module reported (through the test evaluator). */
export class CoverageRecorder {
  private readonly hits = new Map<string, Set<number>>();

  add(file: string, rows: Iterable<number>): void {
    let s = this.hits.get(file);
    if (!s) this.hits.set(file, (s = new Set()));
    for (const r of rows) s.add(r);
  }

  rows(file: string): Set<number> {
    return this.hits.get(file) ?? new Set();
  }

  files(): string[] {
    return [...this.hits.keys()];
  }
}

type Node = Record<string, unknown>;
const isExpr = (n: Node): boolean => typeof n.index === 'number' && typeof n.negated === 'boolean' && 'terms' in n && Array.isArray(n.with);
const isRule = (n: Node): boolean => typeof n.head === 'object' && n.head !== null && Array.isArray(n.body) && typeof n.default === 'boolean';

/** Rows OPA would report on: rule heads (incl. else branches) and non-`some` expressions. */
export function candidateRows(module: Module): { rules: number[]; exprs: number[] } {
  const rules: number[] = [];
  const exprs: number[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const n = v as Node;
    if (isRule(n)) {
      const head = n.head as { location?: { row: number } };
      const row = head.location?.row ?? (n.location as { row?: number } | undefined)?.row;
      if (row) rules.push(row);
    } else if (isExpr(n)) {
      const t = n.terms as Node;
      const loc = n.location as { row?: number; file?: string } | undefined;
      if (!(t && !Array.isArray(t) && t.type === 'some') && loc?.row && loc.file !== '') exprs.push(loc.row);
    }
    for (const [k, x] of Object.entries(n)) if (k !== 'location' && k !== 'comments' && k !== 'annotations') walk(x);
  };
  walk(module.rules);
  return { rules, exprs };
}

function toRanges(rows: number[]): Range[] {
  const sorted = [...new Set(rows)].sort((a, b) => a - b);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r === last.end.row + 1) last.end.row = r;
    else out.push({ start: { row: r }, end: { row: r } });
  }
  return out;
}

const span = (rs: Range[] | undefined): number => (rs ?? []).reduce((n, r) => n + r.end.row - r.start.row + 1, 0);

export function buildReport(modules: Array<{ file: string; module: Module }>, rec: CoverageRecorder): CoverageReport {
  const files: Record<string, FileReport> = {};
  for (const file of rec.files()) files[file] = { covered: toRanges([...rec.rows(file)]) };
  for (const { file, module } of modules) {
    const hit = rec.rows(file);
    const { rules, exprs } = candidateRows(module);
    const notCovered = [...rules, ...exprs].filter((row) => !hit.has(row));
    const fr = (files[file] ??= {});
    const nc = toRanges(notCovered);
    if (nc.length) fr.not_covered = nc;
  }
  let covered = 0;
  let notCovered = 0;
  for (const fr of Object.values(files)) {
    if (fr.covered && fr.covered.length === 0) delete fr.covered;
    const c = span(fr.covered);
    const n = span(fr.not_covered);
    if (c) fr.covered_lines = c;
    if (n) fr.not_covered_lines = n;
    if (c + n > 0 && c > 0) fr.coverage = (100 * c) / (c + n);
    covered += c;
    notCovered += n;
  }
  const sortedFiles = Object.fromEntries(Object.keys(files).sort().map((k) => [k, files[k]!]));
  return { files: sortedFiles, covered_lines: covered, not_covered_lines: notCovered, coverage: covered + notCovered ? (100 * covered) / (covered + notCovered) : 0 };
}

/** OPA's CoverageThresholdError text. */
export function thresholdError(report: CoverageReport, threshold: number, verbose: boolean): string {
  let s = `Code coverage threshold not met: got ${report.coverage.toFixed(2)} instead of ${threshold.toFixed(2)}`;
  if (verbose) {
    s += '\nLines not covered:';
    for (const [file, fr] of Object.entries(report.files)) {
      for (const r of fr.not_covered ?? []) s += r.start.row === r.end.row ? `\n\t${file}:${r.start.row}` : `\n\t${file}:${r.start.row}-${r.end.row}`;
    }
  }
  return s + '\n';
}
