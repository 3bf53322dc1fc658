// Records the SIP messages of real calls through the interop topology (sipp → Kamailio atlanta →
// sip-bastion in this process → Kamailio biloxi → sipp): what each side sends the gateway and
// what the gateway sends each side, with the flow they use. proxy-loop.ts replays them.
//   npx tsx bench/lib/capture-call.ts   (writes bench/fixtures/call.json)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTopology } from '../../test/interop/topology.js';
import { startSipp } from '../../test/interop/sipp.js';
import type { Flow } from '../../src/gateway/flow.js';
import type { SipMessage } from '../../src/sip/message.js';

const base = mkdtempSync(join(tmpdir(), 'capture-'));
const t = await startTopology(join(base, 't'), 'bastion', { decisions: true, quiet: true });
const gw = t.gateway!;
const names = new Map<number, string>();
const nameOf = (f: Flow) => {
  let n = names.get(f.id);
  if (!n) {
    const peer = f.remote.port === t.ports.aTls || f.local.port === t.ports.midA ? 'atlanta' : 'biloxi';
    n = `${peer}-${f.local.port === t.ports.midA || f.local.port === t.ports.midB ? 'in' : 'out'}`;
    names.set(f.id, n);
  }
  return n;
};
const log: Array<{ flow: string; dir: 'recv' | 'send'; text: string }> = [];
const proxy = gw.proxy;
const onMessage = proxy.onMessage.bind(proxy);
proxy.onMessage = (flow: Flow, msg: SipMessage) => {
  log.push({ flow: nameOf(flow), dir: 'recv', text: msg.toBuffer().toString('latin1') });
  // wrap the flow's send once
  const f = flow as Flow & { __wrapped?: boolean };
  if (!f.__wrapped) {
    f.__wrapped = true;
    const send = f.send.bind(f);
    f.send = (data: Buffer) => {
      log.push({ flow: nameOf(flow), dir: 'send', text: data.toString('latin1') });
      send(data);
    };
  }
  onMessage(flow, msg);
};
// outbound flows are created by the gateway: wrap their send when they appear
const transports = gw.transports as unknown as { streams: Set<Flow & { __wrapped?: boolean }> };
const wrapAll = () => {
  for (const f of transports.streams) {
    if (f.__wrapped) continue;
    f.__wrapped = true;
    const send = f.send.bind(f);
    f.send = (data: Buffer) => {
      log.push({ flow: nameOf(f), dir: 'send', text: data.toString('latin1') });
      send(data);
    };
  }
};
const timer = setInterval(wrapAll, 1);
const dir = join(base, 'sipp');
(await import('node:fs')).mkdirSync(dir, { recursive: true });
// two calls: the first opens the connections, the second is the steady state
for (let i = 0; i < 2; i++) {
  log.length = 0;
  const uas = startSipp({ scenario: 'uas', dir, localPort: t.ports.uas, calls: 1, timeoutS: 30 });
  await new Promise((r) => setTimeout(r, 300));
  const uac = startSipp({ scenario: 'uac', dir, localPort: t.ports.uac, remote: `127.0.0.1:${t.ports.aUdp}`, calls: 1, service: 'bob', timeoutS: 30 });
  await uac.done;
  uas.stop();
  await uas.done;
  await new Promise((r) => setTimeout(r, 300));
}
clearInterval(timer);
await t.stop();
rmSync(base, { recursive: true, force: true });
const out = new URL('../fixtures/call.json', import.meta.url);
writeFileSync(out, JSON.stringify({ note: 'one steady-state call through the interop topology, as the gateway saw it (bench/lib/capture-call.ts)', messages: log }, null, 1));
console.log(`${log.length} messages → ${out.pathname}`);
for (const m of log) console.log(m.flow.padEnd(12), m.dir, m.text.split('\r\n')[0]);
