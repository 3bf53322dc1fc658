// The peer-identity document: built once per connection right after the handshake, then attached
// to every message from that connection. Shape: schemas/identity.schema.json.
//
// Verification is OpenSSL's (chain, validity, purpose, via rejectUnauthorized:false so we can decide
// ourselves) plus ours: verify depth, CRLs per CA, and (client side) RFC 5922 domain validation.
import type { TLSSocket, DetailedPeerCertificate } from 'node:tls';
import { certInfo, summarize, type CertInfo, type CertSummary, type NameInfo, type SanInfo, type Fingerprints, type KeyInfo } from './certinfo.js';
import { matchSipDomain } from './rfc5922.js';
import type { CnMap } from './cnmap.js';
import type { CrlIndex } from './crl.js';
import type { AnchorIndex } from './anchors.js';
import { readTlv, TAG } from './der.js';

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
  verifyDepth: number;
  crls: CrlIndex;
  cnMap: CnMap;
  localSubject?: NameInfo;
  allowWildcard?: boolean;
  /** The domain's CA list; lets the chain be completed without getPeerCertificate(true). */
  anchors?: AnchorIndex;
}

export interface IdentityOptions {
  /** Client side: the SIP domain the server must prove (RFC 5922). */
  expectedDomain?: string;
  now?: Date;
}

// The chain each document was built from (peer first), for later checks such as OCSP.
const chains = new WeakMap<PeerIdentity, Uint8Array[]>();

/** DER of the certificates the document describes, peer first (undefined when none). */
export function chainOf(identity: PeerIdentity): Uint8Array[] | undefined {
  return chains.get(identity);
}

/** Marks a document unverified with `error` (e.g. an OCSP verdict arrived after it was built). */
export function markUnverified(identity: PeerIdentity, error: string): void {
  identity.verified = false;
  identity.verify_error = error;
}

/** Builds the identity document of the peer of an established TLS connection. */
export function buildIdentity(socket: TLSSocket, domain: IdentityDomain, opts: IdentityOptions = {}): PeerIdentity {
  const chain = peerChain(socket, domain);
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
  const authorizationError = socket.authorized ? null : String(socket.authorizationError ?? 'UNKNOWN');
  const doc =
    chain.infos === null
      ? identityFromChain(chain.ders, domain, { ...opts, authorizationError }, base)
      : identityFromParsed(chain.ders, chain.infos, domain, { ...opts, authorizationError }, base);
  if (chain.ders.length) chains.set(doc, chain.ders);
  return doc;
}

/**
 * The peer's chain, peer first, as far as it goes towards a trust anchor. Cheap path: the leaf alone
 * (getPeerCertificate(false), no re-parse of the chain) completed from the domain's CA list, which is
 * the chain OpenSSL verified whenever the leaf's issuer is one of our CAs. Otherwise Node's full
 * getPeerCertificate(true), which carries the intermediates the peer sent.
 * (getPeerX509Certificate() would be cheaper still but is destructive in Node 20: it removes the
 * certificates from the SSL's peer chain, leaking them, so it is never used.)
 */
function peerChain(socket: TLSSocket, domain: IdentityDomain): { ders: Uint8Array[]; infos: CertInfo[] | null } {
  if (domain.anchors && domain.anchors.size > 0) {
    let der = peerFromSession(socket);
    if (!der) {
      const leaf = socket.getPeerCertificate(false) as { raw?: Buffer };
      if (!leaf?.raw) return { ders: [], infos: null };
      der = new Uint8Array(leaf.raw.buffer, leaf.raw.byteOffset, leaf.raw.byteLength);
    }
    let info: CertInfo | undefined;
    try {
      info = certInfo(der);
    } catch {
      return { ders: [der], infos: null }; // identityFromChain reports CERT_UNPARSEABLE
    }
    const done = domain.anchors.complete(der, info);
    if (done) return done;
  }
  return { ders: peerChainDers(socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>), infos: null };
}

/**
 * The same document from certificates alone (peer first), e.g. for `bastion cert inspect`.
 * `authorizationError` is OpenSSL's chain verdict (null: chain verified).
 */
export function identityFromChain(
  ders: Uint8Array[],
  domain: IdentityDomain,
  opts: IdentityOptions & { authorizationError: string | null },
  base: Pick<PeerIdentity, 'local' | 'remote'> & Partial<Pick<PeerIdentity, 'tls'>>,
): PeerIdentity {
  if (ders.length === 0) {
    return { presented: false, verified: false, verify_error: 'NO_PEER_CERTIFICATE', mapped_identities: [], ...base };
  }
  let infos: CertInfo[];
  try {
    infos = ders.map((d) => certInfo(d));
  } catch {
    // OpenSSL accepted bytes our parser refuses: say so, never trust it.
    return { presented: true, verified: false, verify_error: 'CERT_UNPARSEABLE', mapped_identities: [], ...base };
  }
  return identityFromParsed(ders, infos, domain, opts, base);
}

function identityFromParsed(
  ders: Uint8Array[],
  infos: CertInfo[],
  domain: IdentityDomain,
  opts: IdentityOptions & { authorizationError: string | null },
  base: Pick<PeerIdentity, 'local' | 'remote'> & Partial<Pick<PeerIdentity, 'tls'>>,
): PeerIdentity {
  const leaf = infos[0];
  let error = opts.authorizationError ?? ourChecks(infos, ders, domain, opts);
  // Node maps some OpenSSL codes to UNSPECIFIED; name the one we can recognise ourselves.
  if (error === 'UNSPECIFIED' && infos.some((i) => i.unhandled_critical)) error = 'UNHANDLED_CRITICAL_EXTENSION';
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

/** Checks OpenSSL does not do for us (it already verified the chain when we get here). */
function ourChecks(infos: CertInfo[], ders: Uint8Array[], domain: IdentityDomain, opts: IdentityOptions): string | null {
  // Intermediates = certificates strictly between the peer and the (self-issued) trust anchor.
  const anchorIsRoot = infos.length > 1 && infos[infos.length - 1].self_issued;
  const intermediates = Math.max(0, infos.length - 1 - (anchorIsRoot ? 1 : 0));
  if (intermediates > domain.verifyDepth) return 'CERT_CHAIN_TOO_LONG';
  const now = opts.now ?? new Date();
  for (let i = 0; i + 1 < infos.length; i++) {
    const verdict = domain.crls.check(infos[i], ders[i + 1], infos[i + 1].fingerprint.sha256, now);
    if (verdict) return verdict;
  }
  if (opts.expectedDomain !== undefined) {
    const m = matchSipDomain(infos[0], opts.expectedDomain, { allowWildcard: domain.allowWildcard === true });
    if (!m.matched) return 'HOSTNAME_MISMATCH';
  }
  return null;
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
