// The gateway: config → TLS registry + policy engine + listeners + proxy, with its metrics, its log
// sink and its admin listener. start() binds every listener; reload() re-reads the config file and
// applies it whole or not at all; stop() closes everything.
import { readFileSync } from 'node:fs';
import { X509Certificate, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import pino, { type Logger } from 'pino';
import { TlsContextRegistry, type TlsDomainsConfig, type TrustEvent } from '../tls/index.js';
import { DecisionUploader, EvalPool, PolicyEngine, openLogSink, policyOptionsFromConfig, type DecisionLogOptions, type LoadResult, type LogSink, type PolicySource } from '../policy/index.js';
import { TransactionLayer } from '../sip/transaction.js';
import { GatewayMetrics, countingResolver, observedDecider } from '../metrics/index.js';
import { AdminServer, adminServerOptions, readToken, type AdminTarget } from '../admin/server.js';
import { ConfigError, parseConfig, resolvePath, type DnsConfig, type GatewayConfig, type ListenConfig, type LoadedConfig } from './config.js';
import { ensureDevPki } from './devpki.js';
import { Proxy, inThreadDecider, type Decider } from './proxy.js';
import { Transports, type TransportsOptions } from './transports.js';
import { DnsResolver3263, type DnsOptions, type Resolver } from './nexthop.js';
import type { ListenerInfo, StreamFlow } from './flow.js';
import { VERSION } from './version.js';
import type { SipUri } from '../sip/uri.js';
import { Border } from './border.js';
import { TopologyHiding } from './topology-hiding.js';
import { DEFAULT_WRITE_LIMITS, resolvePeerLimits, type WriteLimits } from '../limits/index.js';
import { reverifyConnections, type ReverifyReport } from './reverify.js';
import { forgetEncodedInput } from './input.js';

export interface GatewayOptions {
  logger?: Logger;
  /** replaces the RFC 3263 resolver (tests: a resolver pointed at a test DNS server) */
  resolver?: Resolver;
}

export class GatewayStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayStartError';
  }
}

/** What a reload did, or why it changed nothing. */
export type ReloadReport =
  | {
      ok: true;
      config: string;
      /**
       * reloaded: false when neither the TLS settings nor any of their files changed;
       * reverified: the open TLS connections verified again against the trust state now in force
       */
      tls: { reloaded: boolean; domains: string[]; reverified?: ReverifyReport };
      policy: { revision: string; source: string; changed: boolean };
      listeners: { added: string[]; removed: string[] };
      /** settings that changed in the file but apply only after a restart */
      restart_required: string[];
      took_ms: number;
    }
  | { ok: false; config: string; errors: string[]; policy_in_force: string | null; took_ms: number };

/** One open connection as the admin API lists it. */
export interface ConnectionInfo {
  id: number;
  transport: string;
  direction: 'inbound' | 'outbound';
  local: string;
  remote: string;
  domain: string | null;
  peer: { subject: string | null; issuer: string | null; sans: string[]; verified: boolean; verify_error: string | null; not_after: string | null } | null;
  age_s: number;
  messages_in: number;
  messages_out: number;
}

/** Config sections applied by a reload; anything else that changed waits for a restart. */
const RELOADABLE = new Set(['listen', 'server_domains', 'client_domains', 'policy', 'limits', 'log']);
const LOG_RELOADABLE = new Set(['level', 'decisions', 'decision_input', 'mask', 'sample']);
const POLICY_RELOADABLE = new Set(['path', 'bundle', 'url', 'poll_interval_ms', 'data']);

export class Gateway {
  readonly metrics: GatewayMetrics;
  registry: TlsContextRegistry | undefined;
  policy!: PolicyEngine;
  transports!: Transports;
  proxy!: Proxy;
  /** per-peer limits, request counts and slow readers: `border.limiter.snapshot()` has the counters */
  border!: Border;
  admin: AdminServer | undefined;
  /** where the log goes when the gateway made its own logger (none with GatewayOptions.logger) */
  logSink: LogSink | undefined;
  uploader: DecisionUploader | undefined;
  /** the policy evaluation workers (undefined: decisions are made in the event-loop thread) */
  pool: EvalPool | undefined;
  private bound = false;
  private stopping: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  private reloading: Promise<ReloadReport> = Promise.resolve({ ok: false, config: '', errors: [], policy_in_force: null, took_ms: 0 });
  private decisionLog: DecisionLogOptions | undefined;
  /** what the TLS domains in force were loaded from (settings and file contents): see tlsFingerprint() */
  private tlsKey = '';
  /** each bound listener with the config entry it came from */
  private bindings: Array<{ key: string; info: ListenerInfo }> = [];

  private constructor(
    public loaded: LoadedConfig,
    readonly logger: Logger,
  ) {
    this.metrics = new GatewayMetrics({ version: VERSION });
  }

  get listeners(): ListenerInfo[] {
    return this.transports?.listeners ?? [];
  }

  /** The listener of this transport (and server domain), e.g. to find the port picked for port 0. */
  listener(transport: ListenerInfo['transport'], serverDomain?: string): ListenerInfo {
    const l = this.listeners.find((x) => x.transport === transport && (serverDomain === undefined || x.serverDomain === serverDomain));
    if (!l) throw new Error(`no ${transport} listener${serverDomain ? ` for ${serverDomain}` : ''}`);
    return l;
  }

  /**
   * Starts the gateway. A policy that cannot be loaded stops the start (GatewayStartError), except
   * a policy from a bundle URL: the gateway then runs not ready (/readyz 503, every message fails
   * closed) until the first bundle arrives.
   */
  static async start(loaded: LoadedConfig, opts: GatewayOptions = {}): Promise<Gateway> {
    const { config, baseDir } = loaded;
    const path = (p: string) => resolvePath(baseDir, p);
    const log = config.log ?? {};
    let sink: LogSink | undefined;
    let uploader: DecisionUploader | undefined;
    let logger = opts.logger;
    if (!logger) {
      uploader = log.upload ? makeUploader(log.upload, path) : undefined;
      const up = uploader;
      sink = await openLogSink({ file: log.file !== undefined ? path(log.file) : undefined, rotate: log.rotate, onDecisionLine: up ? (l) => up.push(l) : undefined });
      logger = pino({ level: log.level ?? 'info' }, sink);
    }
    const gw = new Gateway(loaded, logger);
    gw.logSink = sink;
    gw.uploader = uploader;
    if (uploader) {
      const l = logger;
      uploader.onError = (m) => l.warn(m);
      uploader.start();
    }
    try {
      await gw.startParts(opts);
    } catch (e) {
      await gw.stop();
      throw e instanceof GatewayStartError ? e : new GatewayStartError((e as Error).message);
    }
    return gw;
  }

  private async startParts(opts: GatewayOptions): Promise<void> {
    const { config, baseDir } = this.loaded;
    const logger = this.logger;
    const path = (p: string) => resolvePath(baseDir, p);

    // first, so that /healthz answers and /readyz says what the start waits for
    if (config.admin) {
      this.admin = await AdminServer.start(this.adminTarget(), { ...adminServerOptions(config.admin, path), logger });
      logger.info({ url: this.admin.url }, 'admin listening');
    }

    if (config.dev_pki) {
      const r = await ensureDevPki(path(config.dev_pki.dir), config.dev_pki.names);
      if (r.created) logger.warn({ dir: r.dir }, 'development PKI generated (not for production)');
    }

    if (config.server_domains || config.client_domains) {
      this.tlsKey = await tlsFingerprint(config, baseDir);
      this.registry = await TlsContextRegistry.load(tlsDomains(config), { baseDir });
      this.registry.on('trust', (ev: TrustEvent) => this.onTrustEvent(ev));
    }

    let ownRoute: (u: SipUri) => boolean = () => false;
    const topologyHiding = makeTopologyHiding(config, path, (u) => ownRoute(u));
    const p = config.policy;
    const log = config.log ?? {};
    this.decisionLog = log.decisions === false ? undefined : { logger, input: log.decision_input ?? false, mask: log.mask, sample: log.sample };
    this.policy = new PolicyEngine({
      source: policySource(this.loaded),
      entrypoint: p.entrypoint ?? 'sip/decision',
      failClosed: p.fail_closed,
      evalTimeoutMs: p.eval_timeout_ms,
      logger,
      // keeps the Rego toolchain's ~245 MB of compile-time state out of the gateway's heap
      compileInWorker: true,
      decisionLog: this.decisionLog,
      onLoad: (r) => this.metrics.policyLoad(r.ok),
      ...policyOptionsFromConfig(p, path),
    });
    const first: LoadResult = await this.policy.start();
    if (!first.ok) {
      if (this.policy.policySource.type !== 'url') throw new GatewayStartError(`no policy could be loaded:\n  ${first.errors.join('\n  ')}`);
      logger.error({ errors: first.errors }, 'no policy yet: not ready, every message fails closed until the first bundle arrives');
    }

    const { decider, pool } = await startDecider(this.policy, p.workers, logger);
    this.pool = pool;

    const proxyCfg = config.proxy ?? {};
    const limits = config.limits ?? {};
    this.border = new Border({
      limits: resolvePeerLimits(limits.peers),
      write: writeLimits(config),
      logger,
      isOwnSocket: (address, port) => this.listeners.some((l) => l.port === port && l.address === address),
    });
    this.transports = new Transports({
      border: this.border,
      registry: this.registry,
      logger,
      ...transportLimits(config),
      connectTimeoutMs: proxyCfg.connect_timeout_ms,
      events: { handshake: (side, domain, result) => this.metrics.handshake(side, domain, result) },
    });
    this.proxy = new Proxy({
      topologyHiding,
      egress: this.transports,
      policy: observedDecider(decider, this.metrics),
      resolver: countingResolver(opts.resolver ?? new DnsResolver3263(dnsOptions(proxyCfg.dns)), this.metrics),
      logger,
      layer: new TransactionLayer({ timers: proxyCfg.timers }),
      localNames: proxyCfg.local_names,
      maxForwards: proxyCfg.max_forwards,
      recordRoute: proxyCfg.record_route,
      methods: proxyCfg.methods,
    });
    const proxy = this.proxy;
    ownRoute = (u) => proxy.isOwnRoute(u);
    this.transports.deliverTo(this.border.front(proxy));
    this.metrics.attach({
      connections: () => this.transports.connections.map((f) => ({ transport: f.transport, domain: f.local.domain, verified: f.identity?.verified })),
      transactions: () => this.proxy.layer.size,
      refused: () => ({ badInput: this.proxy.stats.badInput, methodNotAllowed: this.proxy.stats.methodNotAllowed }),
      policy: () => this.policy.info,
      ready: () => this.readiness().ready,
      upload: () => this.uploader?.stats,
      certificates: () => ownCertificates(this.registry),
      crlStale: () => [...this.staleCrls].map(([k, n]) => ({ domain: k.split('\u0000')[0]!, action: k.split('\u0000')[1]!, count: n })),
      limits: () => this.border.limiter.hitCounts(),
    });
    for (const l of config.listen) {
      let info: ListenerInfo;
      try {
        info = await this.transports.listen(l);
      } catch (e) {
        throw new GatewayStartError(`cannot listen on ${describeListen(l)}: ${(e as Error).message}`);
      }
      this.bindings.push({ key: listenKey(l), info });
      logger.info({ transport: info.transport, address: info.address, port: info.port, server_domain: info.serverDomain }, 'listening');
    }
    this.bound = true;
  }

  /** 200 from /readyz: listeners bound, TLS domains loaded, a policy in force. Else the reasons. */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (this.stopping) reasons.push('stopping');
    else if (!this.bound) reasons.push('starting: listeners not bound yet');
    const c = this.loaded.config;
    if ((c.server_domains || c.client_domains) && !this.registry) reasons.push('TLS domains not loaded');
    if (!this.policy?.info) {
      reasons.push(this.policy?.policySource.type === 'url' ? 'no policy in force: waiting for the first bundle from the bundle server' : 'no policy in force');
    }
    return { ready: reasons.length === 0, reasons };
  }

  status(): Record<string, unknown> {
    const r = this.readiness();
    const info = this.policy?.info;
    return {
      version: VERSION,
      pid: process.pid,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      config: this.loaded.source,
      ready: r.ready,
      reasons: r.reasons,
      listeners: this.listeners.map((l) => ({ transport: l.transport, address: l.address, port: l.port, server_domain: l.serverDomain ?? null })),
      policy: info ? { revision: info.revision, source: info.source, loaded_at: info.loadedAt.toISOString() } : null,
      connections: this.transports?.connections.length ?? 0,
      transactions: this.proxy?.layer.size ?? { server: 0, client: 0 },
      // policy.workers in force: 0 when decisions are made in the event-loop thread
      evaluation: this.pool ? { workers: this.pool.size, ...this.pool.stats } : { workers: 0 },
    };
  }

  connections(): ConnectionInfo[] {
    const now = Date.now();
    return (this.transports?.connections ?? []).map((f) => {
      const id = f.identity;
      const san = id?.san;
      return {
        id: f.id,
        transport: f.transport,
        direction: f.listener ? 'inbound' : 'outbound',
        local: hostPort(f.local.address, f.local.port),
        remote: hostPort(f.remote.address, f.remote.port),
        domain: f.local.domain ?? null,
        peer: id
          ? {
              subject: id.subject?.string ?? null,
              issuer: id.issuer?.string ?? null,
              sans: san ? [...san.dns.map((d) => `DNS:${d}`), ...san.uri.map((u) => `URI:${u}`), ...san.ip.map((i) => `IP:${i}`), ...san.email.map((e) => `email:${e}`)] : [],
              verified: id.verified,
              verify_error: id.verify_error ?? null,
              not_after: id.not_after ?? null,
            }
          : null,
        age_s: Math.round((now - f.openedAt) / 1000),
        messages_in: f.messagesIn,
        messages_out: f.messagesOut,
      };
    });
  }

  /** Closes one connection by id (admin API). */
  dropConnection(id: number): boolean {
    const ok = this.transports?.dropConnection(id) ?? false;
    if (ok) this.logger.info({ flow: id }, 'connection dropped (admin)');
    return ok;
  }

  private adminTarget(): AdminTarget {
    return {
      metrics: async (format) => (format === 'json' ? { contentType: 'application/json', body: JSON.stringify(await this.metrics.registry.getMetricsAsJSON()) } : { contentType: this.metrics.contentType, body: await this.metrics.text() }),
      readiness: () => this.readiness(),
      status: () => this.status(),
      connections: () => this.connections(),
      dropConnection: (id) => this.dropConnection(id),
      reload: () => this.reload(),
    };
  }

  /**
   * SIGHUP and POST /reload: re-reads the config file (when the gateway was started from one) and
   * applies it whole or not at all: every TLS domain is loaded again (certificates, keys, CAs,
   * CRLs: for the next handshakes; open connections stay), the policy is loaded from its source
   * (not recompiled when unchanged), listeners added or removed, limits applied. On any error
   * nothing changes; the error is logged and returned. Reloads run one at a time.
   */
  reload(): Promise<ReloadReport> {
    const run = () => this.reloadOnce();
    this.reloading = this.reloading.then(run, run);
    return this.reloading;
  }

  private async reloadOnce(): Promise<ReloadReport> {
    const t0 = performance.now();
    const source = this.loaded.source;
    const fail = (errors: string[]): ReloadReport => {
      const r: ReloadReport = { ok: false, config: source, errors, policy_in_force: this.policy?.info?.revision ?? null, took_ms: Math.round(performance.now() - t0) };
      this.metrics.reload(false);
      this.logger.error({ errors, policy_in_force: r.policy_in_force }, 'reload refused; the running configuration stays');
      return r;
    };
    if (this.stopping || !this.bound) return fail(['the gateway is not running']);

    // 1. the config, validated whole
    let next: LoadedConfig;
    try {
      next = this.rereadConfig();
    } catch (e) {
      return fail(e instanceof ConfigError ? e.problems.map((p) => `${e.source}: ${p}`) : [(e as Error).message]);
    }
    const cfg = next.config;
    const restart = restartRequired(this.loaded.config, cfg);

    // 2. TLS domains, loaded off to the side, unless neither their settings nor any of their
    //    files changed (building contexts costs tens of ms of CPU per domain, on the event loop)
    let registry: TlsContextRegistry | undefined;
    const tlsKey = cfg.server_domains || cfg.client_domains ? await tlsFingerprint(cfg, next.baseDir) : '';
    if ((cfg.server_domains || cfg.client_domains) && tlsKey !== this.tlsKey) {
      if (!this.registry && cfg.listen.some((l) => l.transport === 'tls')) return fail(['TLS domains cannot be added to a gateway started without any: restart it']);
      try {
        registry = await TlsContextRegistry.load(tlsDomains(cfg), { baseDir: next.baseDir, start: false });
      } catch (e) {
        return fail([(e as Error).message]);
      }
    }

    // 3. the policy, off to the side
    const prepared = await this.policy.prepare(policySource(next));
    if (!prepared.ok) return fail(prepared.errors);

    // 4. listeners: bind the new ones (TLS ones on the new domains); on failure undo all of it
    const keep = new Map<string, number>(); // entries of the new config already bound, by key
    for (const l of cfg.listen) keep.set(listenKey(l), (keep.get(listenKey(l)) ?? 0) + 1);
    const kept: typeof this.bindings = [];
    const removed: typeof this.bindings = [];
    for (const b of this.bindings) {
      const n = keep.get(b.key) ?? 0;
      if (n > 0) {
        keep.set(b.key, n - 1);
        kept.push(b);
      } else removed.push(b);
    }
    const toAdd = cfg.listen.filter((l) => {
      const n = keep.get(listenKey(l)) ?? 0;
      if (n > 0) keep.set(listenKey(l), n - 1);
      return n > 0;
    });
    const undoTls = registry && this.registry ? this.registry.adopt(registry) : undefined;
    const added: typeof this.bindings = [];
    for (const l of toAdd) {
      try {
        added.push({ key: listenKey(l), info: await this.transports.listen(l) });
      } catch (e) {
        for (const b of added) await this.transports.unlisten(b.info);
        undoTls?.();
        return fail([`cannot listen on ${describeListen(l)}: ${(e as Error).message}`]);
      }
    }

    // 5. commit: nothing below can fail
    const policy = this.policy.commit(prepared);
    if (registry) this.tlsKey = tlsKey;
    for (const b of removed) await this.transports.unlisten(b.info);
    this.bindings = [...kept, ...added];
    this.transports.setLimits(transportLimits(cfg));
    this.border.setLimits(resolvePeerLimits(cfg.limits?.peers), writeLimits(cfg));
    this.applyLog(cfg);
    this.loaded = { ...next, config: keepRestartRequired(this.loaded.config, cfg) };
    this.metrics.reload(true);
    // 6. open connections meet the trust state now in force (CAs, CRLs, OCSP): on_revocation
    const reverified = await this.reverifyOpenConnections();
    const report: ReloadReport = {
      ok: true,
      config: source,
      tls: {
        reloaded: registry !== undefined,
        domains: this.registry ? [...this.registry.serverDomainNames(), ...this.registry.clientDomainNames()] : [],
        ...(reverified ? { reverified } : {}),
      },
      policy: { revision: this.policy.info!.revision, source: this.policy.info!.source, changed: policy.ok ? policy.changed : false },
      listeners: { added: added.map((b) => describeInfo(b.info)), removed: removed.map((b) => describeInfo(b.info)) },
      restart_required: restart,
      took_ms: Math.round(performance.now() - t0),
    };
    this.logger.info({ tls: report.tls, policy: report.policy, listeners: report.listeners, restart_required: restart, took_ms: report.took_ms }, 'reloaded');
    if (restart.length) this.logger.warn({ restart_required: restart }, 'reload: these settings changed but apply only after a restart');
    return report;
  }

  /**
   * Verifies every open TLS connection again against the TLS domains in force and applies each
   * domain's on_revocation to those that no longer verify (reverify.ts). Never throws.
   */
  async reverifyOpenConnections(only?: { domain: string; role: 'server' | 'client' }): Promise<ReverifyReport | undefined> {
    if (!this.registry || !this.transports) return undefined;
    try {
      const hooks = { logger: this.logger, changed: (flow: StreamFlow) => forgetEncodedInput(flow), retire: (flow: StreamFlow) => this.transports.retire(flow) };
      const r = await reverifyConnections(this.transports.connections, this.registry, hooks, only && ((id) => id.local.domain === only.domain && id.local.role === only.role));
      if (r.closed + r.marked > 0) this.logger.warn({ reverified: r }, 'tls: open connections verified again; some no longer verify');
      else this.logger.info({ reverified: r }, 'tls: open connections verified again');
      return r;
    } catch (e) {
      this.logger.error({ err: e }, 'tls: re-verification of open connections failed');
      return undefined;
    }
  }

  /** What the TLS domains report in the background (stapling, CRL fetches, stale CRLs): logged. */
  private onTrustEvent(ev: TrustEvent): void {
    this.logger[ev.level]({ domain: ev.domain, kind: ev.kind, ...ev.fields }, ev.message);
    if (ev.kind === 'crl-stale') {
      const key = `${ev.domain}\u0000${String(ev.fields.action)}`;
      this.staleCrls.set(key, (this.staleCrls.get(key) ?? 0) + 1);
    }
    // a CRL fetched from a distribution point changed: the domain's open connections meet it
    if (ev.kind === 'crl-updated' && this.bound && !this.stopping) void this.reverifyOpenConnections({ domain: ev.domain, role: ev.role });
  }

  /** Stale CRLs reported, by domain and action (metrics). */
  private readonly staleCrls = new Map<string, number>();

  /** The config file read and validated again; a config not from a file (tests) stays as it is. */
  private rereadConfig(): LoadedConfig {
    const { source, baseDir } = this.loaded;
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !source.includes('/')) return this.loaded; // inline config
      throw new ConfigError(source, [`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
    }
    return parseConfig(text, source, baseDir);
  }

  /** Log settings a reload applies: the level, and what the decision log writes. */
  private applyLog(cfg: GatewayConfig): void {
    const log = cfg.log ?? {};
    this.logger.level = log.level ?? 'info';
    const d = this.decisionLog;
    if (d) {
      d.input = log.decision_input ?? false;
      d.mask = log.mask;
      d.sample = log.sample;
    }
  }

  /** SIGUSR1: reopens the log file under its name (after logrotate moved it). */
  reopenLog(): void {
    this.logSink?.reopen();
    this.logger.info({ file: this.logSink?.file ?? null }, 'log reopened');
  }

  /** Stops listening, closes connections, uploads what is left of the decision log and closes the log. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.policy?.close();
      this.proxy?.shutdown();
      await this.transports?.close();
      await this.pool?.close();
      this.registry?.close();
      if (this.border) {
        this.border.close();
        this.logger.info({ limits: this.border.limiter.snapshot() }, 'limits: totals');
      }
      await this.admin?.close();
      await this.uploader?.stop();
      this.logger.info('stopped');
      await this.logSink?.close();
    })();
    return this.stopping;
  }
}

const expiry = new WeakMap<object, Date | null>();

/** The expiry of each TLS domain's own certificate (parsed once per loaded domain). */
/** Evaluation workers (policy.workers), or the event-loop thread when there are none or they cannot start. */
async function startDecider(policy: PolicyEngine, workers: number | 'auto' | undefined, logger: Logger): Promise<{ decider: Decider; pool?: EvalPool }> {
  const w = workers ?? 'auto';
  const size = w === 'auto' ? Math.max(1, availableParallelism() - 1) : w;
  if (size === 0) return { decider: inThreadDecider(policy) };
  try {
    const pool = await EvalPool.start(policy, { size });
    logger.info({ workers: size }, 'policy evaluation workers started');
    return { decider: pool, pool };
  } catch (e) {
    logger.warn({ err: { message: (e as Error).message } }, 'policy evaluation workers unavailable; evaluating in the event-loop thread (no hard evaluation timeout)');
    return { decider: inThreadDecider(policy) };
  }
}

function ownCertificates(registry: TlsContextRegistry | undefined): Array<{ domain: string; role: 'server' | 'client'; notAfter: Date }> {
  if (!registry) return [];
  const out: Array<{ domain: string; role: 'server' | 'client'; notAfter: Date }> = [];
  const domains = [...registry.serverDomainNames().map((n) => registry.serverDomain(n)), ...registry.clientDomainNames().map((n) => registry.clientDomain(n))];
  for (const d of domains) {
    let at = expiry.get(d);
    if (at === undefined) {
      const pem = d.contextOptions.cert;
      try {
        at = typeof pem === 'string' ? new Date(new X509Certificate(pem).validTo) : null;
      } catch {
        at = null;
      }
      expiry.set(d, at);
    }
    if (at) out.push({ domain: d.name, role: d.role, notAfter: at });
  }
  return out;
}

/**
 * The TLS domains' settings and the contents of every file they name (certificates, keys, CAs,
 * CRLs, CN maps), as one digest: equal digests load equal domains. A missing file counts as such
 * (the load then fails and says so).
 */
async function tlsFingerprint(config: GatewayConfig, baseDir: string): Promise<string> {
  const h = createHash('sha256');
  const domains = tlsDomains(config);
  h.update(JSON.stringify(domains));
  const files: string[] = [];
  for (const d of [...Object.values(domains.server_domains ?? {}), ...Object.values(domains.client_domains ?? {})]) {
    files.push(...[d.cert, d.key, ...(d.ca ?? []), ...(d.crl ?? []), d.cn_map].filter((f): f is string => typeof f === 'string'));
  }
  for (const f of files) {
    h.update(`\u0000${f}\u0000`);
    h.update(await readFile(resolvePath(baseDir, f)).catch(() => Buffer.from('\u0000missing')));
  }
  return h.digest('hex');
}

/** Topology hiding for the domains that ask for it (none: undefined). */
function makeTopologyHiding(config: GatewayConfig, path: (p: string) => string, isOwn: (u: SipUri) => boolean): TopologyHiding | undefined {
  const hidden = (ds: Record<string, { topology_hiding?: boolean }> | undefined) => Object.entries(ds ?? {}).filter(([, d]) => d.topology_hiding).map(([n]) => n);
  const [serverDomains, clientDomains] = [hidden(config.server_domains), hidden(config.client_domains)];
  if (serverDomains.length + clientDomains.length === 0) return undefined;
  let secret: Buffer | undefined;
  const keyFile = config.proxy?.topology_hiding_key_file;
  if (keyFile) {
    try {
      secret = readFileSync(path(keyFile));
    } catch (e) {
      throw new GatewayStartError(`proxy.topology_hiding_key_file: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (secret.length < 32) throw new GatewayStartError('proxy.topology_hiding_key_file: needs at least 32 bytes of secret');
  }
  return new TopologyHiding({ serverDomains, clientDomains, secret, isOwn });
}

function tlsDomains(config: GatewayConfig): TlsDomainsConfig {
  return { server_domains: config.server_domains, client_domains: config.client_domains };
}

function policySource(loaded: LoadedConfig): PolicySource {
  const p = loaded.config.policy;
  const path = (x: string) => resolvePath(loaded.baseDir, x);
  if (p.path) return { type: 'dir', path: path(p.path), data: (p.data ?? []).map(path) };
  if (p.bundle) return { type: 'bundle', path: path(p.bundle) };
  return { type: 'url', url: p.url!, pollIntervalMs: p.poll_interval_ms };
}

/** The slow-reader guard's limits (for connections opened from now on). */
function writeLimits(config: GatewayConfig): WriteLimits {
  const limits = config.limits ?? {};
  return { maxQueueBytes: limits.write_queue_bytes ?? DEFAULT_WRITE_LIMITS.maxQueueBytes, sendTimeoutMs: limits.send_timeout_ms ?? DEFAULT_WRITE_LIMITS.sendTimeoutMs };
}

function transportLimits(config: GatewayConfig): Pick<TransportsOptions, 'limits' | 'partialMessageTimeoutMs' | 'idleTimeoutMs'> {
  const limits = config.limits ?? {};
  return {
    limits: definedOnly({
      maxMessageBytes: limits.max_message_bytes,
      maxHeaderBytes: limits.max_header_bytes,
      maxBodyBytes: limits.max_body_bytes,
      maxHeaderCount: limits.max_header_count,
      maxHeaderLineBytes: limits.max_header_line_bytes,
    }),
    partialMessageTimeoutMs: limits.partial_message_timeout_ms,
    idleTimeoutMs: limits.idle_timeout_ms,
  };
}

/** The config paths that differ between two configs but are not applied by a reload. */
export function restartRequired(before: GatewayConfig, after: GatewayConfig): string[] {
  const out: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof GatewayConfig>;
  for (const k of keys) {
    const a = before[k] as Record<string, unknown> | undefined;
    const b = after[k] as Record<string, unknown> | undefined;
    if (same(a, b)) continue;
    if (!RELOADABLE.has(k)) {
      out.push(`/${k}`);
      continue;
    }
    const live = k === 'log' ? LOG_RELOADABLE : k === 'policy' ? POLICY_RELOADABLE : undefined;
    if (!live) continue;
    for (const sub of new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])) {
      if (!live.has(sub) && !same(a?.[sub], b?.[sub])) out.push(`/${k}/${sub}`);
    }
  }
  return out;
}

/** The new config, with the sections that wait for a restart as they run now. */
function keepRestartRequired(running: GatewayConfig, next: GatewayConfig): GatewayConfig {
  const out = { ...next } as Record<string, unknown>;
  const run = running as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(running), ...Object.keys(next)])) {
    if (!RELOADABLE.has(k)) {
      if (k in run) out[k] = run[k];
      else delete out[k];
    }
  }
  const keepSub = (k: 'log' | 'policy', live: Set<string>) => {
    const a = (run[k] ?? {}) as Record<string, unknown>;
    const b = { ...((out[k] ?? {}) as Record<string, unknown>) };
    for (const sub of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (live.has(sub)) continue;
      if (sub in a) b[sub] = a[sub];
      else delete b[sub];
    }
    if (Object.keys(b).length || k === 'policy') out[k] = b;
  };
  keepSub('log', LOG_RELOADABLE);
  keepSub('policy', POLICY_RELOADABLE);
  return out as unknown as GatewayConfig;
}

function makeUploader(up: NonNullable<NonNullable<GatewayConfig['log']>['upload']>, path: (p: string) => string): DecisionUploader {
  return new DecisionUploader({
    url: up.url,
    resource: up.resource,
    token: up.token_file !== undefined ? readToken(path(up.token_file)) : undefined,
    labels: up.labels,
    minDelayMs: (up.min_delay_seconds ?? 5) * 1000,
    maxDelayMs: (up.max_delay_seconds ?? 10) * 1000,
    uploadSizeLimitBytes: up.upload_size_limit_bytes,
    bufferSizeLimitBytes: up.buffer_size_limit_bytes,
    timeoutMs: up.timeout_ms,
    version: VERSION,
  });
}

/** A listen entry as a reload compares them (same key: the listener stays bound). */
function listenKey(l: ListenConfig): string {
  return JSON.stringify([l.transport, l.address ?? '127.0.0.1', l.port, l.server_domain ?? null, l.advertise ?? null]);
}

function describeListen(l: ListenConfig): string {
  return `${l.transport} ${l.address ?? '127.0.0.1'}:${l.port}${l.server_domain ? ` (${l.server_domain})` : ''}`;
}

function describeInfo(l: ListenerInfo): string {
  return `${l.transport} ${hostPort(l.address, l.port)}${l.serverDomain ? ` (${l.serverDomain})` : ''}`;
}

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function dnsOptions(dns: DnsConfig | undefined): DnsOptions {
  if (!dns) return {};
  return { servers: dns.servers, timeoutMs: dns.timeout_ms, tries: dns.tries, preferTls: dns.prefer_tls, ipv6: dns.ipv6 };
}

/** Drops undefined values (so that they do not override defaults when spread). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
