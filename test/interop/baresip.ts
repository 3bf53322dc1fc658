// Debian's baresip (1.0) as a real SIP user agent, headless: audio through `aubridge` (no sound
// device), driven over its TCP control interface (`ctrl_tcp`: netstring-framed JSON commands,
// events on the same socket), SIP over TLS with its own certificate and the gateway as its
// outbound proxy. Each instance has its own config folder, ports and RTP range; stop() ends it.
// Facts about baresip 1.0 this relies on: `sip_listen a:P` listens UDP/TCP on P and TLS on P+1;
// `net_interface` must be an address; the `ausine` source runs only at 48 kHz (calls then fail
// silently), hence aubridge + G.711.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseMessage } from '../../src/sip/parser.js';
import type { SipMessage } from '../../src/sip/message.js';

export function baresipAvailable(): boolean {
  // `baresip -h` prints its usage and exits (non-zero); a missing binary is a spawn error
  return spawnSync('baresip', ['-h'], { stdio: 'ignore', timeout: 5000 }).error === undefined;
}

export interface BaresipOptions {
  name: string;
  dir: string;
  /** the account's address of record, e.g. sip:alice@atlanta.example */
  aor: string;
  /** certificate chain and private key in one PEM file */
  certKeyPem: string;
  /** CA certificates the UA trusts */
  caFile: string;
  /** the gateway as outbound proxy, e.g. sip:127.0.0.1:5061;transport=tls */
  outbound: string;
  answermode: 'manual' | 'auto';
  /** UDP/TCP port; TLS listens on sipPort + 1 */
  sipPort: number;
  ctrlPort: number;
  rtpPorts: [number, number];
  /** an unused loopback port for baresip's resolver (it must never ask the machine's DNS) */
  dnsPort: number;
  /** baresip quits by itself after this many seconds (default 900) */
  lifetimeS?: number;
}

/** A ctrl_tcp event, e.g. {type: 'CALL_ESTABLISHED', class: 'call', id, peeruri, direction}. */
export interface BaresipEvent {
  type: string;
  class?: string;
  id?: string;
  peeruri?: string;
  direction?: string;
  param?: string;
  accountaor?: string;
  [k: string]: unknown;
}

/** One message of baresip's SIP trace (`-s`): who sent it to whom, and the message. */
export interface TraceEntry {
  transport: string;
  src: { address: string; port: number };
  dst: { address: string; port: number };
  msg: SipMessage;
}

// `ESC[36;1m#` LF `TLS a:p -> b:q` LF message ESC[;m
const TRACE_RE = /\x1b\[36;1m#\n(\w+) (\S+):(\d+) -> (\S+):(\d+)\n([\s\S]*?)\x1b\[;m\n/g;

export interface BaresipResponse {
  ok: boolean;
  data: string;
}

export class Baresip {
  readonly events: BaresipEvent[] = [];
  private out = '';
  private buf = Buffer.alloc(0);
  private token = 0;
  private readonly pending = new Map<string, (r: BaresipResponse) => void>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly opts: BaresipOptions,
    readonly process: ChildProcess,
    private readonly exited: Promise<void>,
    private ctrl?: Socket,
  ) {}

  /** The port its TLS transport listens on. */
  get tlsPort(): number {
    return this.opts.sipPort + 1;
  }

  /** stdout and stderr (the SIP trace among them: every message sent and received). */
  output(): string {
    return this.out;
  }

  static async start(o: BaresipOptions): Promise<Baresip> {
    mkdirSync(o.dir, { recursive: true });
    writeFileSync(join(o.dir, 'config'), configText(o));
    writeFileSync(
      join(o.dir, 'accounts'),
      `<${o.aor};transport=tls>;regint=0;answermode=${o.answermode};audio_codecs=PCMU/8000/1;outbound="${o.outbound}"\n`,
    );
    // -s: SIP trace on stdout; -f: this folder only (never ~/.baresip); -t: quits by itself even
    // if the test process dies without stopping it
    const child = spawn('baresip', ['-f', o.dir, '-s', '-t', String(o.lifetimeS ?? 900)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ua = new Baresip(o, child, exited);
    child.stdout!.on('data', (d: Buffer) => ua.onOutput(d));
    child.stderr!.on('data', (d: Buffer) => ua.onOutput(d));
    try {
      ua.ctrl = await ua.connectControl();
    } catch (e) {
      await ua.stop();
      throw new Error(`baresip ${o.name} did not start: ${(e as Error).message}\n${ua.out}`);
    }
    return ua;
  }

  private onOutput(d: Buffer): void {
    this.out += d.toString('utf8');
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Connects to ctrl_tcp, retrying while baresip starts (bounded). */
  private async connectControl(): Promise<Socket> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (this.process.exitCode !== null) throw new Error(`exited with ${this.process.exitCode}`);
      try {
        const s = await new Promise<Socket>((resolve, reject) => {
          const sock = connect(this.opts.ctrlPort, '127.0.0.1');
          sock.once('connect', () => resolve(sock));
          sock.once('error', reject);
        });
        s.on('data', (d: Buffer) => this.onControl(d));
        s.on('error', () => {});
        return s;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Netstrings `LEN:JSON,`: responses carry the command's token, events `"event":true`. */
  private onControl(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const colon = this.buf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.buf.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(len) || this.buf.length < colon + 1 + len + 1) return;
      const text = this.buf.subarray(colon + 1, colon + 1 + len).toString('utf8');
      this.buf = this.buf.subarray(colon + 1 + len + 1);
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (msg.event) this.events.push(msg as BaresipEvent);
      else if (msg.response && typeof msg.token === 'string') {
        this.pending.get(msg.token)?.({ ok: msg.ok === true, data: String(msg.data ?? '') });
        this.pending.delete(msg.token);
      }
      this.wake();
    }
  }

  /** Every SIP message baresip sent or received so far, in order. */
  trace(): TraceEntry[] {
    const out: TraceEntry[] = [];
    for (const m of this.out.matchAll(TRACE_RE)) {
      let msg: SipMessage;
      try {
        msg = parseMessage(Buffer.from(m[6]!, 'utf8'));
      } catch {
        continue; // a keep-alive or a message cut by the trace: not one the tests look at
      }
      out.push({ transport: m[1]!, src: { address: m[2]!, port: Number(m[3]) }, dst: { address: m[4]!, port: Number(m[5]) }, msg });
    }
    return out;
  }

  /**
   * The messages baresip received: on connections it opened to one of `peerPorts` (the gateway's
   * listeners), or on its own TLS port.
   */
  received(peerPorts: number[]): SipMessage[] {
    return this.trace()
      .filter((e) => peerPorts.includes(e.src.port) || e.dst.port === this.tlsPort)
      .map((e) => e.msg);
  }

  /** The messages baresip sent (the complement of received()). */
  sent(peerPorts: number[]): SipMessage[] {
    return this.trace()
      .filter((e) => !(peerPorts.includes(e.src.port) || e.dst.port === this.tlsPort))
      .map((e) => e.msg);
  }

  /** Waits (bounded) until a traced message matches. */
  waitTrace(what: string, pick: (t: TraceEntry[]) => SipMessage | undefined, timeoutMs = 20_000): Promise<SipMessage> {
    return this.waitFor(what, () => pick(this.trace()), 0, timeoutMs);
  }

  /** Runs a menu command (dial, accept, hangup, reinvite, ...) and resolves with its response. */
  command(command: string, params?: string, timeoutMs = 10_000): Promise<BaresipResponse> {
    const token = `t${++this.token}`;
    const json = JSON.stringify({ command, ...(params !== undefined ? { params } : {}), token });
    const body = Buffer.from(json, 'utf8');
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip ${this.opts.name}: no response to ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.ctrl!.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
    });
  }

  /**
   * Waits (bounded) until `pick` finds something among the events from index `from` on; returns
   * it. The failure message lists the events seen and the end of the output.
   */
  async waitFor<T>(what: string, pick: (events: BaresipEvent[]) => T | undefined, from = 0, timeoutMs = 20_000): Promise<T> {
    const found = () => pick(this.events.slice(from));
    const now = found();
    if (now !== undefined) return now;
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(check);
      };
      const check = () => {
        const v = found();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.process.exitCode !== null) {
          done();
          reject(new Error(`baresip ${this.opts.name} exited while waiting for ${what}\n${this.out.slice(-4000)}`));
        }
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`baresip ${this.opts.name}: no ${what} within ${timeoutMs} ms; events: ${this.events.slice(from).map((e) => e.type).join(', ')}\n${this.out.slice(-4000)}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** The first event of `type` (and call id, when given) from index `from` on. */
  waitEvent(type: string, opts: { from?: number; id?: string; timeoutMs?: number } = {}): Promise<BaresipEvent> {
    return this.waitFor(`${type} event`, (evs) => evs.find((e) => e.type === type && (opts.id === undefined || e.id === opts.id)), opts.from ?? 0, opts.timeoutMs);
  }

  /** Waits (bounded) until the output contains a match of `re` from offset `from` on. */
  waitOutput(re: RegExp, from = 0, timeoutMs = 20_000): Promise<RegExpExecArray> {
    return this.waitFor(`output matching ${re}`, () => re.exec(this.out.slice(from)) ?? undefined, 0, timeoutMs);
  }

  /** `quit`, then SIGTERM, then SIGKILL: each bounded; resolves once the process is gone. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const kill = (sig: NodeJS.Signals) => {
      if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(sig);
    };
    const t1 = setTimeout(() => kill('SIGTERM'), 2000);
    const t2 = setTimeout(() => kill('SIGKILL'), 5000);
    if (this.ctrl && !this.ctrl.destroyed) this.command('quit', undefined, 1500).catch(() => {});
    else kill('SIGTERM');
    await this.exited;
    clearTimeout(t1);
    clearTimeout(t2);
    this.ctrl?.destroy();
  }
}

function configText(o: BaresipOptions): string {
  return [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${o.sipPort}`,
    `sip_certificate ${o.certKeyPem}`,
    `sip_cafile ${o.caFile}`,
    'sip_trans_bsize 128',
    'call_local_timeout 120',
    'call_max_calls 4',
    'audio_player aubridge,nil',
    'audio_source aubridge,nil',
    'audio_alert aubridge,nil',
    'ausrc_srate 8000',
    'auplay_srate 8000',
    'audio_buffer 20-160',
    'statmode_default off',
    `rtp_ports ${o.rtpPorts[0]}-${o.rtpPorts[1]}`,
    'rtp_timeout 0',
    'net_interface 127.0.0.1',
    `dns_server 127.0.0.1:${o.dnsPort}`,
    'module_path /usr/lib/baresip/modules',
    'module aubridge.so',
    'module g711.so',
    'module_app account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${o.ctrlPort}`,
    '',
  ].join('\n');
}
