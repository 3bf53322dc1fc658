// The `bastion` command line. Each subcommand lives in its own module under commands/
// and registers itself on the program, so the folders that own them never collide. Only the
// module of the command being run is loaded (a short command should not load the gateway).
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { VERSION } from '../gateway/version.js';

type Register = (program: Command) => void;

const COMMANDS: ReadonlyArray<[name: string, load: () => Promise<Register>]> = [
  ['run', async () => (await import('./commands/run.js')).registerRun],
  ['policy', async () => (await import('./commands/policy.js')).registerPolicy],
  ['cert', async () => (await import('./commands/cert.js')).registerCert],
  ['ca', async () => (await import('./commands/ca.js')).registerCa],
  ['ctl', async () => (await import('./commands/ctl.js')).registerCtl],
];

function newProgram(): Command {
  return new Command('bastion')
    .description('sip-bastion: declarative SIP-over-TLS security gateway')
    .version(VERSION)
    .showHelpAfterError();
}

/** The program with the commands named (all when none is: help, version, an unknown command). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = newProgram();
  if (only === '-V' || only === '--version') return program; // no command module needed
  const chosen = COMMANDS.filter(([name]) => name === only);
  for (const [, load] of chosen.length > 0 ? chosen : COMMANDS) (await load())(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await (await buildProgram(argv[2])).parseAsync(argv);
}

// Run directly (`tsx src/cli/main.ts ...`), not only through bin/bastion.js.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv);
}
