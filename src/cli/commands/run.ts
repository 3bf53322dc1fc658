import type { Command } from 'commander';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('(not implemented yet)')
    .action(() => {
      console.error('bastion run: not implemented yet');
      process.exitCode = 2;
    });
}
