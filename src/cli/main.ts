// The `bastion` command line. Each subcommand lives in its own module under commands/
// and registers itself on the program, so the folders that own them never collide.
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { registerRun } from './commands/run.js';
import { registerPolicy } from './commands/policy.js';
import { registerCert } from './commands/cert.js';
import { registerCa } from './commands/ca.js';
import { registerCtl } from './commands/ctl.js';

export function buildProgram(): Command {
  const program = new Command('bastion')
    .description('sip-bastion: declarative SIP-over-TLS security gateway')
    .version('0.1.0')
    .showHelpAfterError();
  registerRun(program);
  registerPolicy(program);
  registerCert(program);
  registerCa(program);
  registerCtl(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}

// Run directly (`tsx src/cli/main.ts ...`), not only through bin/bastion.js.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv);
}
