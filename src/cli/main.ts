// The `bastion` command line (program.ts). `cert` and `ca` need neither the policy toolchain nor
// the gateway: for them only their own modules are loaded, which makes `bastion cert inspect`
// start several times faster; every other command line loads the whole program.
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';

const LIGHT: Record<string, () => Promise<(p: Command) => void>> = {
  cert: async () => (await import('./commands/cert.js')).registerCert,
  ca: async () => (await import('./commands/ca.js')).registerCa,
};

export async function main(argv: string[]): Promise<void> {
  const light = LIGHT[argv[2] ?? ''];
  if (light) {
    const { Command } = await import('commander');
    const program = new Command('bastion').description('sip-bastion: declarative SIP-over-TLS security gateway').version('0.1.0').showHelpAfterError();
    (await light())(program);
    await program.parseAsync(argv);
    return;
  }
  const { buildProgram } = await import('./program.js');
  await buildProgram().parseAsync(argv);
}

// Run directly (`tsx src/cli/main.ts ...`), not only through bin/bastion.js.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv);
}
