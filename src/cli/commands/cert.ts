import type { Command } from 'commander';

export function registerCert(program: Command): void {
  program
    .command('cert')
    .description('(not implemented yet)')
    .action(() => {
      console.error('bastion cert: not implemented yet');
      process.exitCode = 2;
    });
}
