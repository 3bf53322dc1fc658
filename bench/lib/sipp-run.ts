// Helpers for benchmarks that drive the Kamailio/sipp interop topology (test/interop/topology.ts):
// one sipp UAC/UAS pair for a fixed number of calls at a fixed rate, and the figures sipp's
// statistics file gives (successful and failed calls, retransmissions).
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sippStats, startSipp } from '../../test/interop/sipp.js';
import type { Topology } from '../../test/interop/topology.js';

export { sippStats, type SippStats } from '../../test/interop/sipp.js';

export interface CallRun {
  calls: number;
  ok: number;
  failed: number;
  /** UAC + UAS retransmissions */
  retrans: number;
  rtdMs: number;
  /** sipp's error events (why calls failed), counted by kind: "N × uac: what" */
  errors: string[];
}

/** `calls` calls at `rate` calls/s through the topology; `during` runs once the UAC has started. */
export async function runCalls(t: Topology, rate: number, calls: number, dir: string, during?: () => Promise<void>): Promise<CallRun> {
  mkdirSync(dir, { recursive: true });
  const seconds = calls / rate;
  const uas = startSipp({ scenario: 'uas', dir, localPort: t.ports.uas, calls, timeoutS: seconds + 60 });
  await new Promise((r) => setTimeout(r, 300));
  const uac = startSipp({ scenario: 'uac', dir, localPort: t.ports.uac, remote: `127.0.0.1:${t.ports.aUdp}`, calls, rate, limit: Math.max(200, rate * 2), service: 'bob', timeoutS: seconds + 45 });
  const side = during?.();
  await uac.done;
  await side;
  uas.stop();
  await uas.done;
  const s = sippStats(join(dir, 'uac-stat.csv'));
  const u = sippStats(join(dir, 'uas-stat.csv'));
  // sipp's error log: events one after another, each starting with its date (a message may span
  // lines); counted by kind, Call-IDs and numbers left out, at most 20 kinds
  const kinds = new Map<string, number>();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('_errors.log')) continue;
    for (const event of readFileSync(join(dir, f), 'utf8').split(/(?=\d{4}-\d\d-\d\d\t\d\d:\d\d:)/)) {
      const text = event.replace(/^\d{4}-\d\d-\d\d\t\S+\t\S+: /, '').split('\n')[0]!.trim();
      if (!text || text === 'The following events occurred:') continue;
      const kind = `${f.split('_')[0]}: ${text.replace(/Call-I[Dd] '[^']*'/g, "Call-ID '…'").replace(/Dead call \S+/g, 'Dead call …').replace(/\(\d+\)|\d+ trips remaining/g, '…').slice(0, 200)}`;
      if (kinds.has(kind) || kinds.size < 20) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
  }
  const errors = [...kinds].map(([kind, n]) => `${n} × ${kind}`);
  return { calls, ok: s.ok, failed: s.failed, retrans: s.retrans + Math.max(0, u.retrans), rtdMs: s.rtdMs, errors };
}
