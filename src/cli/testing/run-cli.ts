// `bastion ...` in-process for tests: stdout, stderr and the exit code it set.
import { vi } from 'vitest';
import { buildProgram } from '../main.js';

export async function bastion(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  // commands that print with console.log / console.error (vitest routes console elsewhere)
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += a.join(' ') + '\n'));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (stderr += a.join(' ') + '\n'));
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await (await buildProgram(args[0], args[1])).exitOverride().parseAsync(['node', 'bastion', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
    log.mockRestore();
    error.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { stdout, stderr, code };
}
