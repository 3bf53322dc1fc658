// All TLS domains of the gateway, loaded from config, swappable at run time. Servers and outbound
// connections look their domain up here on every new connection, so a reload applies to the next
// handshake; `reload({dropConnections: true})` also closes what is open so every peer is verified again.
import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import {
  loadServerDomain,
  loadClientDomain,
  TlsConfigError,
  type ServerDomain,
  type ClientDomain,
  type TlsDomainsConfig,
  type TrustEvent,
} from './domains.js';

export interface ReloadResult {
  /** Domains now running on freshly loaded files. */
  loaded: string[];
  /** Domains whose files failed; they keep their previous material. */
  failed: { domain: string; error: string }[];
  dropped: number;
}

export interface RegistryOptions {
  /** Relative file names in the config are resolved against this folder. */
  baseDir?: string;
  /** Start the domains' background work now (default true); false: when adopted (a reload loading off to the side). */
  start?: boolean;
}

export class TlsContextRegistry extends EventEmitter {
  private servers = new Map<string, ServerDomain>();
  private clients = new Map<string, ClientDomain>();
  private readonly live = new Set<TLSSocket>();
  private generation = 0;

  private constructor(
    private config: TlsDomainsConfig,
    private readonly baseDir: string,
  ) {
    super();
  }

  /** Loads every domain; any failure stops start-up with a TlsConfigError naming domain, file and reason. */
  static async load(config: TlsDomainsConfig, opts: RegistryOptions = {}): Promise<TlsContextRegistry> {
    const reg = new TlsContextRegistry(config, opts.baseDir ?? '.');
    for (const [name, cfg] of Object.entries(config.server_domains ?? {})) reg.servers.set(name, await loadServerDomain(name, cfg, reg.baseDir));
    for (const [name, cfg] of Object.entries(config.client_domains ?? {})) reg.clients.set(name, await loadClientDomain(name, cfg, reg.baseDir));
    if (opts.start !== false) reg.inForce(new Set());
    return reg;
  }

  private domains(): Array<ServerDomain | ClientDomain> {
    return [...this.servers.values(), ...this.clients.values()];
  }

  /**
   * The domains now in force report here ('trust' events) and run their background work (OCSP
   * stapling, CRL fetching); those of `before` that are no longer in force stop theirs.
   */
  private inForce(before: Set<ServerDomain | ClientDomain>): void {
    const now = new Set(this.domains());
    for (const d of before) if (!now.has(d)) for (const b of d.background) b.stop();
    for (const d of now) {
      d.events.emit = (ev) => this.emit('trust', { ...ev, role: d.role } satisfies TrustEvent);
      for (const b of d.background) b.start();
    }
  }

  /** Stops every domain's background work (the gateway stops). */
  close(): void {
    for (const d of this.domains()) for (const b of d.background) b.stop();
  }

  /** Bumped on every reload; lets servers notice that their default context is stale. */
  get version(): number {
    return this.generation;
  }

  serverDomain(name: string): ServerDomain {
    const d = this.servers.get(name);
    if (!d) throw new TlsConfigError(name, undefined, 'no such server domain');
    return d;
  }

  serverDomainNames(): string[] {
    return [...this.servers.keys()];
  }

  clientDomain(name: string): ClientDomain {
    const d = this.clients.get(name);
    if (!d) throw new TlsConfigError(name, undefined, 'no such client domain');
    return d;
  }

  clientDomainNames(): string[] {
    return [...this.clients.keys()];
  }

  /** The server domain whose `sni` list names `servername` (exact first, then `*.` wildcards). */
  serverDomainForSni(servername: string): ServerDomain | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    for (const d of this.servers.values()) if (d.sni.includes(name)) return d;
    for (const d of this.servers.values()) {
      for (const pattern of d.sni) {
        if (pattern.startsWith('*.') && name.endsWith(pattern.slice(1)) && !name.slice(0, -pattern.length + 1).includes('.')) return d;
      }
    }
    return undefined;
  }

  /**
   * Client domain for an outbound connection: by name (the policy's `client_domain`) when given;
   * else the first whose `destinations` lists `host:port` or `host`; else the one named `default`.
   */
  selectClientDomain(sel: { name?: string; host: string; port?: number }): ClientDomain {
    if (sel.name) return this.clientDomain(sel.name);
    const host = sel.host.toLowerCase().replace(/^\[|\]$/g, '');
    const hostPort = isIP(host) === 6 ? `[${host}]:${sel.port}` : `${host}:${sel.port}`;
    for (const d of this.clients.values()) if (sel.port !== undefined && d.destinations.includes(hostPort)) return d;
    for (const d of this.clients.values()) if (d.destinations.includes(host)) return d;
    const fallback = this.clients.get('default');
    if (fallback) return fallback;
    throw new TlsConfigError(sel.host, undefined, 'no client domain matches this destination and there is no "default" client domain');
  }

  /**
   * Takes over the domains of `next`, a registry loaded whole from a new configuration (a gateway
   * config reload): the next handshakes use them, open connections keep theirs. Returns an undo
   * that puts the previous domains back (the rest of the reload failed).
   */
  adopt(next: TlsContextRegistry): () => void {
    const swap = (to: { servers: Map<string, ServerDomain>; clients: Map<string, ClientDomain>; config: TlsDomainsConfig }) => {
      const before = new Set(this.domains());
      this.servers = to.servers;
      this.clients = to.clients;
      this.config = to.config;
      this.generation++;
      this.inForce(before);
      this.emit('reload', { loaded: [...to.servers.keys(), ...to.clients.keys()], failed: [], dropped: 0 } satisfies ReloadResult);
    };
    const prev = { servers: this.servers, clients: this.clients, config: this.config };
    swap({ servers: next.servers, clients: next.clients, config: next.config });
    return () => swap(prev);
  }

  /** Registers an open connection (for dropConnections and statistics). */
  track(socket: TLSSocket): void {
    this.live.add(socket);
    socket.once('close', () => this.live.delete(socket));
  }

  get openConnections(): number {
    return this.live.size;
  }

  /**
   * Reloads every domain from its files (or from `config` when given). A domain that fails keeps
   * its previous material; the result says which. New contexts carry new session-ticket keys.
   */
  async reload(opts: { config?: TlsDomainsConfig; dropConnections?: boolean } = {}): Promise<ReloadResult> {
    const config = opts.config ?? this.config;
    const result: ReloadResult = { loaded: [], failed: [], dropped: 0 };
    const servers = new Map<string, ServerDomain>();
    const clients = new Map<string, ClientDomain>();
    for (const [name, cfg] of Object.entries(config.server_domains ?? {})) {
      try {
        servers.set(name, await loadServerDomain(name, cfg, this.baseDir));
        result.loaded.push(name);
      } catch (e) {
        result.failed.push({ domain: name, error: (e as Error).message });
        const old = this.servers.get(name);
        if (old) servers.set(name, old);
      }
    }
    for (const [name, cfg] of Object.entries(config.client_domains ?? {})) {
      try {
        clients.set(name, await loadClientDomain(name, cfg, this.baseDir));
        result.loaded.push(name);
      } catch (e) {
        result.failed.push({ domain: name, error: (e as Error).message });
        const old = this.clients.get(name);
        if (old) clients.set(name, old);
      }
    }
    const before = new Set(this.domains());
    this.servers = servers;
    this.clients = clients;
    this.config = config;
    this.generation++;
    this.inForce(before);
    if (opts.dropConnections) {
      for (const s of [...this.live]) {
        s.destroy();
        result.dropped++;
      }
    }
    this.emit('reload', result);
    return result;
  }
}
