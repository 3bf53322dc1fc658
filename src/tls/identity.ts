// The peer-identity document: built once per connection right after the handshake, then attached
// to every message from that connection. Shape: schemas/identity.schema.json.
//
// Verification: the shared verifier (verify/chain.ts), which reaches OpenSSL's verdicts step for
// step, run on the certificates the peer presented with the domain's CA list, CRLs, verify depth,
// partial-chain setting and (client side) expected name; `bastion cert inspect` runs the same
// code, so offline and live documents agree. The handshake's own verdict is kept as a floor: a
// chain OpenSSL refused is never verified.
import type { TLSSocket, DetailedPeerCertificate } from 'node:tls';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { certInfo, summarize, CertParseError, type CertInfo, type CertSummary, type NameInfo, type SanInfo, type Fingerprints, type KeyInfo } from './certinfo.js';
import { matchSipDomain } from './rfc5922.js';
import type { CnMap } from './cnmap.js';
import type { CrlIndex, CrlModel } from './crl.js';
import { readTlv, TAG } from './der.js';
import { verifyChain, x509CheckIssued, type VerifyResult } from './verify/chain.js';
import { parseCertificate, CertModelError, GEN, type CertModel } from './verify/model.js';
import type { TrustStore } from './verify/store.js';
import type { Purpose } from './verify/purpose.js';

export interface PeerIdentity {
  presented: boolean;
  verified: boolean;
  /**
   * OpenSSL verify code name (e.g. CERT_HAS_EXPIRED), CERT_REVOKED, NO_PEER_CERTIFICATE, ...;
   * absent when verified (`not input.identity.verify_error` holds then).
   */
  verify_error?: string;
  subject?: NameInfo;
  issuer?: NameInfo;
  san?: SanInfo;
  serial?: string;
  not_before?: string;
  not_after?: string;
  fingerprint?: Fingerprints;
  key?: KeyInfo;
  key_usage?: string[];
  ext_key_usage?: string[];
  /** Peer first, trust anchor last (as far as it could be built). */
  chain?: CertSummary[];
  mapped_identities: string[];
  tls?: { version: string; cipher: string; sni?: string; resumed: boolean };
  local: { role: 'server' | 'client'; domain: string; subject?: NameInfo; address?: string; port?: number };
  remote: { address?: string; port?: number };
  /** Client side only: the SIP domain the server was validated against (RFC 5922). */
  expected_domain?: string;
}

/** What buildIdentity needs to know about the domain (a ServerDomain or ClientDomain fits). */
export interface IdentityDomain {
  name: string;
  role: 'server' | 'client';
  verify: boolean;
  /** Maximum number of intermediate CAs (OpenSSL's verify depth). */
  verifyDepth: number;
  crls: CrlIndex;
  cnMap: CnMap;
  localSubject?: NameInfo;
  allowWildcard?: boolean;
  /** The domain's CA list. */
  trust: TrustStore;
  /** CA-list certificates that are not self-signed are trust anchors too. */
  partialChain?: boolean;
  /** A CRL past its nextUpdate: reject (default: CRL_HAS_EXPIRED) or accept_with_warning. */
  crlStale?: 'reject' | 'accept_with_warning';
  /** Told of each stale CRL a verification meets. */
  staleCrls?: { report(crl: CrlModel): void };
  /** CRLs from distribution points (crl-fetch.ts). */
  crlFetcher?: { needs(chain: CertModel[]): boolean; ensure(chain: CertModel[]): Promise<boolean> };
}

export interface IdentityOptions {
  /** The name the peer must prove: a SIP domain (RFC 5922), or an IP address (its IP SANs). */
  expectedDomain?: string;
  now?: Date;
  /** Key usage / EKU check; default: what the handshake checks for the domain's role. */
  purpose?: Purpose | 'any';
}

/** The certificates a peer presented: its own, then the others it sent (or a function returning them). */
export interface PresentedChain {
  leaf: Uint8Array;
  others: Uint8Array[] | (() => Uint8Array[]);
}

interface Recorded {
  /** The verified chain (peer first), for OCSP. */
  chain: Uint8Array[];
  /** What the peer presented, for re-verification. */
  presented: PresentedChain;
  /** OpenSSL refused in the handshake a chain the verifier accepted (the document says so). */
  openssl?: string;
}

const recorded = new WeakMap<PeerIdentity, Recorded>();

/** DER of the certificates the document describes, peer first (undefined when none). */
export function chainOf(identity: PeerIdentity): Uint8Array[] | undefined {
  return recorded.get(identity)?.chain;
}

/** The certificates the peer presented (leaf first), for verifying the connection again. */
export function presentedOf(identity: PeerIdentity): Uint8Array[] | undefined {
  const p = recorded.get(identity)?.presented;
  if (!p) return undefined;
  return [p.leaf, ...(typeof p.others === 'function' ? p.others() : p.others)];
}

/** OpenSSL's code when the handshake refused a chain our verifier accepted (then the document is unverified). */
export function opensslOverride(identity: PeerIdentity): string | undefined {
  return recorded.get(identity)?.openssl;
}

/** Marks a document unverified with `error` (e.g. an OCSP verdict arrived after it was built). */
export function markUnverified(identity: PeerIdentity, error: string): void {
  identity.verified = false;
  identity.verify_error = error;
}

/** Builds the identity document of the peer of an established TLS connection. */
export function buildIdentity(socket: TLSSocket, domain: IdentityDomain, opts: IdentityOptions = {}): PeerIdentity {
  const cipher = socket.getCipher();
  const sni = (socket as TLSSocket & { servername?: string | false }).servername;
  const base = {
    tls: {
      version: socket.getProtocol() ?? 'unknown',
      cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
      ...(typeof sni === 'string' && sni ? { sni } : {}),
      resumed: socket.isSessionReused(),
    },
    local: {
      role: domain.role,
      domain: domain.name,
      ...(domain.localSubject ? { subject: domain.localSubject } : {}),
      ...(socket.localAddress ? { address: socket.localAddress, port: socket.localPort } : {}),
    },
    remote: socket.remoteAddress ? { address: socket.remoteAddress, port: socket.remotePort } : {},
  };
  const leaf = peerLeaf(socket);
  if (!leaf) return identityFromPresented(undefined, domain, opts, base);
  // The peer's other certificates cost a getPeerCertificate(true) (X509_dup of each): only
  // fetched when the CA list alone cannot extend the chain. A resumed session has no peer chain
  // (OpenSSL keeps the peer's certificate only): the one its full handshake presented is used.
  let others: Uint8Array[] | undefined;
  const resumed = socket.isSessionReused();
  const presented: PresentedChain = {
    leaf,
    others: () => {
      if (others) return others;
      const key = leafKey(leaf);
      others = resumed ? presentedCache.get(key) : undefined;
      if (!others) {
        others = peerChainDers(socket.getPeerCertificate(true) as DetailedPeerCertificate).slice(1);
        if (!resumed) remember(key, others);
      }
      return others;
    },
  };
  const doc = identityFromPresented(presented, domain, opts, base);
  const code = socket.authorized ? undefined : String(socket.authorizationError ?? 'UNSPECIFIED');
  // Fail closed: never more trusting than OpenSSL in the handshake (the differential tests keep
  // this from happening). Node's own ERR_TLS_* codes (its host name check) are not chain verdicts.
  if (doc.verified && code !== undefined && !code.startsWith('ERR_')) {
    markUnverified(doc, code);
    const r = recorded.get(doc);
    if (r) r.openssl = code;
  }
  return doc;
}

// The intermediates each peer certificate came with in its last full handshake, for resumptions.
const presentedCache = new Map<string, Uint8Array[]>();
const PRESENTED_MAX = 4096;

function leafKey(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64');
}

function remember(key: string, others: Uint8Array[]): void {
  presentedCache.delete(key);
  if (presentedCache.size >= PRESENTED_MAX) presentedCache.delete(presentedCache.keys().next().value as string);
  presentedCache.set(key, others.map((d) => new Uint8Array(d)));
}

/** The peer certificate's DER: from the serialized session when possible, else getPeerCertificate(false). */
function peerLeaf(socket: TLSSocket): Uint8Array | undefined {
  const der = peerFromSession(socket);
  if (der) return der;
  const leaf = socket.getPeerCertificate(false) as { raw?: Buffer };
  return leaf?.raw ? new Uint8Array(leaf.raw.buffer, leaf.raw.byteOffset, leaf.raw.byteLength) : undefined;
}

/**
 * The same document from certificates alone (peer first, then the others it presented), e.g. for
 * `bastion cert inspect`: verified against the domain's CA list and CRLs.
 */
export function identityFromChain(
  ders: Uint8Array[],
  domain: IdentityDomain,
  opts: IdentityOptions,
  base: Pick<PeerIdentity, 'local' | 'remote'> & Partial<Pick<PeerIdentity, 'tls'>>,
): PeerIdentity {
  return identityFromPresented(ders.length ? { leaf: ders[0], others: ders.slice(1) } : undefined, domain, opts, base);
}

/** Verifies a presented chain against a domain's trust state (the verdict only). */
export function verifyPresented(presented: PresentedChain, domain: IdentityDomain, opts: IdentityOptions = {}): VerifyResult {
  const leaf = parseCertificate(presented.leaf);
  const purpose = opts.purpose ?? (domain.role === 'server' ? 'sslclient' : 'sslserver');
  const expected = opts.expectedDomain;
  return verifyChain(leaf, {
    trust: domain.trust,
    untrusted: () => asNodeLinks(leaf, (typeof presented.others === 'function' ? presented.others() : presented.others).map((d) => parseCertificate(d)), domain.trust),
    crls: domain.crls,
    at: opts.now,
    purpose,
    depth: domain.verifyDepth,
    partialChain: domain.partialChain === true,
    checkName: expected === undefined ? undefined : (m) => nameError(m, expected, domain.allowWildcard === true),
    crlStale: domain.crlStale === 'accept_with_warning' ? 'accept' : 'reject',
    onStaleCrl: domain.staleCrls && ((crl) => domain.staleCrls!.report(crl)),
  });
}

/**
 * The peer's other certificates as a live connection can know them: Node 20 hands over only the
 * ones it links into an issuer chain (getPeerCertificate(true): from the peer certificate up, the
 * first certificate X509_check_issued accepts, which includes keyCertSign in the issuer's key
 * usage), and adds certificates of the CA list after them. The same selection is applied to the
 * certificates of a file offline, so both paths verify the same input; CA-list certificates are
 * left to the trust store. (Where this hides a certificate OpenSSL would have used, the verdict
 * can only be stricter than OpenSSL's: see the README's known limits.)
 */
function asNodeLinks(leaf: CertModel, others: CertModel[], trust: TrustStore): CertModel[] {
  const pool = [...others];
  const out: CertModel[] = [];
  for (let cur = leaf; ; ) {
    const i = pool.findIndex((ca) => ca.sha256 !== cur.sha256 && x509CheckIssued(ca, cur));
    if (i < 0) break;
    cur = pool.splice(i, 1)[0];
    out.push(cur);
  }
  return out.filter((c) => !trust.withSubject(c.subject.canon).some((t) => t.sha256 === c.sha256));
}

/** The expected-name check: IP SANs for an IP address (X509_check_ip), RFC 5922 for a SIP domain. */
function nameError(leaf: CertModel, expected: string, allowWildcard: boolean): string | null {
  const ip = ipBytes(expected);
  if (ip) {
    const ok = (leaf.altnames ?? []).some((g) => g.type === GEN.IPADD && Buffer.compare(Buffer.from(g.bytes), ip) === 0);
    return ok ? null : 'IP_ADDRESS_MISMATCH';
  }
  return matchSipDomain(certInfo(leaf.der), expected, { allowWildcard }).matched ? null : 'HOSTNAME_MISMATCH';
}

function identityFromPresented(
  presented: PresentedChain | undefined,
  domain: IdentityDomain,
  opts: IdentityOptions,
  base: Pick<PeerIdentity, 'local' | 'remote'> & Partial<Pick<PeerIdentity, 'tls'>>,
): PeerIdentity {
  if (!presented) {
    return { presented: false, verified: false, verify_error: 'NO_PEER_CERTIFICATE', mapped_identities: [], ...base };
  }
  let leaf: CertInfo;
  let result: VerifyResult;
  try {
    leaf = certInfo(presented.leaf);
    result = verifyPresented(presented, domain, opts);
  } catch (e) {
    if (!(e instanceof CertParseError || e instanceof CertModelError)) throw e;
    // Bytes the handshake let through (or a file holds) that we cannot read: say so, never trust them.
    return unparseable(presented.leaf, opts, base);
  }
  const chain = result.chain.map((c) => c.der);
  const doc = identityFromParsed(leaf, result.chain.map((c) => certInfo(c.der)), result.error, domain, opts, base);
  recorded.set(doc, { chain, presented });
  return doc;
}

function unparseable(der: Uint8Array, opts: IdentityOptions, base: Pick<PeerIdentity, 'local' | 'remote'> & Partial<Pick<PeerIdentity, 'tls'>>): PeerIdentity {
  const doc: PeerIdentity = {
    presented: true,
    verified: false,
    verify_error: 'CERT_UNPARSEABLE',
    fingerprint: { sha1: createHash('sha1').update(der).digest('hex'), sha256: createHash('sha256').update(der).digest('hex') },
    mapped_identities: [],
    ...base,
  };
  if (opts.expectedDomain !== undefined) doc.expected_domain = opts.expectedDomain;
  return doc;
}

function identityFromParsed(
  leaf: CertInfo,
  infos: CertInfo[],
  error: string | null,
  domain: IdentityDomain,
  opts: IdentityOptions,
  base: Pick<PeerIdentity, 'local' | 'remote'> & Partial<Pick<PeerIdentity, 'tls'>>,
): PeerIdentity {
  const cn = leaf.subject.cn;
  const doc: PeerIdentity = {
    presented: true,
    verified: error === null,
    ...(error !== null ? { verify_error: error } : {}),
    subject: leaf.subject,
    issuer: leaf.issuer,
    san: leaf.san,
    serial: leaf.serial,
    not_before: leaf.not_before,
    not_after: leaf.not_after,
    fingerprint: leaf.fingerprint,
    key: leaf.key,
    key_usage: leaf.key_usage,
    ext_key_usage: leaf.ext_key_usage,
    chain: infos.map(summarize),
    mapped_identities: cn !== undefined ? [...(domain.cnMap.get(cn) ?? [])] : [],
    ...base,
  };
  if (opts.expectedDomain !== undefined) doc.expected_domain = opts.expectedDomain;
  return doc;
}

/**
 * Verifies an open connection's peer again against a (new) trust state: the domain's current CA
 * list and CRLs, at `now`. Returns a new document (connection fields kept) or undefined when the
 * document was not built from a certificate.
 */
export function reverifyIdentity(identity: PeerIdentity, domain: IdentityDomain, opts: IdentityOptions = {}): PeerIdentity | undefined {
  const r = recorded.get(identity);
  if (!r) return undefined;
  const base = { local: identity.local, remote: identity.remote, ...(identity.tls ? { tls: identity.tls } : {}) };
  return identityFromPresented(r.presented, domain, { expectedDomain: identity.expected_domain, ...opts }, base);
}

/** Whether a verified document's chain names CRL distribution points the domain never fetched. */
export function needsCrlFetch(identity: PeerIdentity, domain: IdentityDomain): boolean {
  const ders = domain.crlFetcher && identity.verified ? chainOf(identity) : undefined;
  return ders !== undefined && domain.crlFetcher!.needs(ders.map((d) => parseCertificate(d)));
}

/**
 * Fetches the CRLs of the distribution points a verified document's chain names (those never
 * fetched), then verifies the peer again when that added a CRL. Returns the document to use.
 */
export async function withFetchedCrls(identity: PeerIdentity, domain: IdentityDomain): Promise<PeerIdentity> {
  const ders = domain.crlFetcher && identity.verified ? chainOf(identity) : undefined;
  if (!ders) return identity;
  const changed = await domain.crlFetcher!.ensure(ders.map((d) => parseCertificate(d)));
  return changed ? (reverifyIdentity(identity, domain) ?? identity) : identity;
}

/** IPv4 / IPv6 text as octets (undefined when `s` is not an IP address). */
export function ipBytes(s: string): Buffer | undefined {
  const text = s.replace(/^\[|\]$/g, '');
  const kind = isIP(text);
  if (kind === 4) return Buffer.from(text.split('.').map(Number));
  if (kind !== 6) return undefined;
  let head = text;
  let v4: number[] = [];
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (m) {
    head = m[1].endsWith('::') ? m[1] : m[1].slice(0, -1);
    v4 = m[2].split('.').map(Number);
  }
  const [l, r] = head.split('::');
  const groups = (x: string | undefined) => (x ? x.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(l);
  const right = r === undefined ? [] : groups(r);
  const total = 8 - v4.length / 2;
  const mid = r === undefined ? [] : new Array(total - left.length - right.length).fill(0);
  const all = [...left, ...mid, ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  v4.forEach((b, i) => (out[12 + i] = b));
  return out;
}

/**
 * The peer certificate's DER from the serialized SSL_SESSION (OpenSSL's SSL_SESSION_ASN1: the peer
 * is the [3] EXPLICIT field), i.e. the same X509 that getPeerCertificate(false) converts, for a
 * quarter of its cost: Node's X509ToObject exports the public key (an OpenSSL 3.0 legacy-key
 * conversion) and hashes three fingerprints on the first call. The session also holds the master
 * secret: the buffer is wiped at once. Undefined when there is no session or no peer in it.
 */
function peerFromSession(socket: TLSSocket): Uint8Array | undefined {
  const sess = socket.getSession();
  if (!sess) return undefined;
  try {
    const top = readTlv(sess, 0);
    if (top.tag !== TAG.SEQUENCE) return undefined;
    for (let p = top.valueStart; p < top.end; ) {
      const t = readTlv(sess, p, top.end);
      if (t.tag === 0xa3) {
        const cert = readTlv(sess, t.valueStart, t.end);
        return cert.tag === TAG.SEQUENCE ? new Uint8Array(sess.subarray(cert.start, cert.end)) : undefined; // a copy
      }
      p = t.end;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    sess.fill(0);
  }
}

/** DER of the peer chain as Node reports it: peer first, following issuerCertificate links. */
function peerChainDers(peer: DetailedPeerCertificate | Record<string, never>): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cur = peer as DetailedPeerCertificate | undefined;
  const seen = new Set<DetailedPeerCertificate>();
  while (cur && cur.raw && !seen.has(cur) && out.length < 32) {
    seen.add(cur);
    out.push(new Uint8Array(cur.raw.buffer, cur.raw.byteOffset, cur.raw.byteLength));
    if (cur.issuerCertificate === cur) break;
    cur = cur.issuerCertificate;
  }
  return out;
}
