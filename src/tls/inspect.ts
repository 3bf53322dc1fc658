// Offline identity document for a certificate file (`bastion cert inspect`): the document a
// connection presenting this certificate (and the intermediates in the same file) would produce.
// The chain is verified here with node:crypto (signatures, validity, CA flag) against `--ca`, and
// for the purpose a live handshake checks (purpose.ts: a client certificate as our server domain
// sees it, by default, or a server certificate as our client domain sees it), using the same
// OpenSSL code names as a live connection.
import { X509Certificate as NodeX509 } from 'node:crypto';
import { identityFromChain, type PeerIdentity } from './identity.js';
import { CrlIndex } from './crl.js';
import { pemBlocks } from './domains.js';
import type { CnMap } from './cnmap.js';
import { certInfo } from './certinfo.js';
import { purposeError, type Purpose } from './purpose.js';

export interface InspectOptions {
  /** PEM text of trusted CA certificates. */
  caPem?: string;
  crlFiles?: string[];
  cnMap?: CnMap;
  verifyDepth?: number;
  expectedDomain?: string;
  allowWildcard?: boolean;
  now?: Date;
  /**
   * The role the certificate plays: 'client' (default: presented to our server domain), 'server'
   * (presented to our client domain), or 'any' (no purpose check).
   */
  purpose?: Purpose | 'any';
}

export class InspectError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InspectError';
  }
}

function parseAll(pem: string, what: string): NodeX509[] {
  const blocks = pemBlocks(pem, 'CERTIFICATE');
  if (blocks.length === 0) throw new InspectError(`${what}: no "BEGIN CERTIFICATE" block found`);
  return blocks.map((b, i) => {
    try {
      return new NodeX509(b);
    } catch (e) {
      throw new InspectError(`${what}: certificate #${i + 1} cannot be parsed: ${(e as Error).message}`);
    }
  });
}

export async function inspectCertificate(pem: string, opts: InspectOptions = {}): Promise<PeerIdentity> {
  const [leaf, ...extra] = parseAll(pem, 'certificate file');
  const anchors = opts.caPem ? parseAll(opts.caPem, 'CA file') : [];
  const now = opts.now ?? new Date();
  const chain: NodeX509[] = [leaf];
  let error: string | null = null;
  // Walk up: issuer from the file's extra certificates first, then the trust anchors.
  for (;;) {
    const cur = chain[chain.length - 1];
    const anchor = anchors.find((a) => a.raw.equals(cur.raw) || (cur.checkIssued(a) && cur.verify(a.publicKey)));
    if (anchor && !anchor.raw.equals(cur.raw)) chain.push(anchor);
    if (anchor) break;
    const next = extra.find((c) => !chain.includes(c) && cur.checkIssued(c) && cur.verify(c.publicKey));
    if (!next) {
      const selfSigned = cur.checkIssued(cur) && cur.verify(cur.publicKey);
      error = selfSigned ? (chain.length === 1 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN') : chain.length === 1 ? 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' : 'UNABLE_TO_GET_ISSUER_CERT';
      break;
    }
    chain.push(next);
    if (chain.length > 32) break;
  }
  if (error === null) {
    for (let i = 0; i < chain.length && error === null; i++) {
      const c = chain[i];
      if (new Date(c.validFrom) > now) error = 'CERT_NOT_YET_VALID';
      else if (new Date(c.validTo) < now) error = 'CERT_HAS_EXPIRED';
      else if (i > 0 && !c.ca) error = 'INVALID_CA';
    }
  }
  const purpose = opts.purpose ?? 'client';
  if (error === null && purpose !== 'any') {
    try {
      error = purposeError(chain.map((c) => certInfo(new Uint8Array(c.raw))), purpose);
    } catch {
      error = 'CERT_UNPARSEABLE';
    }
  }
  // A certificate presented as a server is seen by one of our client domains.
  const role = purpose === 'server' ? 'client' : 'server';
  const crls = await CrlIndex.load(opts.crlFiles ?? [], opts.caPem ? pemBlocks(opts.caPem, 'CERTIFICATE') : []);
  return identityFromChain(
    chain.map((c) => new Uint8Array(c.raw)),
    { name: 'inspect', role, verify: true, verifyDepth: opts.verifyDepth ?? 9, crls, cnMap: opts.cnMap ?? new Map(), allowWildcard: opts.allowWildcard },
    { authorizationError: error, expectedDomain: opts.expectedDomain, now },
    { local: { role, domain: 'inspect' }, remote: {} },
  );
}
