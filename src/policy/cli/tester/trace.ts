// Evaluation traces of tests, as `opa test -v`/`--explain`/`--var-values` print them
// (v1/topdown/trace.go PrettyTraceWithOpts and PrettyEvent, v1/topdown/lineage, v1/tester
// reporter.go printFailure). The events come from the compiled module (a test compiled with
// `trace: true` reports rule enter/exit and expression eval/success/leave through a host call,
// with the values of the variables each expression reads); an expression evaluated without
// producing any result is a Fail, as in topdown. What WASM cannot give: Redo, Index and Unify
// events, and per-binding events of expressions that iterate.
import { TRACE_ENTER, TRACE_EVAL, TRACE_EXIT, TRACE_KINDS, TRACE_LEAVE, TRACE_LEAVE_RULE, TRACE_SUCCESS, type TraceNodeInfo } from '../../../rego/index.js';
import { indent } from './report.js';

export interface TraceEvent {
  op: 'Enter' | 'Exit' | 'Eval' | 'Fail' | 'Note';
  qid: number;
  parent: number;
  /** Rule path, expression text or the note's message. */
  text: string;
  /** Whether the event is for a rule or the test query (lineage keeps their Enter events). */
  ruleOrBody: boolean;
  location?: { file: string; row: number; col: number; text?: string };
  node?: TraceNodeInfo;
  /** Values of node.vars when the expression was evaluated. */
  values?: unknown[];
}

export type ExplainMode = 'fails' | 'notes' | 'full';

/** The events of one test from the module's raw trace calls. */
export function traceEvents(raw: Array<[number, unknown]>, nodes: TraceNodeInfo[], query: string, passed: boolean): TraceEvent[] {
  const out: TraceEvent[] = [{ op: 'Enter', qid: 0, parent: 0, text: query, ruleOrBody: true, location: { file: '', row: 1, col: 1 } }];
  const rules: Array<{ qid: number; parent: number }> = [{ qid: 0, parent: 0 }];
  const exprs: Array<{ id: number; ok: boolean; values: unknown[] }> = [];
  let next = 1;
  const cur = () => rules[rules.length - 1]!;
  for (const [code, v] of raw) {
    if (code < 0) {
      // the note's location: the trace() call being evaluated
      const at = exprs.length > 0 ? nodes[exprs[exprs.length - 1]!.id]?.location : undefined;
      out.push({ op: 'Note', qid: cur().qid, parent: cur().parent, text: String(v), ruleOrBody: false, location: at });
      continue;
    }
    const id = Math.floor(code / TRACE_KINDS);
    const kind = code % TRACE_KINDS;
    const node = nodes[id];
    if (!node) continue;
    const base = { text: node.text, location: node.location, node };
    switch (kind) {
      case TRACE_ENTER: {
        const f = { qid: next++, parent: cur().qid };
        rules.push(f);
        out.push({ op: 'Enter', ...f, ...base, ruleOrBody: true });
        break;
      }
      case TRACE_EXIT:
        out.push({ op: 'Exit', qid: cur().qid, parent: cur().parent, ...base, ruleOrBody: true });
        break;
      case TRACE_LEAVE_RULE:
        if (rules.length > 1) rules.pop();
        break;
      case TRACE_EVAL: {
        const values = Array.isArray(v) ? v : [];
        exprs.push({ id, ok: false, values });
        out.push({ op: 'Eval', qid: cur().qid, parent: cur().parent, ...base, ruleOrBody: false, values });
        break;
      }
      case TRACE_SUCCESS: {
        const top = exprs[exprs.length - 1];
        if (top && top.id === id) top.ok = true;
        break;
      }
      case TRACE_LEAVE: {
        const top = exprs.pop();
        if (top && !top.ok) out.push({ op: 'Fail', qid: cur().qid, parent: cur().parent, ...base, ruleOrBody: false, values: top.values });
        break;
      }
    }
  }
  out.push({ op: passed ? 'Exit' : 'Fail', qid: 0, parent: 0, text: query, ruleOrBody: true, location: { file: '', row: 1, col: 1 } });
  return out;
}

/** OPA's lineage.Filter: the matching events, each after the Enter events that lead to it. */
function lineage(trace: TraceEvent[], keep: (e: TraceEvent) => boolean): TraceEvent[] {
  const out: TraceEvent[] = [];
  let qids = new Map<number, TraceEvent>();
  for (const e of trace) {
    if (keep(e)) {
      const path = [e];
      let curr = qids.get(e.qid);
      let prev: TraceEvent | undefined;
      while (curr && curr !== prev) {
        path.push(curr);
        prev = curr;
        curr = qids.get(curr.parent);
      }
      out.push(...path.reverse());
      qids = new Map();
    }
    if (e.op === 'Enter' && e.ruleOrBody) qids.set(e.qid, e);
  }
  return out;
}

/** cmd/test.go filterTrace: -v alone shows notes and failures; --explain picks. */
export function filterTrace(trace: TraceEvent[], mode: ExplainMode | undefined): TraceEvent[] {
  switch (mode) {
    case undefined:
      return lineage(trace, (e) => e.op === 'Note' || e.op === 'Fail');
    case 'notes':
      return lineage(trace, (e) => e.op === 'Note');
    case 'fails':
      return lineage(trace, (e) => e.op === 'Fail');
    case 'full':
      return trace;
  }
}

const COLUMN_PADDING = 4;
const MAX_EXPR_VAR_WIDTH = 32;
const MAX_PRETTY_EXPR_VAR_WIDTH = 64;

/** Go's %q for a note (JSON's escaping, close enough for printable text). */
const quote = (s: string): string => JSON.stringify(s);

/** OPA's strings.Truncate: at most `n` characters, `...` marking a cut. */
function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n) + '...';
}

/** A value in Rego's notation (JSON from the module: sets come as arrays). */
export function valueText(v: unknown): string {
  if (v === undefined) return 'undefined';
  return JSON.stringify(v, null, 0).replace(/":/g, '": ').replace(/,(?=["\d[{tfn-])/g, ', ');
}

function exprVars(e: TraceEvent): string {
  const vars = (e.node?.vars ?? []).map((v, i) => [v.name, e.values?.[i]] as const).filter(([n]) => !n.startsWith('__'));
  vars.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return '{' + vars.map(([n, v]) => `${n}: ${truncate(valueText(v), MAX_EXPR_VAR_WIDTH)}`).join(', ') + '}';
}

/** PrettyTraceWithOpts with locations (and, for --var-values, the variables of each expression). */
export function prettyTrace(trace: TraceEvent[], withVars: boolean): string {
  const depths = new Map<number, number>();
  const depthOf = (qid: number, parent: number): number => {
    let d = depths.get(qid) ?? 0;
    if (d === 0) {
      d = (depths.get(parent) ?? 0) + 1;
      depths.set(qid, d);
    }
    return d;
  };
  const rows: string[][] = [];
  for (const e of trace) {
    const depth = depthOf(e.qid, e.parent);
    const spaces = e.op === 'Enter' ? depth : depth + 1;
    const pad = spaces > 1 ? '| '.repeat(spaces - 1) : '';
    const loc = e.location ? (e.location.file ? `${e.location.file}:${e.location.row}` : `query:${e.location.row}`) : '';
    const text = e.op === 'Note' ? `${pad}Note ${quote(e.text)}` : `${pad}${e.op} ${e.text}`;
    const row = [loc, text];
    if (withVars) row.push(e.op === 'Note' ? '{}' : exprVars(e));
    rows.push(row);
  }
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]! + COLUMN_PADDING) + ' ' : c)).join('')).join('\n') + (rows.length ? '\n' : '');
}

/** OPA's padLocationText: the source text at its column. */
function padded(loc: TraceEvent['location']): string {
  if (!loc?.text) return '';
  return ' '.repeat(Math.max(0, loc.col - 1)) + loc.text;
}

/**
 * The failing expression with the values of its variables under them (PrettyEvent with
 * PrettyVars): a `|` under each variable, then the values, last variable first.
 */
function prettyEvent(e: TraceEvent, withVars: boolean): string {
  const text = padded(e.location);
  if (!withVars) return text + '\n';
  const infos: Array<{ title: string; col: number; row: number; value: string }> = [];
  const vars = e.node?.vars ?? [];
  vars.forEach((v, i) => {
    const at = v.at.find((a) => a.row === e.location?.row) ?? v.at[0];
    if (!at || v.name.startsWith('__')) return;
    if (infos.some((x) => x.title === at.text)) return;
    infos.push({ title: at.text, col: at.col, row: at.row, value: truncate(valueText(e.values?.[i]), MAX_PRETTY_EXPR_VAR_WIDTH) });
  });
  infos.sort((a, b) => a.col - b.col || b.row - a.row || (a.title < b.title ? -1 : 1));
  if (infos.length === 0) return text;
  const arrows = (upto: number): string => {
    let s = '';
    let prevCol = 0;
    const slice = upto >= 0 ? infos.slice(0, upto + 1) : infos;
    slice.forEach((info, i) => {
      const last = i === slice.length - 1;
      if (!last && info.col === infos[i + 1]!.col) return;
      const spaces = i > 0 && prevCol > 0 ? info.col - prevCol - 1 : info.col - 1;
      s += ' '.repeat(Math.max(0, spaces));
      if (last && upto >= 0) {
        const shared = (i > 0 && info.col === infos[i - 1]!.col) || (i < infos.length - 1 && info.col === infos[i + 1]!.col);
        s += shared ? `${info.title}: ${info.value}` : info.value;
      } else s += '|';
      prevCol = info.col;
    });
    return s;
  };
  let out = text + '\n' + arrows(-1);
  for (let i = infos.length - 1; i >= 0; i--) out += '\n' + arrows(i);
  return out;
}

/**
 * OPA's printFailure: with verbose, an empty line and the trace (indented 2); with the failure
 * line (--var-values), the last failing expression of a rule with its location and values.
 */
export function failureText(trace: TraceEvent[] | undefined, o: { verbose: boolean; failureLine: boolean; localVars: boolean }): string {
  let out = '';
  if (o.verbose) {
    out += '\n';
    const t = prettyTrace(trace ?? [], o.localVars);
    if (t) out += indent(t.replace(/\n$/, ''), 2) + '\n';
  }
  if (o.failureLine) {
    out += '\n';
    for (let i = (trace ?? []).length - 1; i >= 0; i--) {
      const e = trace![i]!;
      if (e.op === 'Fail' && e.location?.file && e.qid !== 0) {
        out += indent(`${e.location.file}:${e.location.row}:`, 2) + '\n';
        out += indent(prettyEvent(e, o.localVars).replace(/\n$/, ''), 4) + '\n';
        out += '\n';
        break;
      }
    }
  }
  return out;
}
