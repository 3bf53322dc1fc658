// The gateway's Prometheus metrics (prom-client, in a registry of their own). Counted on the hot
// path into plain numbers (a Map per label set, no label hashing per message) and handed to
// prom-client when scraped; snapshots (connections, transactions, the policy in force) are read
// from the gateway at scrape time through MetricsSources.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One open connection as the metrics see it. */
export interface ConnectionSample {
  transport: string;
  domain?: string;
  verified?: boolean;
}

/** A per-peer limit's hits with one action (border protection: src/limits). */
export interface LimitHitSample {
  /** which limit, e.g. "requests_per_ip", "slow_reader" */
  limit: string;
  /** what the gateway did: reply_503, drop, close, refuse */
  action: string;
  /** hits since start (a counter) */
  hits: number;
}

/** What the metrics read from the gateway when scraped. */
export interface MetricsSources {
  connections(): Iterable<ConnectionSample>;
  transactions(): { server: number; client: number };
  /** messages refused before the policy */
  refused(): { badInput: number; methodNotAllowed: number };
  policy(): { revision: string; source: string } | undefined;
  ready(): boolean;
  upload?(): { uploaded: number; failedUploads: number; dropped: number; buffered: number } | undefined;
  /** the gateway's own certificates: when each expires */
  certificates?(): Iterable<{ domain: string; role: 'server' | 'client'; notAfter: Date }>;
  /** per-peer limit hits (src/limits), each limit and action pair (0 when never hit) */
  limits?(): Iterable<LimitHitSample>;
  /** stale CRLs reported (past their nextUpdate), by domain and action (rejected, accepted) */
  crlStale?(): Iterable<{ domain: string; action: string; count: number }>;
}

export type Outcome = 'allowed' | 'rejected' | 'fail_closed';

/** Decision latency buckets (seconds): 5 µs to 250 ms; the default budget is 100 ms. */
const LATENCY_BUCKETS = [5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3];

const MESSAGE_LABELS = ['direction', 'kind', 'method', 'outcome', 'status', 'failure'] as const;

export class GatewayMetrics {
  readonly registry = new Registry();
  private sources: MetricsSources | undefined;
  private readonly messages = new Map<string, number>();
  private readonly handshakes = new Map<string, number>();
  private readonly dns = new Map<string, number>();
  private readonly evalErrors = new Map<string, number>();
  private reloads = 0;
  private reloadFailures = 0;
  private lastLoad: { ok: boolean; at: number } | undefined;
  private readonly latency: Histogram;

  constructor(opts: { version?: string; processMetrics?: boolean } = {}) {
    const r = this.registry;
    const fromMap = (map: Map<string, number>, names: readonly string[]) =>
      function (this: Counter) {
        this.reset();
        for (const [key, n] of map) {
          const values = key.split('\u0000');
          this.inc(Object.fromEntries(names.map((name, i) => [name, values[i] ?? ''])), n);
        }
      };
    new Gauge({ name: 'sip_bastion_build_info', help: 'sip-bastion version (always 1)', labelNames: ['version'], registers: [r] }).set({ version: opts.version ?? 'unknown' }, 1);
    new Counter({
      name: 'sip_bastion_messages_total',
      help: 'SIP messages decided by the policy, by direction, kind (request/response), method (of the CSeq for responses), outcome (allowed, rejected, fail_closed), the reject status and the failure kind',
      labelNames: [...MESSAGE_LABELS],
      registers: [r],
      collect: fromMap(this.messages, MESSAGE_LABELS),
    });
    this.latency = new Histogram({ name: 'sip_bastion_decision_duration_seconds', help: 'policy evaluation time per message', buckets: LATENCY_BUCKETS, registers: [r] });
    new Counter({
      name: 'sip_bastion_policy_evaluation_errors_total',
      help: 'evaluations that failed closed, by kind (no_policy, undefined, error, invalid, timeout)',
      labelNames: ['kind'],
      registers: [r],
      collect: fromMap(this.evalErrors, ['kind']),
    });
    const refused = (name: string, help: string, pick: (x: { badInput: number; methodNotAllowed: number }) => number) =>
      new Counter({
        name,
        help,
        registers: [r],
        collect: ((self: GatewayMetrics) =>
          function (this: Counter) {
            this.reset();
            const s = self.sources?.refused();
            if (s) this.inc(pick(s));
          })(this),
      });
    refused('sip_bastion_bad_input_total', 'messages refused as malformed or over the limits (never seen by the policy)', (s) => s.badInput);
    refused('sip_bastion_method_not_allowed_total', 'requests answered 405 before the policy (method not in proxy.methods)', (s) => s.methodNotAllowed);
    const self = this;
    new Gauge({
      name: 'sip_bastion_policy_info',
      help: 'the policy in force (1), by revision and source; absent while none is',
      labelNames: ['revision', 'source'],
      registers: [r],
      collect() {
        this.reset();
        const p = self.sources?.policy();
        if (p) this.set({ revision: p.revision, source: p.source }, 1);
      },
    });
    new Gauge({
      name: 'sip_bastion_policy_loaded',
      help: '1 while a policy is in force, 0 before any loaded (every message then fails closed)',
      registers: [r],
      collect() {
        this.set(self.sources?.policy() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sip_bastion_policy_last_load_success',
      help: 'whether the last policy load attempt (start, reload, bundle poll) succeeded',
      registers: [r],
      collect() {
        if (self.lastLoad) this.set(self.lastLoad.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sip_bastion_policy_last_load_timestamp_seconds',
      help: 'when the last policy load attempt ended (Unix time)',
      registers: [r],
      collect() {
        if (self.lastLoad) this.set(self.lastLoad.at / 1000);
      },
    });
    new Counter({
      name: 'sip_bastion_tls_handshakes_total',
      help: 'TLS handshakes by side (inbound, outbound), domain and result: ok, a verify_error (CERT_HAS_EXPIRED, UNABLE_TO_GET_ISSUER_CERT_LOCALLY, ...) for a refused or unverified peer, or the error code of a failed handshake',
      labelNames: ['side', 'domain', 'result'],
      registers: [r],
      collect: fromMap(this.handshakes, ['side', 'domain', 'result']),
    });
    new Gauge({
      name: 'sip_bastion_connections',
      help: 'open TLS/TCP connections by transport, domain and whether the peer is verified',
      labelNames: ['transport', 'domain', 'verified'],
      registers: [r],
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const c of self.sources?.connections() ?? []) {
          const key = `${c.transport}\u0000${c.domain ?? ''}\u0000${c.verified === true}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        for (const [key, n] of counts) {
          const [transport, domain, verified] = key.split('\u0000');
          this.set({ transport: transport!, domain: domain!, verified: verified! }, n);
        }
      },
    });
    new Gauge({
      name: 'sip_bastion_transactions',
      help: 'SIP transactions in progress, by type (server, client)',
      labelNames: ['type'],
      registers: [r],
      collect() {
        const t = self.sources?.transactions();
        if (!t) return;
        this.set({ type: 'server' }, t.server);
        this.set({ type: 'client' }, t.client);
      },
    });
    new Counter({ name: 'sip_bastion_reloads_total', help: 'reloads (SIGHUP, POST /reload)', registers: [r], collect() { this.reset(); this.inc(self.reloads); } });
    new Counter({ name: 'sip_bastion_reloads_failed_total', help: 'reloads refused (the running configuration stayed)', registers: [r], collect() { this.reset(); this.inc(self.reloadFailures); } });
    new Counter({
      name: 'sip_bastion_dns_lookups_total',
      help: 'RFC 3263 next-hop lookups (names only; IP addresses need none), by result (ok, error)',
      labelNames: ['result'],
      registers: [r],
      collect: fromMap(this.dns, ['result']),
    });
    new Gauge({
      name: 'sip_bastion_certificate_expiry_timestamp_seconds',
      help: "when the gateway's own certificate of a TLS domain expires (Unix time), by domain and role (server, client)",
      labelNames: ['domain', 'role'],
      registers: [r],
      collect() {
        this.reset();
        for (const c of self.sources?.certificates?.() ?? []) this.set({ domain: c.domain, role: c.role }, c.notAfter.getTime() / 1000);
      },
    });
    new Gauge({ name: 'sip_bastion_ready', help: '1 when /readyz answers 200', registers: [r], collect() { this.set(self.sources?.ready() ? 1 : 0); } });
    const upload = (name: string, help: string, pick: (u: NonNullable<ReturnType<NonNullable<MetricsSources['upload']>>>) => number, gauge = false) => {
      const collect = function (this: Counter | Gauge) {
        const u = self.sources?.upload?.();
        if (!u) return;
        if (this instanceof Gauge) this.set(pick(u));
        else {
          this.reset();
          this.inc(pick(u));
        }
      };
      if (gauge) new Gauge({ name, help, registers: [r], collect });
      else new Counter({ name, help, registers: [r], collect });
    };
    upload('sip_bastion_decision_log_uploaded_total', 'decision events uploaded to the decision-log service', (u) => u.uploaded);
    upload('sip_bastion_decision_log_upload_failures_total', 'failed uploads to the decision-log service (kept and retried)', (u) => u.failedUploads);
    upload('sip_bastion_decision_log_dropped_total', 'decision events dropped before upload (buffer full, or one event over the upload limit)', (u) => u.dropped);
    upload('sip_bastion_decision_log_buffered', 'decision events waiting for upload', (u) => u.buffered, true);
    new Counter({
      name: 'sip_bastion_limit_hits_total',
      help: 'requests and connections refused by a per-peer limit, by limit (requests_per_ip, requests_per_identity, connections_per_ip, open_connections_per_ip, tls_handshakes_per_ip, slow_reader, datagram_queue) and action (reply_503, drop, close, refuse)',
      labelNames: ['limit', 'action'],
      registers: [r],
      collect() {
        this.reset();
        for (const h of self.sources?.limits?.() ?? []) this.inc({ limit: h.limit, action: h.action }, h.hits);
      },
    });
    new Counter({
      name: 'sip_bastion_crl_stale_total',
      help: "CRLs found past their nextUpdate (each once per TLS domain load), by domain and action: rejected (the issuer's certificates fail with CRL_HAS_EXPIRED) or accepted (crl_stale: accept_with_warning)",
      labelNames: ['domain', 'action'],
      registers: [r],
      collect() {
        this.reset();
        for (const s of self.sources?.crlStale?.() ?? []) this.inc({ domain: s.domain, action: s.action }, s.count);
      },
    });
    if (opts.processMetrics !== false) {
      collectDefaultMetrics({ register: r });
      // gauges named like counters (promtool: non-counter metrics should not have "_total"); the
      // same figures remain by type in nodejs_active_handles, nodejs_active_requests, nodejs_active_resources
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) r.removeSingleMetric(name);
    }
  }

  /** Attaches what the snapshot metrics read (the gateway, once started). */
  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** One decision on one message. */
  decision(m: { direction?: string; kind: 'request' | 'response'; method?: string }, d: { allow: boolean; status?: number; failure?: string; evalNs: number }): void {
    const outcome: Outcome = d.failure ? 'fail_closed' : d.allow ? 'allowed' : 'rejected';
    const key = `${m.direction ?? ''}\u0000${m.kind}\u0000${m.method ?? ''}\u0000${outcome}\u0000${d.allow ? '' : (d.status ?? '')}\u0000${d.failure ?? ''}`;
    this.messages.set(key, (this.messages.get(key) ?? 0) + 1);
    if (d.failure) this.evalErrors.set(d.failure, (this.evalErrors.get(d.failure) ?? 0) + 1);
    if (Number.isFinite(d.evalNs)) this.latency.observe(d.evalNs / 1e9);
  }

  handshake(side: 'inbound' | 'outbound', domain: string, result: string): void {
    const key = `${side}\u0000${domain}\u0000${result}`;
    this.handshakes.set(key, (this.handshakes.get(key) ?? 0) + 1);
  }

  dnsLookup(ok: boolean): void {
    const key = ok ? 'ok' : 'error';
    this.dns.set(key, (this.dns.get(key) ?? 0) + 1);
  }

  reload(ok: boolean): void {
    this.reloads++;
    if (!ok) this.reloadFailures++;
  }

  policyLoad(ok: boolean): void {
    this.lastLoad = { ok, at: Date.now() };
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
