// `bastion run` through the real launcher (bin/bastion.js → dist/): the embedded default config's
// shape on ephemeral ports, a development PKI generated on first start, an OPTIONS answered over
// UDP, the server process re-executed with larger semi-spaces, and a clean stop on SIGINT.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import YAML from 'yaml';
import { TempDir } from '../tls/testkit.js';
import { UdpPeer, isResp } from '../gateway/testing/peer.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
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

      p.kill('SIGINT');
      expect(await exited).toBe(0);
      await until(() => lines.some((l) => l.msg === 'stopped'), 'stop line');
      expect(childrenOf(p.pid!)).toHaveLength(0);
    } finally {
      dir.remove();
    }
  });
});
