// `bastion run [--config FILE]`: starts the gateway (embedded config/default.yaml without
// --config). SIGINT/SIGTERM stop it cleanly; SIGHUP reloads certificates, CRLs and the policy.
import type { Command } from 'commander';
import { ConfigError, Gateway, GatewayStartError, loadConfig } from '../../gateway/index.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the gateway (default: the embedded config/default.yaml)')
    .option('-c, --config <file>', 'YAML configuration (schemas/config.schema.json)')
    .option('--check', 'validate the configuration and exit')
    .action(async (o: { config?: string; check?: boolean }) => {
      let loaded;
      try {
        loaded = loadConfig(o.config);
      } catch (e) {
        console.error(e instanceof ConfigError ? e.message : `bastion run: ${(e as Error).message}`);
        process.exitCode = 2;
        return;
      }
      if (o.check) {
        console.log(`${loaded.source}: valid`);
        return;
      }
      let gw: Gateway;
      try {
        gw = await Gateway.start(loaded);
      } catch (e) {
        console.error(`bastion run: ${e instanceof GatewayStartError || e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
        return;
      }
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) return;
        stopping = true;
        gw.logger.info({ signal: sig }, 'stopping');
        void gw.stop().then(() => {
          gw.logger.info('stopped');
          gw.logger.flush?.();
          process.exit(0);
        });
        setTimeout(() => process.exit(0), 3000).unref();
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGHUP', () => {
        void gw.reload().catch((e) => gw.logger.error({ err: e }, 'reload failed'));
      });
      gw.logger.info({ config: loaded.source, policy: gw.policy.info?.revision ?? null }, 'sip-bastion running');
    });
}
