// The decision log as a security record, through the real launcher (bin/bastion.js → dist/) with
// log.file: a SIGKILL loses at most about a second of decisions; SIGTERM loses none; an uncaught
// error writes everything out before the process exits; SIGUSR1 (logrotate's postrotate) reopens
// the file under its name. Decisions come from OPTIONS over UDP, few enough that the batch buffer
// (8 KiB) would never fill by itself: without the periodic flush, nothing would reach the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import YAML from 'yaml';
import { TempDir } from '../tls/testkit.js';
import { UdpPeer, isResp } from '../gateway/testing/peer.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));

let dir: TempDir;
beforeAll(() => {
  dir = new TempDir();
  mkdirSync(join(dir.path, 'policy'));
  writeFileSync(join(dir.path, 'policy', 'decision.rego'), 'package sip\n\ndecision := {"allow": input.message.method == "OPTIONS"}\n');
  // test only: an uncaught error on demand (SIGUSR2), loaded into the gateway process with --import
  writeFileSync(join(dir.path, 'crash-on-usr2.mjs'), "process.on('SIGUSR2', () => setImmediate(() => { throw new Error('crash requested by the test'); }));\n");
});
afterAll(() => dir?.remove());

interface Running {
  p: ChildProcess;
  log: string;
  exited: Promise<number | null>;
  port: number;
  lines(file?: string): Array<Record<string, unknown>>;
}

const readLines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

async function until<T>(get: () => T | undefined, what: string, p: ChildProcess, timeoutMs = 240_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (p.exitCode !== null) throw new Error(`bastion exited (${p.exitCode}) before ${what}`);
    if (Date.now() > end) throw new Error(`no ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `bastion run` with a log file; `inProcess`: no re-exec (signals reach the gateway itself). */
async function start(name: string, opts: { inProcess?: boolean; preload?: string } = {}): Promise<Running> {
  const log = join(dir.path, `${name}.log`);
  const file = join(dir.path, `${name}.yaml`);
  writeFileSync(file, YAML.stringify({ listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], policy: { path: 'policy' }, log: { level: 'info', decisions: true, file: log } }));
  const args = [...(opts.preload ? ['--import', pathToFileURL(opts.preload).href] : []), join(root, 'bin', 'bastion.js'), 'run', '--config', file];
  const p = spawn(process.execPath, args, { cwd: dir.path, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.inProcess ? { BASTION_NO_REEXEC: '1' } : {}) } });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  p.stdout!.resume();
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  const lines = (f = log) => readLines(f);
  const port = await until(() => (lines().find((l) => l.msg === 'listening')?.port as number | undefined), `listening line (${err})`, p);
  await until(() => (lines().some((l) => l.msg === 'sip-bastion running') ? true : undefined), 'running line', p);
  return { p, log, exited, port, lines };
}

/** Sends one OPTIONS and waits for its answer; returns when it was answered (the decision was made). */
async function options(ua: UdpPeer, port: number, callId: string): Promise<number> {
  ua.send(
    [`OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bK-${callId}`, 'Max-Forwards: 70', 'From: <sip:ops@atlanta.example>;tag=d1', `To: <sip:127.0.0.1:${port}>`, `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
    port,
  );
  await ua.inbox.wait((m) => isResp(200, 'OPTIONS')(m) && m.callId === callId, `200 for ${callId}`, 60_000);
  return Date.now();
}

const decided = (r: Running, f?: string) => new Set(r.lines(f).filter((l) => l.msg === 'decision').map((l) => l.call_id as string));

describe.skipIf(!built)('decision log durability (bastion run, log.file)', () => {
  it('SIGKILL loses at most about a second of decisions', async () => {
    const r = await start('kill', { inProcess: true });
    const ua = new UdpPeer();
    await ua.bind();
    const answered: Array<[string, number]> = [];
    try {
      for (let i = 0; i < 12; i++) {
        answered.push([`kill-${i}`, await options(ua, r.port, `kill-${i}`)]);
        await new Promise((res) => setTimeout(res, 300));
      }
      const killedAt = Date.now();
      r.p.kill('SIGKILL');
      await r.exited;
      const inFile = decided(r);
      const lost = answered.filter(([id]) => !inFile.has(id));
      // the oldest lost decision was made this long before the kill
      const window = lost.length ? killedAt - Math.min(...lost.map(([, t]) => t)) : 0;
      console.log(`SIGKILL: ${lost.length} of ${answered.length} decisions lost, the oldest ${window} ms before the kill`);
      expect(inFile.size).toBeGreaterThan(0);
      expect(window).toBeLessThanOrEqual(2000); // the flush runs every 500 ms: ~1 s, plus scheduling slack
    } finally {
      ua.close();
    }
  });

  it('SIGUSR1 reopens the file after a rename (through the re-executing launcher); SIGTERM loses nothing', async () => {
    const r = await start('term');
    const ua = new UdpPeer();
    await ua.bind();
    try {
      for (let i = 0; i < 3; i++) await options(ua, r.port, `before-${i}`);
      await until(() => (decided(r).size === 3 ? true : undefined), 'the first decisions in the file', r.p);
      renameSync(r.log, `${r.log}.1`);
      r.p.kill('SIGUSR1');
      await until(() => (existsSync(r.log) ? true : undefined), 'the reopened file', r.p);
      for (let i = 0; i < 3; i++) await options(ua, r.port, `after-${i}`);
      r.p.kill('SIGTERM');
      expect(await r.exited).toBe(0);
      expect([...decided(r, `${r.log}.1`)].sort()).toEqual(['before-0', 'before-1', 'before-2']);
      expect([...decided(r)].sort()).toEqual(['after-0', 'after-1', 'after-2']);
      expect(r.lines().at(-1)).toMatchObject({ msg: 'stopped' });
    } finally {
      ua.close();
    }
  });

  it('an uncaught error writes every decision out before the process exits', async () => {
    const r = await start('crash', { inProcess: true, preload: join(dir.path, 'crash-on-usr2.mjs') });
    const ua = new UdpPeer();
    await ua.bind();
    try {
      for (let i = 0; i < 3; i++) await options(ua, r.port, `crash-${i}`);
      r.p.kill('SIGUSR2');
      expect(await r.exited).toBe(70);
      expect([...decided(r)].sort()).toEqual(['crash-0', 'crash-1', 'crash-2']);
      expect(r.lines().find((l) => l.msg === 'uncaught exception; exiting')).toMatchObject({ level: 60, err: { message: 'crash requested by the test' } });
    } finally {
      ua.close();
    }
  });
});
