// `bastion run [--config FILE] [--check]`: starts the gateway (embedded config/default.yaml without
// --config). SIGINT/SIGTERM stop it cleanly (the log written out first); SIGHUP reloads the config
// file, certificates, CRLs and the policy; SIGUSR1 reopens the log file (logrotate). An uncaught
// error writes the log out synchronously and exits 70. When no policy can be loaded the gateway
// does not start (exit 1), except from a bundle URL (it then runs not ready).
import type { Command } from 'commander';
import { ConfigError, Gateway, GatewayStartError, checkConfig, loadConfig } from '../../gateway/index.js';
import { SUMMARIES } from './summaries.js';


export function registerRun(program: Command): void {
  program
    .command('run')
    .description(SUMMARIES.run)
    .option('-c, --config <file>', 'YAML configuration (schemas/config.schema.json)')
    .option('--check', 'load certificates, keys, CRLs and the policy, name every problem, and exit')
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
        const r = await checkConfig(loaded);
        for (const n of r.notes) console.log(`${loaded.source}: ${n}`);
        for (const w of r.warnings) console.error(`${loaded.source}: warning: ${w}`);
        if (r.problems.length) {
          console.error(`${loaded.source}: ${r.problems.length} problem${r.problems.length > 1 ? 's' : ''}:\n  ${r.problems.join('\n  ')}`);
          process.exitCode = 1;
          return;
        }
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
        setTimeout(() => {
          gw.logSink?.flushSync();
          process.exit(0);
        }, 5000).unref();
        void gw.stop().then(() => process.exit(0));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGHUP', () => {
        void gw.reload().catch((e) => gw.logger.error({ err: e }, 'reload failed'));
      });
      process.on('SIGUSR1', () => gw.reopenLog());
      // Decisions are security records: on a crash, what is buffered is written before exit.
      const crash = (what: string) => (err: unknown) => {
        try {
          gw.logger.fatal({ err }, `${what}; exiting`);
        } finally {
          gw.logSink?.flushSync();
          process.exit(70);
        }
      };
      process.on('uncaughtException', crash('uncaught exception'));
      process.on('unhandledRejection', crash('unhandled promise rejection'));
      gw.logger.info({ config: loaded.source, policy: gw.policy.info?.revision ?? null, ready: gw.readiness().ready }, 'sip-bastion running');
    });
}
