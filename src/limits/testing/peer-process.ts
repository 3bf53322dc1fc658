// One load peer (load-peers.ts) in a process of its own, so that it neither competes with the
// gateway for its thread nor has its timestamps delayed by it: the flood test and the flood
// benchmark start them with runPeer(). Run as a script, argv[2] is {kind, ...options} as JSON and
// the result is printed as one JSON line. Test and benchmark code only.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { legitTls, legitUdp, tlsHandshakeFlood, udpFlood } from './load-peers.js';
import { packageRoot } from '../../gateway/config.js';

const here = fileURLToPath(import.meta.url);
const kinds = { udpFlood, legitUdp, legitTls, tlsHandshakeFlood };
export type PeerKind = keyof typeof kinds;

/** Runs one peer in a child process (node --import tsx); resolves with its result. */
export function runPeer<T>(kind: PeerKind, options: Record<string, unknown>, onSpawn?: (kill: () => void) => void): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', here, JSON.stringify({ kind, ...options })], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
  onSpawn?.(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load peer ${kind} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
    }),
  );
}

if (process.argv[1] === here) {
  const o = JSON.parse(process.argv[2]!) as { kind: PeerKind } & Record<string, unknown>;
  const run = kinds[o.kind] as ((x: unknown) => Promise<unknown>) | undefined;
  if (!run) throw new Error(`unknown peer kind ${o.kind}`);
  const r = await run(o);
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}
