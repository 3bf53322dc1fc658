#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `bastion run` is a long-lived server: with V8's default young generation it scavenges every
// few milliseconds under load and promotes short-lived message objects. It runs once re-executed
// with larger semi-spaces (the flag cannot be set from inside a running process); signals are
// passed on, the exit code comes back. BASTION_NO_REEXEC=1 runs it in this process as it is.
if (process.argv[2] === 'run' && process.env.BASTION_NO_REEXEC !== '1' && !process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--max-semi-space-size=32', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)));
} else {
  const entry = new URL('../dist/src/cli/main.js', import.meta.url);
  if (!existsSync(fileURLToPath(entry))) {
    console.error('bastion: dist/ is missing; run `npm install` (or `npm run build`) first');
    process.exit(2);
  }
  const { main } = await import(entry.href);
  await main(process.argv);
}
