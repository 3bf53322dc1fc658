// `bastion ...` through the real launcher (bin/bastion.js → dist/), as users run it: stdout,
// stderr and the exit code. `built` says whether dist/ is there (tests skip without it).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const launcher = join(root, 'bin', 'bastion.js');
export const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));

export function bastionBin(args: string[], opts: { cwd?: string } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [launcher, ...args], { cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}
