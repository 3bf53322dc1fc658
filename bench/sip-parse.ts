// SIP message layer benchmark: parse (+ validation) and serialize µs per typical INVITE, plus a
// proxy-style edit (Via push, Max-Forwards, Alert-Info replace, Record-Route) and the policy view.
// Figures are printed, never asserted.  Run: npx tsx bench/sip-parse.ts
import { parseMessage, toPolicyMessage, policyMessageJson, stampReceived, StreamFramer } from '../src/sip/index.js';

const SDP = 'v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\ns=-\r\nc=IN IP4 192.0.2.33\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const inviteText = (branch: string, tag: string, callId: string) =>
  [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    `Via: SIP/2.0/TLS sbc.atlanta.example.com:5061;branch=z9hG4bK${branch};received=192.0.2.101;rport=5061`,
    'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKnashds8;received=192.0.2.33',
    'Max-Forwards: 69',
    'Record-Route: <sip:sbc.atlanta.example.com:5061;transport=tls;lr>',
    'To: Bob <sip:bob@biloxi.example.com>',
    `From: Alice <sip:alice@atlanta.example.com>;tag=${tag}`,
    `Call-ID: ${callId}@atlanta.example.com`,
    'CSeq: 2 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>',
    'Alert-Info: <http://forged.example/ring.wav>',
    'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO',
    'Supported: replaces, timer',
    'User-Agent: ExamplePhone/1.0',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(SDP)}`,
    '',
    SDP,
  ].join('\r\n');
const INVITE = Buffer.from(inviteText('74bf9', '9fxced76sl', '3848276298220188511'));
// The parser remembers parsed URIs, name-addrs and Via values by text (ParseMemo): the same INVITE
// over and over hits that memo everywhere. A new call's INVITE brings a new top Via branch, From
// tag and Call-ID: those miss, the rest (peers' URIs, Record-Route, Contact) hit.
const FRESH = Array.from({ length: 4096 }, (_, i) => Buffer.from(inviteText(`b${i}x${Math.random().toString(36).slice(2)}`, `t${i}`, `c${i}`)));

// Several rounds; reported: CPU time of this process per op (process.cpuUsage, robust against
// other load on the machine) and the best wall-clock round.
function bench(name: string, fn: () => unknown, iterations = 20_000, rounds = 7): number {
  for (let i = 0; i < 5_000; i++) fn(); // warm-up (JIT)
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1000 / iterations);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / iterations);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const cpuMedian = cpu[Math.floor(cpu.length / 2)]!;
  console.log(`${name.padEnd(50)} cpu ${cpuMedian.toFixed(2).padStart(8)} µs   wall best ${wall[0]!.toFixed(2).padStart(8)} µs`);
  return cpuMedian;
}

console.log(`sip-parse: typical INVITE of ${INVITE.length} bytes, node ${process.version}`);
const parse = bench('parse + validate', () => parseMessage(INVITE));
const parsed = parseMessage(INVITE);
const ser = bench('serialize (unmodified, raw header bytes)', () => parsed.toBuffer());
bench('parse + validate + serialize', () => parseMessage(INVITE).toBuffer());
bench('parse + proxy edits + serialize', () => {
  const m = parseMessage(INVITE);
  m.prepend('Via', 'SIP/2.0/TLS gw.example.net:5061;branch=z9hG4bKgw7a1');
  m.set('Max-Forwards', String((m.maxForwards ?? 70) - 1));
  m.remove('Alert-Info');
  m.append('Alert-Info', '<http://ring.example/trusted.wav>');
  m.prepend('Record-Route', '<sip:gw.example.net:5061;transport=tls;lr>');
  return m.toBuffer();
});
bench('parse + policy view (toPolicyMessage)', () => toPolicyMessage(parseMessage(INVITE)));
let k = 0;
bench('parse + validate, new call each time (branch, tag)', () => parseMessage(FRESH[k++ & 4095]!));
// the gateway's per-message path: the policy view as JSON text (policyMessageJson), a new call
// each time (its top Via, From and Call-ID are encoded afresh; peers' URIs come from the cache)
bench('parse + policy JSON, new call each time', () => policyMessageJson(parseMessage(FRESH[k++ & 4095]!)));
// RFC 3581 on receipt: the top Via asks for rport (stamped) or names the source (left alone)
const RPORT = FRESH.map((b) => Buffer.from(b.toString('latin1').replace(/;received=192\.0\.2\.101;rport=5061/, ';rport'), 'latin1'));
bench('parse + stamp received/rport (top Via asks rport)', () => stampReceived(parseMessage(RPORT[k++ & 4095]!), '192.0.2.101', 40000));
const PLAIN = FRESH.map((b) => Buffer.from(b.toString('latin1').replace(/;received=192\.0\.2\.101;rport=5061/, ''), 'latin1'));
bench('parse + stamp received/rport (nothing to stamp)', () => stampReceived(parseMessage(PLAIN[k++ & 4095]!), 'sbc.atlanta.example.com', 5061));
const stream = Buffer.concat(Array.from({ length: 100 }, () => INVITE));
const chunk = bench('stream framing + parse, one chunk of 100 INVITEs', () => new StreamFramer().push(stream), 200);
console.log(`${'  = per INVITE'.padEnd(50)} cpu ${(chunk / 100).toFixed(2).padStart(8)} µs`);
console.log(`parse+serialize per INVITE: ${(parse + ser).toFixed(2)} µs CPU (load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
