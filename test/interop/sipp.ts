// sipp (Debian's sip-tester) as the real user agents at both ends of the interop topology.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));

export interface SippRun {
  process: ChildProcess;
  /** Resolves with sipp's exit code (0: every call succeeded) and its output. */
  done: Promise<{ code: number | null; output: string }>;
  stop: () => void;
  /** Lines written by <log> actions (needs `-trace_logs`). */
  logLines: () => string[];
}

export interface SippOptions {
  scenario: string; // file name in scenarios/ without .xml (uac, uas, uac-s7)
  dir: string; // working dir for logs
  localPort: number;
  remote?: string; // host:port (UAC)
  calls?: number; // -m
  rate?: number; // calls per second (-r)
  limit?: number; // concurrent calls (-l)
  service?: string; // -s (callee user part)
  timeoutS?: number; // -timeout (global)
  extra?: string[];
}

export function startSipp(o: SippOptions): SippRun {
  const args = [
    '-sf', join(SCENARIOS, `${o.scenario}.xml`),
    '-i', '127.0.0.1',
    '-p', String(o.localPort),
    '-t', 'u1',
    '-nostdin',
    '-trace_logs',
    '-trace_err',
    '-trace_stat', '-stf', join(o.dir, `${o.scenario}-stat.csv`),
    '-fd', '1',
    '-m', String(o.calls ?? 1),
  ];
  if (o.rate !== undefined) args.push('-r', String(o.rate));
  if (o.limit !== undefined) args.push('-l', String(o.limit));
  if (o.service) args.push('-s', o.service);
  if (o.timeoutS) args.push('-timeout', `${o.timeoutS}s`, '-timeout_error');
  args.push(...(o.extra ?? []));
  if (o.remote) args.push(o.remote);
  const child = spawn('sipp', args, { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, output })),
  );
  return {
    process: child,
    done,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGUSR1'); // sipp: stop gracefully
    },
    logLines: () => {
      const lines: string[] = [];
      if (!existsSync(o.dir)) return lines;
      for (const f of readdirSync(o.dir)) {
        if (f.startsWith(`${o.scenario}_`) && f.endsWith('_logs.log')) {
          lines.push(...readFileSync(join(o.dir, f), 'utf8').split('\n').filter(Boolean));
        }
      }
      return lines;
    },
  };
}

/** The totals of a sipp statistics file (`-trace_stat -stf FILE`), from its last line. */
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
