// The `bastion` command line. Each subcommand lives in its own module under commands/
// and registers itself on the program, so the folders that own them never collide. Only the
// module of the command being run is loaded (a short command should not load the gateway).
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { VERSION } from '../gateway/version.js';
import { SUMMARIES, type CommandName } from './commands/summaries.js';

type Register = (program: Command) => void;

const COMMANDS: ReadonlyArray<[name: CommandName, load: () => Promise<Register>]> = [
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

/**
 * The program with the command named by `argv` loaded (`bastion policy ...`, `bastion help
 * policy`). Help, version and an unknown command need no module: the commands are listed by
 * name and summary only.
 */
export async function buildProgram(only?: string, next?: string): Promise<Command> {
  const program = newProgram();
  const name = only === 'help' ? next : only;
  const chosen = COMMANDS.find(([n]) => n === name);
  if (chosen) (await chosen[1]())(program);
  else for (const [n] of COMMANDS) program.command(n).description(SUMMARIES[n]);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await (await buildProgram(argv[2], argv[3])).parseAsync(argv);
}

// Run directly (`tsx src/cli/main.ts ...`), not only through bin/bastion.js.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv);
}
