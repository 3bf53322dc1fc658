// `bastion ctl status|connections|drop ID|reload|metrics`: the running gateway's admin API from the
// shell, as kamcmd is Kamailio's: tables by default, the API's JSON with --json. Exit codes: 0
// done, 1 the gateway refused or failed (not ready, no such connection, reload refused), 2 the
// admin API could not be reached or used (address, token).
import type { Command } from 'commander';
import { AdminClientError, adminRequest, resolveEndpoint, type AdminResponse, type EndpointFlags } from '../../admin/client.js';
import { SUMMARIES } from './summaries.js';

interface CtlFlags extends EndpointFlags {
  json?: boolean;
}

/** Left-aligned columns, two spaces apart; a header line first. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function age(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** `1 worker: 5120 evaluated, 4980 reused, 0 abandoned, 0 replaced`, or where decisions are made without workers. */
function evaluationRow(e: { workers?: number; evaluated?: number; reused?: number; abandoned?: number; replaced?: number } | undefined): string {
  if (!e || !e.workers) return 'in the event-loop thread (policy.workers: 0)';
  return `${e.workers} worker${e.workers === 1 ? '' : 's'}: ${e.evaluated ?? 0} evaluated, ${e.reused ?? 0} reused, ${e.abandoned ?? 0} abandoned, ${e.replaced ?? 0} replaced`;
}

async function call(flags: CtlFlags, method: string, path: string): Promise<AdminResponse | undefined> {
  try {
    const ep = resolveEndpoint(flags);
    const r = await adminRequest(ep, method, path);
    if (r.status === 401) throw new AdminClientError(`${ep.url}: 401 (missing or wrong token: --token, --token-file, BASTION_ADMIN_TOKEN or the config's admin.token_file)`);
    return r;
  } catch (e) {
    console.error(`bastion ctl: ${(e as Error).message}`);
    process.exitCode = 2;
    return undefined;
  }
}

function parse(r: AdminResponse): unknown {
  try {
    return JSON.parse(r.body);
  } catch {
    return r.body;
  }
}

export function registerCtl(program: Command): void {
  const ctl = program
    .command('ctl')
    .description(SUMMARIES.ctl)
    .option('--url <url>', 'admin API base URL (default: from the config: http://127.0.0.1:8061)')
    .option('-c, --config <file>', "the gateway's config file: admin address, port, token_file, tls (default: the embedded config)")
    .option('--token <token>', 'bearer token (default: BASTION_ADMIN_TOKEN, or the config\'s admin.token_file)')
    .option('--token-file <file>', 'file whose first line is the bearer token')
    .option('--ca <pem>', 'CA certificate of the admin listener (HTTPS)')
    .option('--cert <pem>', 'client certificate (mutual TLS)')
    .option('--key <pem>', 'client key (mutual TLS)')
    .option('--json', "print the API's JSON instead of a table");
  const flags = (): CtlFlags => ctl.opts<CtlFlags>();

  ctl
    .command('status')
    .description('version, uptime, readiness, listeners, the policy in force, connection and transaction counts, evaluation workers')
    .action(async () => {
      const f = flags();
      const r = await call(f, 'GET', '/status');
      if (!r) return;
      const s = parse(r) as Record<string, any>;
      if (f.json) console.log(JSON.stringify(s, null, 2));
      else {
        const rows: string[][] = [
          ['ready', s.ready ? 'yes' : `no: ${(s.reasons as string[]).join('; ')}`],
          ['version', String(s.version)],
          ['pid', String(s.pid)],
          ['uptime', age(Number(s.uptime_s))],
          ['config', String(s.config)],
          ['policy', s.policy ? `${s.policy.revision} from ${s.policy.source} (loaded ${s.policy.loaded_at})` : 'none'],
          ['listeners', (s.listeners as Array<Record<string, unknown>>).map((l) => `${l.transport} ${l.address}:${l.port}${l.server_domain ? ` (${l.server_domain})` : ''}`).join(', ')],
          ['connections', String(s.connections)],
          ['transactions', `${s.transactions.server} server, ${s.transactions.client} client`],
          ['evaluation', evaluationRow(s.evaluation)],
        ];
        console.log(table(['', ''], rows).split('\n').slice(1).join('\n'));
      }
      if (!s.ready) process.exitCode = 1;
    });

  ctl
    .command('connections')
    .description('open TLS/TCP connections with the peer identity (like kamcmd tls.list)')
    .action(async () => {
      const f = flags();
      const r = await call(f, 'GET', '/connections');
      if (!r) return;
      const list = parse(r) as Array<Record<string, any>>;
      if (f.json) return void console.log(JSON.stringify(list, null, 2));
      const rows = list.map((c) => [
        String(c.id),
        c.transport,
        c.direction === 'inbound' ? 'in' : 'out',
        c.local,
        c.remote,
        c.domain ?? '-',
        c.peer ? (c.peer.verified ? 'yes' : `no (${c.peer.verify_error ?? 'none'})`) : '-',
        c.peer?.subject ?? '-',
        c.peer?.not_after ? String(c.peer.not_after).slice(0, 10) : '-',
        age(c.age_s),
        String(c.messages_in),
        String(c.messages_out),
      ]);
      console.log(table(['ID', 'PROTO', 'DIR', 'LOCAL', 'REMOTE', 'DOMAIN', 'VERIFIED', 'SUBJECT', 'NOT AFTER', 'AGE', 'IN', 'OUT'], rows));
    });

  ctl
    .command('drop')
    .description('close one connection by its ID (from ctl connections)')
    .argument('<id>', 'connection ID')
    .action(async (id: string) => {
      const f = flags();
      const r = await call(f, 'DELETE', `/connections/${encodeURIComponent(id)}`);
      if (!r) return;
      const body = parse(r) as Record<string, unknown>;
      if (f.json) console.log(JSON.stringify(body, null, 2));
      if (r.status !== 200) {
        if (!f.json) console.error(`bastion ctl drop: ${String(body.error ?? r.status)}`);
        process.exitCode = 1;
      } else if (!f.json) console.log(`connection ${id} dropped`);
    });

  ctl
    .command('reload')
    .description('reload the config file, certificates, CRLs and the policy (as SIGHUP); prints what was loaded or why not')
    .action(async () => {
      const f = flags();
      const r = await call(f, 'POST', '/reload');
      if (!r) return;
      const rep = parse(r) as Record<string, any>;
      if (f.json) console.log(JSON.stringify(rep, null, 2));
      else if (rep.ok) {
        const rows: string[][] = [
          ['config', rep.config],
          ['policy', `${rep.policy.revision}${rep.policy.changed ? ' (changed)' : ' (unchanged)'}`],
          ['tls domains', `${rep.tls.domains.join(', ') || '-'}${rep.tls.domains.length ? (rep.tls.reloaded ? ' (loaded again)' : ' (unchanged)') : ''}`],
          ['re-verified', rep.tls.reverified ? `${rep.tls.reverified.checked} connections: ${rep.tls.reverified.closed} closed, ${rep.tls.reverified.marked} marked` : '-'],
          ['listeners added', rep.listeners.added.join(', ') || '-'],
          ['listeners removed', rep.listeners.removed.join(', ') || '-'],
          ['needs a restart', rep.restart_required.join(', ') || '-'],
          ['took', `${rep.took_ms} ms`],
        ];
        console.log(`reloaded\n${table(['', ''], rows).split('\n').slice(1).join('\n')}`);
      } else {
        console.error(`reload refused; the running configuration stays (policy ${rep.policy_in_force ?? 'none'}):\n  ${(rep.errors as string[]).join('\n  ')}`);
      }
      if (!rep.ok) process.exitCode = 1;
    });

  ctl
    .command('metrics')
    .description('the Prometheus metrics (text exposition; --json: prom-client JSON)')
    .action(async () => {
      const f = flags();
      const r = await call(f, 'GET', f.json ? '/metrics?format=json' : '/metrics');
      if (!r) return;
      process.stdout.write(f.json ? JSON.stringify(parse(r), null, 2) + '\n' : r.body);
      if (r.status !== 200) process.exitCode = 1;
    });
}
