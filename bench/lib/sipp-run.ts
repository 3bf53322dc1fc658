// Helpers for benchmarks that drive the Kamailio/sipp interop topology (test/interop/topology.ts):
// one sipp UAC/UAS pair for a fixed number of calls at a fixed rate, and the figures sipp's
// statistics file gives (successful and failed calls, retransmissions).
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSipp } from '../../test/interop/sipp.js';
import type { Topology } from '../../test/interop/topology.js';

export interface SippStats {
  ok: number;
  failed: number;
  retrans: number;
  /** mean INVITE→200 (sipp's ResponseTime1), ms */
  rtdMs: number;
}

export function sippStats(file: string): SippStats {
  if (!existsSync(file)) return { ok: 0, failed: -1, retrans: -1, rtdMs: NaN };
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (n: string) => last[head.indexOf(n)] ?? '';
  const hms = (v: string) => {
    const [h, m, s, us] = v.split(':').map(Number);
    return ((h! * 60 + m!) * 60 + s!) * 1000 + us! / 1000;
  };
  return { ok: Number(col('SuccessfulCall(C)')), failed: Number(col('FailedCall(C)')), retrans: Number(col('Retransmissions(C)')), rtdMs: hms(col('ResponseTime1(C)')) };
}

export interface CallRun {
  calls: number;
  ok: number;
  failed: number;
  /** UAC + UAS retransmissions */
  retrans: number;
  rtdMs: number;
  /** sipp's error log lines (why calls failed), at most 20 */
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
  const errors: string[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('_errors.log')) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line.trim() && errors.length < 20) errors.push(`${f.split('_')[0]}: ${line.trim()}`);
  }
  return { calls, ok: s.ok, failed: s.failed, retrans: s.retrans + Math.max(0, u.retrans), rtdMs: s.rtdMs, errors };
}
