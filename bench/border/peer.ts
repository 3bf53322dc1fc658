// One load peer in a process of its own (the flood benchmark): argv[2] is {kind, ...options} as
// JSON; the result is printed as one JSON line.
import { legitTls, legitUdp, tlsHandshakeFlood, udpFlood } from '../../src/limits/testing/load-peers.js';

const o = JSON.parse(process.argv[2]!) as { kind: string } & Record<string, unknown>;
const run = { udpFlood, legitUdp, legitTls, tlsHandshakeFlood }[o.kind] as ((x: unknown) => Promise<unknown>) | undefined;
if (!run) throw new Error(`unknown peer kind ${o.kind}`);
const r = await run(o);
process.stdout.write(JSON.stringify(r) + '\n');
process.exit(0);
