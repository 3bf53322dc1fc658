// Builds the WASM runtime once before the suite (a no-op when it is up to date) and prepares
// its templates for linking next to it (kept when current), as the package build does.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = (name: string) => fileURLToPath(new URL(`../scripts/${name}`, import.meta.url));
  execFileSync(process.execPath, [script('build-runtime.mjs')], { stdio: 'inherit' });
  execFileSync(process.execPath, ['--import', 'tsx', script('prepare-template.mjs'), '--from-src'], { stdio: 'inherit' });
}
