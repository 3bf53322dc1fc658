// Where the package is installed, from src/gateway or dist/src/gateway. Kept apart from config.ts
// so that a short command (`bastion --version`) reads package.json without loading the schema.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json lives), from src/gateway or dist/src/gateway. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}
