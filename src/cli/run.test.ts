// `bastion run` through the real launcher (bin/bastion.js → dist/): the embedded default config's
// shape on ephemeral ports, a development PKI generated on first start, an OPTIONS answered over
// UDP, the server process re-executed with larger semi-spaces, `bastion ctl` against its admin
// listener (status, connections with a TLS peer's subject, drop, reload, metrics that promtool
// accepts), and a clean stop on SIGINT.
import { describe, expect, it } from 'vitest';
import { execFile, spawn, spawnSync } from 'node:child_process';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import YAML from 'yaml';
import { TempDir } from '../tls/testkit.js';
import { UdpPeer, isResp } from '../gateway/testing/peer.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const promtool = spawnSync('promtool', ['--version']).status === 0;

/** `bastion ctl ...` through the launcher; never throws: the exit code is part of the result. */
async function ctl(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [join(root, 'bin', 'bastion.js'), 'ctl', ...args], { cwd });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}
const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));

/** pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe.skipIf(!built)('bastion run (bin/bastion.js, dist/)', () => {
  it('starts on the default config with its own PKI, answers OPTIONS, stops cleanly on SIGINT', async () => {
    const dir = new TempDir();
    try {
      const cfg = YAML.parse(readFileSync(join(root, 'config', 'default.yaml'), 'utf8'));
      for (const l of cfg.listen) l.port = 0;
      cfg.admin.port = 0;
      const file = join(dir.path, 'bastion.yaml');
      writeFileSync(file, YAML.stringify({ ...cfg, policy: { ...cfg.policy, path: join(root, 'policies') } }));
      const p = spawn(process.execPath, [join(root, 'bin', 'bastion.js'), 'run', '--config', file], { cwd: dir.path, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const lines: Record<string, unknown>[] = [];
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const parts = out.split('\n');
        out = parts.pop()!;
        for (const l of parts) if (l.startsWith('{')) lines.push(JSON.parse(l));
      });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
      const until = async (pred: () => boolean, what: string) => {
        for (let i = 0; i < 1200 && !pred(); i++) {
          if (p.exitCode !== null) throw new Error(`bastion exited (${p.exitCode}) before ${what}: ${err}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        if (!pred()) throw new Error(`no ${what}: ${err}`);
      };
      await until(() => lines.some((l) => l.msg === 'sip-bastion running'), 'start');
      expect(existsSync(join(dir.path, '.state', 'pki', 'gateway.pem'))).toBe(true);
      expect(lines.some((l) => l.msg === 'development PKI generated (not for production)')).toBe(true);
      // policy.workers defaults to auto: decisions are made in an evaluation worker (at least one)
      expect((lines.find((l) => l.msg === 'policy evaluation workers started') as { workers?: number } | undefined)?.workers).toBeGreaterThanOrEqual(1);

      // the server runs in a child of the launcher, with the semi-space flag
      const kids = childrenOf(p.pid!);
      expect(kids).toHaveLength(1);
      expect(readFileSync(`/proc/${kids[0]}/cmdline`, 'utf8').split('\0')).toContain('--max-semi-space-size=32');

      const udp = lines.find((l) => l.msg === 'listening' && l.transport === 'udp') as { port: number };
      const ua = new UdpPeer();
      await ua.bind();
      ua.send(
        [`OPTIONS sip:127.0.0.1:${udp.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bK-run1`, 'Max-Forwards: 70', 'From: <sip:ops@atlanta.example>;tag=r1', `To: <sip:127.0.0.1:${udp.port}>`, 'Call-ID: run-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
        udp.port,
      );
      const r = await ua.inbox.wait(isResp(200, 'OPTIONS'), '200 OK');
      expect(r.get('server')).toBe('sip-bastion');
      ua.close();

      // bastion ctl against the admin listener
      const url = (lines.find((l) => l.msg === 'admin listening') as { url: string }).url;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const status = await ctl(dir.path, '--url', url, 'status');
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/^ready\s+yes$/m);
      expect(status.stdout).toMatch(/^evaluation\s+\d+ workers?: \d+ evaluated, \d+ reused, 0 abandoned, 0 replaced$/m);

      const tlsPort = (lines.find((l) => l.msg === 'listening' && l.transport === 'tls') as { port: number }).port;
      const pki = join(dir.path, '.state', 'pki');
      const peer = tls.connect({ host: '127.0.0.1', port: tlsPort, cert: readFileSync(join(pki, 'gateway.pem')), key: readFileSync(join(pki, 'gateway.key')), ca: readFileSync(join(pki, 'ca.pem')), servername: 'localhost' });
      peer.on('error', () => {});
      await new Promise((res) => peer.once('secureConnect', res));
      const peerClosed = new Promise((res) => peer.once('close', res));
      let table = '';
      for (let i = 0; i < 100 && !table.includes('CN=localhost'); i++) {
        table = (await ctl(dir.path, '--url', url, 'connections')).stdout;
        if (!table.includes('CN=localhost')) await new Promise((res) => setTimeout(res, 100));
      }
      expect(table).toMatch(/^ID\s+PROTO\s+DIR\s+LOCAL\s+REMOTE\s+DOMAIN\s+VERIFIED\s+SUBJECT/m);
      expect(table).toMatch(new RegExp(`^\\d+\\s+tls\\s+in\\s+127\\.0\\.0\\.1:${tlsPort}\\s+127\\.0\\.0\\.1:${peer.localPort}\\s+default\\s+yes\\s+CN=localhost,O=sip-bastion dev`, 'm'));
      const listed = JSON.parse((await ctl(dir.path, '--url', url, '--json', 'connections')).stdout) as Array<{ id: number; remote: string }>;
      const id = listed.find((c) => c.remote === `127.0.0.1:${peer.localPort}`)!.id;
      const drop = await ctl(dir.path, '--url', url, 'drop', String(id));
      expect([drop.code, drop.stdout.trim()]).toEqual([0, `connection ${id} dropped`]);
      await peerClosed;
      expect((await ctl(dir.path, '--url', url, 'drop', String(id))).code).toBe(1);

      const reload = await ctl(dir.path, '--url', url, 'reload');
      expect(reload.code, reload.stderr).toBe(0);
      expect(reload.stdout).toMatch(/^policy\s+sha256:[0-9a-f]+ \(unchanged\)$/m);
      expect(reload.stdout).toMatch(/^tls domains\s+default, default \(unchanged\)$/m);

      const metrics = await ctl(dir.path, '--url', url, 'metrics');
      expect(metrics.code).toBe(0);
      expect(metrics.stdout).toMatch(/^sip_bastion_reloads_total 1$/m);
      if (promtool) {
        const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics.stdout, encoding: 'utf8' });
        expect(check.stdout + check.stderr).toBe('');
        expect(check.status).toBe(0);
      }
      expect((await ctl(dir.path, '--url', 'http://127.0.0.1:1', 'status')).code).toBe(2);

      p.kill('SIGINT');
      expect(await exited).toBe(0);
      await until(() => lines.some((l) => l.msg === 'stopped'), 'stop line');
      expect(childrenOf(p.pid!)).toHaveLength(0);
    } finally {
      dir.remove();
    }
  });
});
