// `bastion policy replay --log FILE --policy DIR|BUNDLE`: every decision line of a gateway
// decision log that carries its input (log.decision_input: true; masked parts stay erased) is
// decided again by a candidate policy through the gateway's own engine; the decisions that would
// change are counted by kind and the first N are shown. Exit 2 when any decision changed (so a
// CI job can gate a policy change on it), 0 when none did, 1 when the log or the policy cannot
// be read.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { PolicyEngine } from '../engine.js';
import { CHANGE_KINDS, decisionChanges, type ChangeKind } from '../decision-diff.js';
import type { Decision } from '../decision.js';
import type { CliResult } from './common.js';

export interface ReplayOptions {
  log: string;
  policy: string;
  entrypoint?: string;
  /** Examples shown (default 10). */
  examples?: number;
  format?: 'pretty' | 'json';
}

export interface ReplayExample {
  decision_id?: string;
  line: number;
  method?: string;
  request_uri?: string;
  peer?: string;
  changes: ChangeKind[];
  before: Decision;
  after: Decision;
  failure?: { kind: string; message: string };
}

export interface ReplayReport {
  policy: { source: string; revision: string };
  decisions: number;
  replayed: number;
  /** Decision lines without an input (decision_input off, or another entrypoint). */
  skipped: number;
  changed: number;
  by_kind: Partial<Record<ChangeKind, number>>;
  examples: ReplayExample[];
}

interface LogLine {
  msg?: string;
  decision_id?: string;
  path?: string;
  decision?: Decision;
  input?: unknown;
  method?: string;
  request_uri?: string;
  peer?: { subject?: string };
}

export async function replay(o: ReplayOptions): Promise<ReplayReport> {
  const entrypoint = (o.entrypoint ?? 'sip/decision').replace(/^\/+|\/+$/g, '');
  const source = /\.(tar\.gz|tgz)$/.test(o.policy) ? ({ type: 'bundle', path: o.policy } as const) : ({ type: 'dir', path: o.policy } as const);
  const engine = new PolicyEngine({ source, entrypoint, evalTimeoutMs: 60_000 });
  const loaded = await engine.start();
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const report: ReplayReport = { policy: { source: o.policy, revision: loaded.info.revision }, decisions: 0, replayed: 0, skipped: 0, changed: 0, by_kind: {}, examples: [] };
  const max = o.examples ?? 10;
  const lines = createInterface({ input: createReadStream(o.log, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const text of lines) {
    n++;
    if (!text.startsWith('{')) continue;
    let rec: LogLine;
    try {
      rec = JSON.parse(text) as LogLine;
    } catch {
      continue;
    }
    if (rec.msg !== 'decision' || !rec.decision) continue;
    report.decisions++;
    if (rec.input === undefined || (rec.path !== undefined && rec.path !== entrypoint)) {
      report.skipped++;
      continue;
    }
    report.replayed++;
    const r = engine.decide(rec.input);
    const changes = decisionChanges(rec.decision, r.decision);
    if (changes.length === 0) continue;
    report.changed++;
    for (const k of changes) report.by_kind[k] = (report.by_kind[k] ?? 0) + 1;
    if (report.examples.length < max) {
      report.examples.push({
        ...(rec.decision_id ? { decision_id: rec.decision_id } : {}),
        line: n,
        ...(rec.method ? { method: rec.method } : {}),
        ...(rec.request_uri ? { request_uri: rec.request_uri } : {}),
        ...(rec.peer?.subject ? { peer: rec.peer.subject } : {}),
        changes,
        before: rec.decision,
        after: r.decision,
        ...(r.failure ? { failure: r.failure } : {}),
      });
    }
  }
  engine.close();
  return report;
}

export function prettyReplay(r: ReplayReport): string {
  const out: string[] = [];
  out.push(`policy: ${r.policy.source} (revision ${r.policy.revision})`);
  out.push(`decisions: ${r.decisions}, replayed: ${r.replayed}, skipped (no input): ${r.skipped}, changed: ${r.changed}`);
  if (r.changed > 0) {
    out.push('', 'CHANGES:');
    for (const k of CHANGE_KINDS) if (r.by_kind[k]) out.push(`  ${k}: ${r.by_kind[k]}`);
    out.push('', `EXAMPLES (first ${r.examples.length}):`);
    for (const e of r.examples) {
      const what = [e.method, e.request_uri, e.peer ? `from ${e.peer}` : undefined].filter(Boolean).join(' ');
      out.push(`  line ${e.line}${e.decision_id ? ` (${e.decision_id})` : ''}: ${what}`);
      out.push(`    ${e.changes.join(', ')}`);
      out.push(`    before: ${JSON.stringify(e.before)}`);
      out.push(`    after:  ${JSON.stringify(e.after)}${e.failure ? `  (${e.failure.kind}: ${e.failure.message})` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}

export async function runReplay(o: ReplayOptions): Promise<CliResult> {
  let r: ReplayReport;
  try {
    r = await replay(o);
  } catch (e) {
    return { stdout: '', stderr: `error: ${(e as Error).message}\n`, exitCode: 1 };
  }
  const stdout = o.format === 'json' ? JSON.stringify(r, null, 2) + '\n' : prettyReplay(r);
  return { stdout, stderr: '', exitCode: r.changed > 0 ? 2 : 0 };
}
