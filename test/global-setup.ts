// Builds the WASM runtime once before the suite (a no-op when it is up to date).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../scripts/build-runtime.mjs', import.meta.url));
  execFileSync(process.execPath, [script], { stdio: 'inherit' });
}
