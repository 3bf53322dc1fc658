// A real DNS server for tests: Debian's dnsmasq on 127.0.0.1 at an ephemeral port, answering only
// from the records given (NAPTR, SRV, A/AAAA). Used by the resolver's tests and the gateway's.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { promises as dns } from 'node:dns';

/** The dnsmasq binary, or undefined when it is not installed (apt-get install -y dnsmasq). */
export const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => spawnSync(p, ['--version']).status === 0);

/** A UDP port free on 127.0.0.1 right now. */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * dnsmasq answering only from `records` (its command-line record options); resolves once it
 * answers an A query for `probe` (a name the records give an address). `server` is
 * "127.0.0.1:port" as node:dns setServers() takes it.
 */
export async function startDnsmasq(records: string[], probe: string): Promise<{ proc: ChildProcess; server: string }> {
  if (!DNSMASQ) throw new Error('dnsmasq is not installed');
  const port = await freeUdpPort();
  const server = `127.0.0.1:${port}`;
  const proc = spawn(DNSMASQ, [
    '--no-daemon', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts',
    '--conf-file=/dev/null', '--local=/test/', '--user=root', '--pid-file=', ...records,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => proc.kill('SIGKILL')); // even if the worker exits without afterAll
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  const r = new dns.Resolver({ timeout: 200, tries: 1 });
  r.setServers([server]);
  for (let i = 0; i < 50; i++) {
    try {
      await r.resolve4(probe);
      return { proc, server };
    } catch {
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  proc.kill('SIGKILL');
  throw new Error(`dnsmasq did not start: ${log}`);
}
