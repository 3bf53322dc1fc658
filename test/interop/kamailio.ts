// Debian's Kamailio as a real far peer. Each instance runs in the foreground with its own config,
// tls.cfg, runtime dir and pid file (see ../shared/kamailio-notes.md), and is killed by stop().
//
// Two roles:
//  - edge: bridges UDP (sipp) and mutual TLS (the middle). Initial requests from UDP go to the
//    TLS next hop; initial requests from TLS go to the UDP next hop; in-dialog requests follow
//    their Route set (double Record-Route when the transport changes).
//  - middle: Kamailio in the gateway's place (for the benchmark): mTLS on both sides, the client
//    certificate chosen per destination, like the gateway's client domains.
//    (The callee's BYE used to stall here: the UAS scenario sent it without the caller's To tag,
//    so the edges treated it as an initial request. uas.xml now copies the tag.)
//    Client profiles are chosen by `server_id` (set in the script per next hop), not by
//    `[client:ip:port]`: Kamailio 5.6 looks client profiles up by the connection's *local*
//    address (c->rcv.dst_ip), so an ip:port profile naming the peer never matched and every
//    outbound connection used client:default — the BYE towards atlanta then failed with
//    "certificate verify failed" (fedB CA against atlanta's fedA certificate).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

export interface HostPort {
  host: string;
  port: number;
}

interface CommonOptions {
  /** no per-request log lines (benchmark) */
  quiet?: boolean;
}

export interface EdgeOptions extends CommonOptions {
  role: 'edge';
  name: string;
  dir: string;
  udpPort: number;
  tlsPort: number;
  tls: TlsFiles;
  /** Where initial requests that arrived over UDP go (over TLS). */
  tlsNextHop: HostPort;
  /** Where initial requests that arrived over TLS go (over UDP). */
  udpNextHop: HostPort;
  /** log every message received over TLS whole (between "TLS-IN" and "TLS-END" lines) */
  logTlsMessages?: boolean;
}

export interface MiddleOptions extends CommonOptions {
  role: 'middle';
  name: string;
  dir: string;
  /** One TLS listener per federation: the server certificate is chosen by listening socket. */
  servers: Array<{ port: number } & TlsFiles>;
  /** Per destination: the client certificate to present and the CA to verify the server with. */
  clients: Array<HostPort & TlsFiles & { id: string }>;
  /**
   * Initial requests whose Request-URI domain is `domain` go to `to`, sent from the listener on
   * `sendPort` (so the Record-Route that side sees names the listener with its federation's
   * certificate).
   */
  routes: Array<{ domain: string; to: HostPort; sendPort: number }>;
}

export type KamailioOptions = EdgeOptions | MiddleOptions;

const MODULES_DIR = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export function kamailioAvailable(): boolean {
  return spawnSync('kamailio', ['-v'], { stdio: 'ignore' }).status === 0;
}

function tlsProfile(section: string, f: TlsFiles, serverId?: string): string {
  return [
    `[${section}]`,
    ...(serverId ? [`server_id = ${serverId}`, `server_name = ${serverId}`] : []),
    'method = TLSv1.2+',
    'verify_certificate = yes',
    'require_certificate = yes',
    `certificate = ${f.cert}`,
    `private_key = ${f.key}`,
    `ca_list = ${f.ca}`,
    '',
  ].join('\n');
}

/**
 * One log line per request (the interop test reads them); the peer certificate only on TLS
 * (on UDP the tls variables log an error per message). Off when `quiet` (the benchmark).
 */
function reqLog(o: KamailioOptions): string {
  if (o.quiet) return '';
  return [
    'if ($pr == "tls") {',
    '    xlog("L_NOTICE", "REQ $rm $ru from $pr:$si:$sp peer=[$tls_peer_subject_cn/$tls_peer_subject_organization/$tls_peer_verified] route=$hdr(Route)\\n");',
    '  } else {',
    '    xlog("L_NOTICE", "REQ $rm $ru from $pr:$si:$sp route=$hdr(Route)\\n");',
    '  }',
  ].join('\n');
}

function commonHeader(o: KamailioOptions, listens: string[]): string {
  return `#!KAMAILIO
debug=${process.env.KAMAILIO_DEBUG ?? 2}
log_stderror=yes
memdbg=5
memlog=5
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=no
enable_tls=yes
tcp_connection_lifetime=3600
tcp_accept_no_cl=yes
tls_max_connections=4096
${listens.map((l) => `listen=${l}`).join('\n')}
mpath="${MODULES_DIR}"
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "pv.so"
loadmodule "xlog.so"
modparam("tls", "config", "${join(o.dir, 'tls.cfg')}")
modparam("rr", "enable_double_rr", 1)
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 30000)

route[RELAY] {
  if (!t_relay()) { sl_reply_error(); }
  exit;
}

route[WITHIN_DLG] {
  if (!has_totag()) return;
  if (loose_route()) { route(RELAY); }
  if (is_method("ACK")) {
    if (t_check_trans()) { t_relay(); }
    exit;
  }
  sl_send_reply("404", "Not Found");
  exit;
}
`;
}

/**
 * The start of request_route both roles share: Max-Forwards, CANCEL, retransmission absorption,
 * in-dialog requests by their Route set, then Record-Route for an initial request.
 */
function initialRequestPrelude(o: KamailioOptions): string {
  return `${reqLog(o)}
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (is_method("CANCEL")) {
    if (t_check_trans()) { route(RELAY); }
    exit;
  }
  if (!is_method("ACK")) {
    if (t_precheck_trans()) { t_check_trans(); exit; }
    t_check_trans();
  }
  route(WITHIN_DLG);
  record_route();`;
}

function edgeConfig(o: EdgeOptions): { cfg: string; tls: string } {
  const dump = (what: string) => `  if ($pr == "tls") { xlog("L_NOTICE", "TLS-IN ${what}\n$mb\nTLS-END\n"); }\n`;
  const cfg =
    commonHeader(o, [`udp:127.0.0.1:${o.udpPort}`, `tls:127.0.0.1:${o.tlsPort}`]) +
    (o.logTlsMessages ? `\nonreply_route {\n${dump('reply')}}\n` : '') +
    `
request_route {
${o.logTlsMessages ? dump('request') : ''}${initialRequestPrelude(o)}
  if ($pr == "udp") {
    $du = "sip:${o.tlsNextHop.host}:${o.tlsNextHop.port};transport=tls";
  } else {
    $du = "sip:${o.udpNextHop.host}:${o.udpNextHop.port};transport=udp";
  }
  route(RELAY);
}
`;
  const tls = tlsProfile('server:default', o.tls) + tlsProfile('client:default', o.tls);
  return { cfg, tls };
}

function middleConfig(o: MiddleOptions): { cfg: string; tls: string } {
  // Initial requests are routed by their Request-URI domain, like the gateway's S2 table, and
  // sent from the listener of the destination's federation ($fs). Every request (initial or
  // in-dialog) names the client profile of its next hop by server_id before it is relayed.
  const route = o.routes
    .map((r, i) => `  ${i === 0 ? 'if' : 'else if'} ($rd == "${r.domain}") { $du = "sip:${r.to.host}:${r.to.port};transport=tls"; $fs = "tls:127.0.0.1:${r.sendPort}"; }`)
    .join('\n');
  const pick = o.clients
    .map((c, i) => `  ${i === 0 ? 'if' : 'else if'} ($nh(p) == ${c.port}) { $xavp(tls=>server_id) = "${c.id}"; }`)
    .join('\n');
  const header = commonHeader(o, o.servers.map((srv) => `tls:127.0.0.1:${srv.port}`)).replace(
    'route[RELAY] {\n',
    `route[RELAY] {\n${pick}\n`,
  );
  const cfg =
    header +
    `modparam("tls", "xavp_cfg", "tls")

request_route {
${initialRequestPrelude(o)}
${route}
  else { sl_send_reply("404", "No Route"); exit; }
  route(RELAY);
}
`;
  const tls = [
    ...o.servers.map((srv) => tlsProfile(`server:127.0.0.1:${srv.port}`, srv)),
    tlsProfile('server:default', o.servers[0]),
    ...o.clients.map((c) => tlsProfile('client:any', c, c.id)),
    tlsProfile('client:default', o.clients[0]),
  ].join('\n');
  return { cfg, tls };
}

export interface RunningKamailio {
  name: string;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Writes the config, checks it with `kamailio -c`, starts it, and waits until it listens. */
export async function startKamailio(o: KamailioOptions): Promise<RunningKamailio> {
  mkdirSync(o.dir, { recursive: true });
  const { cfg, tls } = o.role === 'edge' ? edgeConfig(o) : middleConfig(o);
  const cfgFile = join(o.dir, 'kamailio.cfg');
  writeFileSync(cfgFile, cfg);
  writeFileSync(join(o.dir, 'tls.cfg'), tls);
  const check = spawnSync('kamailio', ['-c', '-f', cfgFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`kamailio -c ${cfgFile} failed:\n${check.stderr}`);

  const args = ['-f', cfgFile, '-DD', '-E', '-Y', o.dir, '-P', join(o.dir, 'kamailio.pid'), '-m', '1024', '-M', '16', '-x', 'tlsf', '-w', o.dir];
  const child = spawn('kamailio', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 15_000;
  while (!/INFO: <core> \[core\/tcp_main\.c|listening on|Listening on/.test(out) || !out.includes('tls')) {
    if (child.exitCode !== null) throw new Error(`kamailio ${o.name} exited at start:\n${out}`);
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 500)); // children finish forking
  if (child.exitCode !== null) throw new Error(`kamailio ${o.name} exited at start:\n${out}`);
  return {
    name: o.name,
    process: child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
