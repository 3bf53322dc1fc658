// The gateway: config → TLS registry + policy engine + listeners + proxy. start() binds every
// listener; reload() re-reads certificates, CRLs and the policy; stop() closes everything.
import pino, { type Logger } from 'pino';
import { TlsContextRegistry } from '../tls/index.js';
import { PolicyEngine, policyOptionsFromConfig, type PolicySource, type LoadResult } from '../policy/index.js';
import { TransactionLayer } from '../sip/transaction.js';
import { resolvePath, type DnsConfig, type LoadedConfig } from './config.js';
import { ensureDevPki } from './devpki.js';
import { Proxy, inThreadDecider } from './proxy.js';
import { Transports } from './transports.js';
import { DnsResolver3263, type DnsOptions, type Resolver } from './nexthop.js';
import type { ListenerInfo } from './flow.js';
import type { SipUri } from '../sip/uri.js';
import { Border } from './border.js';
import { TopologyHiding } from './topology-hiding.js';
import { readFileSync } from 'node:fs';
import { DEFAULT_WRITE_LIMITS, resolvePeerLimits } from '../limits/index.js';

export interface GatewayOptions {
  logger?: Logger;
  /** replaces the RFC 3263 resolver (tests: a resolver pointed at a test DNS server) */
  resolver?: Resolver;
}

export class GatewayStartError extends Error {}

export class Gateway {
  private constructor(
    readonly loaded: LoadedConfig,
    readonly logger: Logger,
    readonly registry: TlsContextRegistry | undefined,
    readonly policy: PolicyEngine,
    readonly transports: Transports,
    readonly proxy: Proxy,
    /** per-peer limits, request counts and slow readers: `border.limiter.snapshot()` has the counters */
    readonly border: Border,
  ) {}

  get listeners(): ListenerInfo[] {
    return this.transports.listeners;
  }

  /** The listener of this transport (and server domain), e.g. to find the port picked for port 0. */
  listener(transport: ListenerInfo['transport'], serverDomain?: string): ListenerInfo {
    const l = this.listeners.find((x) => x.transport === transport && (serverDomain === undefined || x.serverDomain === serverDomain));
    if (!l) throw new Error(`no ${transport} listener${serverDomain ? ` for ${serverDomain}` : ''}`);
    return l;
  }

  static async start(loaded: LoadedConfig, opts: GatewayOptions = {}): Promise<Gateway> {
    const { config, baseDir } = loaded;
    const logger = opts.logger ?? makeLogger(loaded);
    const path = (p: string) => resolvePath(baseDir, p);

    if (config.dev_pki) {
      const r = await ensureDevPki(path(config.dev_pki.dir), config.dev_pki.names);
      if (r.created) logger.warn({ dir: r.dir }, 'development PKI generated (not for production)');
    }

    let registry: TlsContextRegistry | undefined;
    if (config.server_domains || config.client_domains) {
      registry = await TlsContextRegistry.load({ server_domains: config.server_domains, client_domains: config.client_domains }, { baseDir });
    }

    const hidden = (ds: Record<string, { topology_hiding?: boolean }> | undefined) => Object.entries(ds ?? {}).filter(([, d]) => d.topology_hiding).map(([n]) => n);
    const [hiddenServers, hiddenClients] = [hidden(config.server_domains), hidden(config.client_domains)];
    let ownRoute: (u: SipUri) => boolean = () => false;
    let topologyHiding: TopologyHiding | undefined;
    if (hiddenServers.length + hiddenClients.length > 0) {
      let secret: Buffer | undefined;
      if (config.proxy?.topology_hiding_key_file) {
        try {
          secret = readFileSync(path(config.proxy?.topology_hiding_key_file));
        } catch (e) {
          throw new GatewayStartError(`proxy.topology_hiding_key_file: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        if (secret.length < 32) throw new GatewayStartError('proxy.topology_hiding_key_file: needs at least 32 bytes of secret');
      }
      topologyHiding = new TopologyHiding({ serverDomains: hiddenServers, clientDomains: hiddenClients, secret, isOwn: (u) => ownRoute(u) });
    }
    const p = config.policy;
    const source: PolicySource = p.path
      ? { type: 'dir', path: path(p.path), data: (p.data ?? []).map(path) }
      : p.bundle
        ? { type: 'bundle', path: path(p.bundle) }
        : { type: 'url', url: p.url!, pollIntervalMs: p.poll_interval_ms };
    const log = config.log ?? {};
    const policy = new PolicyEngine({
      source,
      entrypoint: p.entrypoint ?? 'sip/decision',
      failClosed: p.fail_closed,
      evalTimeoutMs: p.eval_timeout_ms,
      logger,
      // keeps the Rego toolchain's ~245 MB of compile-time state out of the gateway's heap
      compileInWorker: true,
      decisionLog: log.decisions === false ? undefined : { logger, input: log.decision_input ?? false, mask: log.mask },
      ...policyOptionsFromConfig(p, path),
    });
    const loadedPolicy: LoadResult = await policy.start();
    if (!loadedPolicy.ok) {
      // Fail closed but keep running: every message is rejected until a reload succeeds.
      logger.error({ errors: loadedPolicy.errors }, 'policy failed to load; every message is rejected until a reload succeeds');
    }

    const limits = config.limits ?? {};
    const proxyCfg = config.proxy ?? {};
    let ownSockets: ListenerInfo[] = [];
    const border = new Border({
      limits: resolvePeerLimits(limits.peers),
      write: { maxQueueBytes: limits.write_queue_bytes ?? DEFAULT_WRITE_LIMITS.maxQueueBytes, sendTimeoutMs: limits.send_timeout_ms ?? DEFAULT_WRITE_LIMITS.sendTimeoutMs },
      logger,
      isOwnSocket: (address, port) => ownSockets.some((l) => l.port === port && l.address === address),
    });
    const transports = new Transports({
      border,
      registry,
      logger,
      limits: definedOnly({
        maxMessageBytes: limits.max_message_bytes,
        maxHeaderBytes: limits.max_header_bytes,
        maxBodyBytes: limits.max_body_bytes,
        maxHeaderCount: limits.max_header_count,
        maxHeaderLineBytes: limits.max_header_line_bytes,
      }),
      partialMessageTimeoutMs: limits.partial_message_timeout_ms,
      idleTimeoutMs: limits.idle_timeout_ms,
      connectTimeoutMs: proxyCfg.connect_timeout_ms,
    });
    const proxy = new Proxy({
      topologyHiding,
      egress: transports,
      policy: inThreadDecider(policy),
      resolver: opts.resolver ?? new DnsResolver3263(dnsOptions(proxyCfg.dns)),
      logger,
      layer: new TransactionLayer({ timers: proxyCfg.timers }),
      localNames: proxyCfg.local_names,
      maxForwards: proxyCfg.max_forwards,
      recordRoute: proxyCfg.record_route,
      methods: proxyCfg.methods,
    });
    ownRoute = (u) => proxy.isOwnRoute(u);
    transports.deliverTo(border.front(proxy));
    ownSockets = transports.listeners;
    const gw = new Gateway(loaded, logger, registry, policy, transports, proxy, border);
    try {
      for (const l of config.listen) {
        const info = await transports.listen(l);
        logger.info({ transport: info.transport, address: info.address, port: info.port, server_domain: info.serverDomain }, 'listening');
      }
    } catch (e) {
      await gw.stop();
      throw new GatewayStartError(`cannot listen: ${(e as Error).message}`);
    }
    return gw;
  }

  /** SIGHUP: certificates, CA lists and CRLs (next handshakes), then the policy. */
  async reload(opts: { dropConnections?: boolean } = {}): Promise<{ tls?: unknown; policy: LoadResult }> {
    const tls = this.registry ? await this.registry.reload({ dropConnections: opts.dropConnections }) : undefined;
    const policy = await this.policy.reload();
    this.logger.info({ tls, policy: policy.ok ? { ok: true, revision: policy.info.revision } : policy }, 'reloaded');
    return { tls, policy };
  }

  async stop(): Promise<void> {
    this.policy.close();
    this.proxy.shutdown();
    await this.transports.close();
    this.border.close();
    this.logger.info({ limits: this.border.limiter.snapshot() }, 'limits: totals');
  }
}

function makeLogger(loaded: LoadedConfig): Logger {
  const log = loaded.config.log ?? {};
  const level = log.level ?? 'info';
  // Asynchronous, buffered file writes: the decision log writes one line per message, and one
  // write(2) per line cost more than building the line. Flushed on stop.
  if (log.file) return pino({ level }, pino.destination({ dest: resolvePath(loaded.baseDir, log.file), sync: false, minLength: 8 * 1024 }));
  return pino({ level });
}

function dnsOptions(dns: DnsConfig | undefined): DnsOptions {
  if (!dns) return {};
  return { servers: dns.servers, timeoutMs: dns.timeout_ms, tries: dns.tries, preferTls: dns.prefer_tls, ipv6: dns.ipv6 };
}

/** Drops undefined values (so that they do not override defaults when spread). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
