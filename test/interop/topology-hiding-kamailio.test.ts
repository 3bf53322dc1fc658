// Topology hiding on the wire with Kamailio as the far peers: sipp ⇄ Kamailio atlanta (fedA) ⇄
// sip-bastion ⇄ Kamailio biloxi (fedB) ⇄ sipp, federation B's server and client domain with
// `topology_hiding: true`. Kamailio biloxi logs every message it receives over TLS (that is, from
// the gateway): none may carry a Via, Record-Route or Contact address of atlanta's side, and calls
// complete in both directions (the callee's BYE crossing back each time).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kamailioAvailable } from './kamailio.js';
import { startSipp } from './sipp.js';
import { startTopology, type Topology } from './topology.js';
import { compilerReady } from '../../src/policy/testing/compiler-ready.js';

const sippAvailable = spawnSync('sipp', ['-v'], { stdio: 'ignore' }).error === undefined;
const ready = kamailioAvailable() && sippAvailable && (await compilerReady());

/** The messages Kamailio biloxi received over TLS, whole. */
function tlsMessages(output: string): string[] {
  const out: string[] = [];
  const re = /TLS-IN (?:request|reply)\n([\s\S]*?)\nTLS-END/g;
  for (let m = re.exec(output); m; m = re.exec(output)) out.push(m[1]!);
  return out;
}

/** The Via, Record-Route and Contact lines of a message (full and compact header names). */
function addressLines(msg: string): string[] {
  return msg.split(/\r?\n/).filter((l) => /^(via|v|record-route|contact|m)\s*:/i.test(l));
}

describe.skipIf(!ready)('interop: topology hiding towards federation B (Kamailio both sides)', () => {
  let t: Topology;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-th-interop-'));
    t = await startTopology(dir, 'bastion', { hideFedB: true });
  }, 300_000);

  afterAll(async () => {
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** atlanta's side: its Kamailio (UDP and TLS), its sipp, and the gateway's fedA listener */
  const atlantaPorts = () => [t.ports.aUdp, t.ports.aTls, t.ports.uac, t.ports.midA];
  const leaks = (msgs: string[]) =>
    msgs.flatMap((m) => addressLines(m).filter((l) => atlantaPorts().some((p) => new RegExp(`:${p}(?!\\d)`).test(l))));

  it('atlanta calls biloxi: calls complete, biloxi receives nothing of atlanta\'s side', async () => {
    const d = join(dir, 'forward');
    mkdirSync(d, { recursive: true });
    const before = tlsMessages(t.biloxi.output()).length;
    const uas = startSipp({ scenario: 'uas', dir: d, localPort: t.ports.uas, calls: 2, timeoutS: 90 });
    await new Promise((r) => setTimeout(r, 300));
    const uac = startSipp({ scenario: 'uac', dir: d, localPort: t.ports.uac, remote: `127.0.0.1:${t.ports.aUdp}`, calls: 2, rate: 5, service: 'bob', timeoutS: 90 });
    const [ru, rs] = await Promise.all([uac.done, uas.done]);
    expect(ru.code, ru.output.slice(-2000)).toBe(0);
    expect(rs.code, rs.output.slice(-2000)).toBe(0);

    const seen = tlsMessages(t.biloxi.output()).slice(before);
    // per call: INVITE, ACK, the 200 to the callee's BYE (at least)
    expect(seen.filter((m) => m.startsWith('INVITE ')).length).toBe(2);
    expect(seen.filter((m) => m.startsWith('ACK ')).length).toBe(2);
    expect(seen.filter((m) => /^SIP\/2\.0 200 [^\n]*\n[\s\S]*CSeq:\s*\d+ BYE/i.test(m)).length).toBe(2);
    expect(leaks(seen)).toEqual([]);
    for (const inv of seen.filter((m) => m.startsWith('INVITE '))) {
      const lines = addressLines(inv);
      expect(lines.filter((l) => /^v(ia)?\s*:/i.test(l))).toHaveLength(1); // the gateway's Via only
      const rr = lines.filter((l) => /^record-route\s*:/i.test(l));
      expect(rr).toHaveLength(1);
      expect(rr[0]).toMatch(new RegExp(`:${t.ports.midB};transport=tls;lr;bth=[A-Za-z0-9_-]+>`));
      expect(lines.find((l) => /^(contact|m)\s*:/i.test(l))).toMatch(new RegExp(`<sip:127\\.0\\.0\\.1:${t.ports.midB};transport=tls;bth=`));
    }
    // and the caller's side still saw the whole route: the BYE reached atlanta's sipp through atlanta
    const byes = t.atlanta.output().split('\n').filter((l) => l.includes('REQ BYE') && l.includes('from tls:'));
    expect(byes.length).toBeGreaterThanOrEqual(2);
  }, 240_000);

  it('biloxi calls atlanta: calls complete, what biloxi gets back shows only the gateway', async () => {
    const d = join(dir, 'reverse');
    mkdirSync(d, { recursive: true });
    const before = tlsMessages(t.biloxi.output()).length;
    // atlanta's Kamailio sends calls from TLS to the uac port: the callee listens there
    const uas = startSipp({ scenario: 'uas-rev', dir: d, localPort: t.ports.uac, calls: 2, timeoutS: 90 });
    await new Promise((r) => setTimeout(r, 300));
    const uac = startSipp({ scenario: 'uac-rev', dir: d, localPort: t.ports.uas, remote: `127.0.0.1:${t.ports.bUdp}`, calls: 2, rate: 5, service: 'alice', timeoutS: 90 });
    const [ru, rs] = await Promise.all([uac.done, uas.done]);
    expect(ru.code, ru.output.slice(-2000)).toBe(0);
    expect(rs.code, rs.output.slice(-2000)).toBe(0);

    const seen = tlsMessages(t.biloxi.output()).slice(before);
    // per call: 180 and 200 to the INVITE, the callee's BYE, (the 200 to the ACK-less BYE is biloxi's)
    const ok = seen.filter((m) => /^SIP\/2\.0 200 [^\n]*\n[\s\S]*CSeq:\s*\d+ INVITE/i.test(m));
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(seen.filter((m) => m.startsWith('BYE ')).length).toBe(2);
    expect(leaks(seen)).toEqual([]);
    for (const m of ok) {
      const rr = addressLines(m).filter((l) => /^record-route\s*:/i.test(l));
      // biloxi's own entries, and the gateway's one facing it (with the token)
      expect(rr.join('\n')).toMatch(new RegExp(`:${t.ports.midB};transport=tls;lr;bth=`));
    }
  }, 240_000);
});
