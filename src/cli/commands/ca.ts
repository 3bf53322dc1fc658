import type { Command } from 'commander';

export function registerCa(program: Command): void {
  program
    .command('ca')
    .description('(not implemented yet)')
    .action(() => {
      console.error('bastion ca: not implemented yet');
      process.exitCode = 2;
    });
}
