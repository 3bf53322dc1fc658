// The flood benchmark's reference: Kamailio with pike (per-address request density) in front of
// a stateless answer, flooded and used the same way as the gateway (same peers, same figures).
// OPTIONS are answered 200, anything else 403; pike drops what is over the density.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/interop/ports.js';
import { percentile, type FloodResult, type LegitResult } from '../../src/limits/testing/load-peers.js';
import { runPeer, type PeerKind } from '../../src/limits/testing/peer-process.js';

const MODULES_DIR = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

const peer = <T>(o: { kind: PeerKind } & Record<string, unknown>): Promise<T> => runPeer<T>(o.kind, o);

/** Runs the UDP flood against Kamailio + pike; returns summary lines. */
export async function kamailioFlood(base: string, seconds: number): Promise<string[]> {
  const dir = join(base, 'kamailio');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const cfg = `#!KAMAILIO
debug=1
log_stderror=yes
children=2
auto_aliases=no
dns=no
rev_dns=no
listen=udp:127.0.0.1:${port}
mpath="${MODULES_DIR}"
loadmodule "sl.so"
loadmodule "pike.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
# the gateway's default: 100 requests/s per address (pike counts per 2 s unit)
modparam("pike", "sampling_time_unit", 2)
modparam("pike", "reqs_density_per_unit", 200)
modparam("pike", "remove_latency", 4)
request_route {
  if (!pike_check_req()) { exit; }
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }
  if (is_method("ACK")) { exit; }
  sl_send_reply("403", "Forbidden");
}
`;
  const file = join(dir, 'kamailio.cfg');
  writeFileSync(file, cfg);
  const check = spawnSync('kamailio', ['-c', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`kamailio -c ${file} failed:\n${check.stderr}`);
  const k = spawn('kamailio', ['-f', file, '-DD', '-E', '-Y', dir, '-P', join(dir, 'k.pid'), '-m', '256', '-x', 'tlsf', '-w', dir], { stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    await peer<LegitResult>({ kind: 'legitUdp', from: '127.0.0.3', port, rate: 50, seconds: 1, graceMs: 1000 });
    const [flood, legit] = await Promise.all([
      peer<FloodResult>({ kind: 'udpFlood', from: '127.0.0.2', port, seconds }),
      peer<LegitResult>({ kind: 'legitUdp', from: '127.0.0.3', port, rate: 20, seconds }),
    ]);
    const answered = Object.values(flood.replies).reduce((a, b) => a + b, 0);
    console.log(`\n--- Kamailio (pike + sl), same peers ---`);
    console.log(`UDP flood from 127.0.0.2: ${flood.sent} requests (${Math.round(flood.sent / flood.seconds)}/s); final responses ${answered} ${JSON.stringify(flood.replies)}`);
    console.log(`legitimate peer: ${legit.sent} sent, ${legit.within1s} answered within 1 s, ${legit.answered} in all; p50 ${percentile(legit.latenciesMs, 50).toFixed(1)} ms p99 ${percentile(legit.latenciesMs, 99).toFixed(1)} ms`);
    return [`kamailio   UDP flood: legitimate answered within 1 s ${((legit.within1s / legit.sent) * 100).toFixed(1)} % (first try ${((legit.firstTry / legit.sent) * 100).toFixed(1)} %), flooder ${Math.round(flood.sent / flood.seconds)}/s answered ${answered} ${JSON.stringify(flood.replies)}`];
  } finally {
    k.kill('SIGTERM');
    await new Promise((r) => k.once('exit', r));
  }
}
