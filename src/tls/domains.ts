// TLS domain profiles (Kamailio tls.cfg style) as they appear in the YAML config, and loading one
// from its files into what a connection needs: a SecureContext, the CA list, CRLs, the CN map and
// our own certificate's subject. Every file problem is a TlsConfigError naming the domain, the
// file and the reason.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createPrivateKey, X509Certificate as NodeX509, randomBytes, constants as C } from 'node:crypto';
import * as tls from 'node:tls';
import { certInfo, type NameInfo } from './certinfo.js';
import { CrlIndex } from './crl.js';
import { loadCnMap, type CnMap } from './cnmap.js';
import { TrustStore } from './verify/store.js';
import { readPkcs12, Pkcs12Error } from './pkcs12.js';
import { pemBlocks, toPem, readPasswordFile, PasswordFileError } from './pem.js';
import { OcspChecker, type OcspConfig } from './ocsp.js';
import { OcspStapler } from './stapling.js';
import { CrlFetcher, StaleCrls, StaleCrlWatch, type CrlFetchConfig, type CrlStaleAction } from './crl-fetch.js';

/** Work a loaded domain does in the background (fetching, refreshing) while it is in force. */
export interface Background {
  start(): void;
  stop(): void;
}

/** What a domain reports (stale CRLs, failed fetches...): the registry in force forwards it as a 'trust' event. */
export interface TrustEvent {
  domain: string;
  role: 'server' | 'client';
  level: 'info' | 'warn';
  message: string;
  /** e.g. crl-stale, crl-fetched, crl-fetch-failed, ocsp-staple */
  kind: string;
  fields: Record<string, unknown>;
}

export interface TrustEventSink {
  /** (the registry adds the domain's role) */
  emit(ev: Omit<TrustEvent, 'role'>): void;
}

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

interface CommonDomainConfig {
  cert?: string;
  key?: string;
  /** A PKCS#12 file with the key and certificate chain, instead of `cert` and `key`. */
  pkcs12?: string;
  /** The file whose first line is the PKCS#12 password (none: empty password). */
  password_file?: string;
  /** CA certificates (PEM files) trusted for peers. */
  ca?: string[];
  crl?: string[];
  /** Maximum number of intermediate CAs between the peer and the trust anchor. Default 9. */
  verify_depth?: number;
  min_version?: TlsVersion;
  /** OpenSSL cipher list (TLS 1.2) and/or TLS 1.3 suite names, colon-separated. */
  ciphers?: string;
  handshake_timeout_ms?: number;
  /** Close connections older than this (0: never). */
  max_connection_age_s?: number;
  cn_map?: string;
  /** CA-list certificates that are not self-signed are trust anchors too (OpenSSL's partial chains). Default false. */
  partial_chain?: boolean;
  /** OCSP status of the peer certificate (see ocsp.ts). Off when absent. */
  ocsp?: OcspConfig;
  /** Topology hiding towards this domain's peers (applied by the gateway's proxy, not here). */
  topology_hiding?: boolean;
  /**
   * An open connection whose peer no longer verifies after a reload of CAs, CRLs or OCSP state:
   * `close` it (default) or `mark` its identity document unverified for the policy.
   */
  on_revocation?: 'close' | 'mark';
  /** A CRL past its nextUpdate: `reject` its issuer's certificates (default) or use it with a warning. */
  crl_stale?: CrlStaleAction;
  /** CRLs fetched over http from the certificates' distribution points. Off when absent. */
  crl_distribution_points?: CrlFetchConfig;
}

export interface ServerDomainConfig extends CommonDomainConfig {
  /** Ask the client for a certificate. Default true. */
  verify?: boolean;
  /** Refuse a client without a valid certificate. Default true (fail closed). */
  require?: boolean;
  /** SNI names served by this domain (`*.example.com` allowed). */
  sni?: string[];
  /** Session tickets (keys rotate on every reload). Default true. */
  session_tickets?: boolean;
}

export interface ClientDomainConfig extends CommonDomainConfig {
  /** Verify the server's certificate (chain, CRL, RFC 5922 domain). Default true. */
  verify?: boolean;
  /** Send SNI (the expected domain, or the host when it is a name). Default true. */
  sni?: boolean;
  /** Destinations that select this domain when no name is given: `host`, `host:port`, `ip:port`. */
  destinations?: string[];
  /** Accept a wildcard DNS SAN in RFC 5922 matching. Default false. */
  allow_wildcard?: boolean;
}

export interface TlsDomainsConfig {
  server_domains?: Record<string, ServerDomainConfig>;
  client_domains?: Record<string, ClientDomainConfig>;
}

export class TlsConfigError extends Error {
  constructor(
    readonly domain: string,
    readonly file: string | undefined,
    readonly reason: string,
  ) {
    super(`TLS domain "${domain}"${file ? `: ${file}` : ''}: ${reason}`);
    this.name = 'TlsConfigError';
  }
}

interface LoadedCommon {
  name: string;
  verify: boolean;
  verifyDepth: number;
  minVersion: TlsVersion;
  ciphers?: string;
  handshakeTimeoutMs: number;
  maxConnectionAgeS: number;
  context: tls.SecureContext;
  /** Options the context was made from (a tls.Server needs them for its default context). */
  contextOptions: tls.SecureContextOptions;
  crls: CrlIndex;
  cnMap: CnMap;
  /** The CA list, parsed for the verifier. */
  trust: TrustStore;
  partialChain: boolean;
  /** OCSP checking of the peer certificate, when configured. */
  ocsp?: OcspChecker;
  /** Our own certificate's subject (absent for a client domain without a certificate). */
  localSubject?: NameInfo;
  /** What re-verification after a reload does to an open connection that no longer verifies. */
  onRevocation: 'close' | 'mark';
  /** Started while the domain is in force, stopped when a reload replaces it (the registry does both). */
  background: Background[];
  /** Where the domain reports; the registry in force points it at itself. */
  events: TrustEventSink;
  crlStale: CrlStaleAction;
  staleCrls: StaleCrls;
  /** CRLs from distribution points (`crl_distribution_points.fetch`). */
  crlFetcher?: CrlFetcher;
}

export interface ServerDomain extends LoadedCommon {
  role: 'server';
  require: boolean;
  sni: string[];
  sessionTickets: boolean;
  /** OCSP stapling of our own certificate (`ocsp.stapling` on a server domain). */
  stapler?: OcspStapler;
}

export interface ClientDomain extends LoadedCommon {
  role: 'client';
  sni: boolean;
  destinations: string[];
  allowWildcard: boolean;
}

export async function loadServerDomain(name: string, cfg: ServerDomainConfig, baseDir = '.'): Promise<ServerDomain> {
  if (!cfg.pkcs12 && (!cfg.cert || !cfg.key)) throw new TlsConfigError(name, undefined, 'a server domain needs "cert" and "key", or "pkcs12"');
  if (cfg.pkcs12 && (cfg.cert || cfg.key)) throw new TlsConfigError(name, undefined, '"pkcs12" replaces "cert" and "key"');
  if (cfg.partial_chain && !serverPartialChainSupported()) throw new TlsConfigError(name, undefined, 'partial_chain is not supported on server domains by this Node version');
  const common = await loadCommon(name, cfg, baseDir, cfg.session_tickets === false);
  let stapler: OcspStapler | undefined;
  if (cfg.ocsp?.stapling) {
    const [leaf, ...chain] = pemBlocks(String(common.contextOptions.cert), 'CERTIFICATE').map((p) => new NodeX509(p));
    const issuer = [...chain, ...common.trust.certs.map((c) => new NodeX509(Buffer.from(c.der)))].find((c) => leaf!.checkIssued(c));
    if (!issuer) throw new TlsConfigError(name, cfg.cert ?? cfg.pkcs12, 'ocsp.stapling: the issuer of our certificate is needed (put it after the certificate, or in ca)');
    try {
      const events = common.events;
      stapler = new OcspStapler(new Uint8Array(leaf!.raw), new Uint8Array(issuer.raw), {
        timeoutMs: cfg.ocsp.timeout_ms,
        maxAgeMs: cfg.ocsp.cache_s !== undefined ? cfg.ocsp.cache_s * 1000 : undefined,
        onEvent: (level, message, fields) => events.emit({ domain: name, level, message, kind: 'ocsp-staple', fields }),
      });
    } catch (e) {
      throw new TlsConfigError(name, cfg.cert ?? cfg.pkcs12, `ocsp.stapling: ${(e as Error).message}`);
    }
    common.background.push(stapler);
  }
  return {
    ...common,
    ...(stapler ? { stapler } : {}),
    role: 'server',
    verify: cfg.verify ?? true,
    require: cfg.require ?? true,
    sni: (cfg.sni ?? []).map((s) => s.toLowerCase()),
    sessionTickets: cfg.session_tickets ?? true,
  };
}

export async function loadClientDomain(name: string, cfg: ClientDomainConfig, baseDir = '.'): Promise<ClientDomain> {
  if (!!cfg.cert !== !!cfg.key) throw new TlsConfigError(name, undefined, '"cert" and "key" go together');
  if (cfg.pkcs12 && (cfg.cert || cfg.key)) throw new TlsConfigError(name, undefined, '"pkcs12" replaces "cert" and "key"');
  const common = await loadCommon(name, cfg, baseDir, false);
  return {
    ...common,
    role: 'client',
    verify: cfg.verify ?? true,
    sni: cfg.sni ?? true,
    destinations: (cfg.destinations ?? []).map((d) => d.toLowerCase()),
    allowWildcard: cfg.allow_wildcard ?? false,
  };
}

async function loadCommon(name: string, cfg: CommonDomainConfig, baseDir: string, noTickets: boolean): Promise<LoadedCommon> {
  const file = (f: string) => resolve(baseDir, f);
  let certPem = cfg.cert ? readPemFile(name, file(cfg.cert), 'CERTIFICATE') : undefined;
  let keyPem = cfg.key ? readPemFile(name, file(cfg.key), 'PRIVATE KEY') : undefined;
  if (cfg.pkcs12) ({ certPem, keyPem } = readPkcs12File(name, file(cfg.pkcs12), cfg.password_file ? file(cfg.password_file) : undefined));
  let localSubject: NameInfo | undefined;
  if (certPem && keyPem) {
    const first = pemBlocks(certPem, 'CERTIFICATE')[0];
    const certFile = file(cfg.cert ?? cfg.pkcs12!);
    let leaf: NodeX509;
    try {
      leaf = new NodeX509(first);
      localSubject = certInfo(new Uint8Array(leaf.raw)).subject;
    } catch (e) {
      throw new TlsConfigError(name, certFile, `bad certificate: ${(e as Error).message}`);
    }
    try {
      if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the key does not belong to the certificate');
    } catch (e) {
      throw new TlsConfigError(name, file(cfg.key ?? cfg.pkcs12!), `bad private key: ${(e as Error).message}`);
    }
  }
  const caPems: string[] = [];
  for (const f of cfg.ca ?? []) {
    const text = readPemFile(name, file(f), 'CERTIFICATE');
    for (const block of pemBlocks(text, 'CERTIFICATE')) {
      try {
        new NodeX509(block);
      } catch (e) {
        throw new TlsConfigError(name, file(f), `bad CA certificate: ${(e as Error).message}`);
      }
      caPems.push(block);
    }
  }
  let trust: TrustStore;
  try {
    trust = TrustStore.fromPems(caPems);
  } catch (e) {
    throw new TlsConfigError(name, undefined, `bad CA certificate: ${(e as Error).message}`);
  }
  let crls: CrlIndex;
  try {
    crls = await CrlIndex.load((cfg.crl ?? []).map(file), caPems);
  } catch (e) {
    throw new TlsConfigError(name, undefined, (e as Error).message);
  }
  let cnMap: CnMap = new Map();
  if (cfg.cn_map) {
    try {
      cnMap = loadCnMap(file(cfg.cn_map));
    } catch (e) {
      throw new TlsConfigError(name, undefined, (e as Error).message);
    }
  }
  const events: TrustEventSink = { emit() {} };
  const crlStale = cfg.crl_stale ?? 'reject';
  const staleCrls = new StaleCrls(name, crlStale, events);
  const background: Background[] = [];
  const watch = new StaleCrlWatch(crls, staleCrls);
  let crlFetcher: CrlFetcher | undefined;
  if (cfg.crl_distribution_points?.fetch) {
    crlFetcher = new CrlFetcher(name, crls, trust.certs, cfg.crl_distribution_points, events, () => watch.check());
    background.push(crlFetcher);
  }
  if (crls.size > 0 || crlFetcher) background.push(watch);
  const minVersion = cfg.min_version ?? 'TLSv1.2';
  const contextOptions: tls.SecureContextOptions = {
    cert: certPem,
    key: keyPem,
    // An empty CA list must mean "trust nobody", not "trust Node's bundled roots".
    ca: caPems.length ? caPems : [],
    minVersion,
    ciphers: cfg.ciphers,
    // Fresh ticket keys per load: tickets issued before a reload cannot resume after it.
    ticketKeys: randomBytes(48),
    secureOptions: noTickets ? C.SSL_OP_NO_TICKET : 0,
    // X509_V_FLAG_PARTIAL_CHAIN in the handshake, as in the verifier
    ...(cfg.partial_chain ? { allowPartialTrustChain: true } : {}),
  };
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext(contextOptions);
  } catch (e) {
    throw new TlsConfigError(name, undefined, `cannot build TLS context: ${(e as Error).message}`);
  }
  return {
    name,
    verify: true,
    verifyDepth: cfg.verify_depth ?? 9,
    minVersion,
    ciphers: cfg.ciphers,
    handshakeTimeoutMs: cfg.handshake_timeout_ms ?? 5000,
    maxConnectionAgeS: cfg.max_connection_age_s ?? 0,
    context,
    contextOptions,
    crls,
    cnMap,
    trust,
    partialChain: cfg.partial_chain === true,
    onRevocation: cfg.on_revocation ?? 'close',
    background,
    events,
    crlStale,
    staleCrls,
    ...(crlFetcher ? { crlFetcher } : {}),
    ...(cfg.ocsp && (cfg.ocsp.responder || cfg.ocsp.stapling) ? { ocsp: new OcspChecker(cfg.ocsp) } : {}),
    localSubject,
  };
}

function readPemFile(domain: string, path: string, label: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TlsConfigError(domain, path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) throw new TlsConfigError(domain, path, `no PEM "${label}" block found`);
  if (!/-----END [A-Z ]*-----/.test(text)) throw new TlsConfigError(domain, path, 'truncated PEM (no END line)');
  return text;
}

let partialChainProbe: boolean | undefined;

/** Whether a tls.Server's context can be given partial chains (see server.ts allowPartialChains). */
function serverPartialChainSupported(): boolean {
  if (partialChainProbe === undefined) {
    const s = tls.createServer({}) as tls.Server & { _sharedCreds?: { context?: { setAllowPartialTrustChain?: unknown } } };
    partialChainProbe = typeof s._sharedCreds?.context?.setAllowPartialTrustChain === 'function';
  }
  return partialChainProbe;
}

/** A domain's key and certificate chain from a PKCS#12 file, as PEM. */
function readPkcs12File(domain: string, path: string, passwordFile: string | undefined): { certPem: string; keyPem: string } {
  let der: Buffer;
  try {
    der = readFileSync(path);
  } catch (e) {
    throw new TlsConfigError(domain, path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const p12 = readPkcs12(new Uint8Array(der), passwordFile ? readPasswordFile(passwordFile) : '');
    if (!p12.keyPem) throw new Pkcs12Error('holds no private key');
    return { certPem: p12.certs.map((c) => toPem(c, 'CERTIFICATE')).join(''), keyPem: p12.keyPem };
  } catch (e) {
    if (e instanceof Pkcs12Error) throw new TlsConfigError(domain, path, `PKCS#12: ${e.message}`);
    if (e instanceof PasswordFileError) throw new TlsConfigError(domain, undefined, e.message);
    throw e;
  }
}

export { pemBlocks };
