import type { Command } from 'commander';

export function registerPolicy(program: Command): void {
  program
    .command('policy')
    .description('(not implemented yet)')
    .action(() => {
      console.error('bastion policy: not implemented yet');
      process.exitCode = 2;
    });
}
