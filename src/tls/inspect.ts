// Offline identity document for a certificate file (`bastion cert inspect`): the document a
// connection presenting this certificate (and the intermediates in the same file) would produce.
// The chain goes through the same verifier a live connection uses (verify/chain.ts), with the same
// inputs a domain gives it: the CA list, CRLs, verify depth, partial chains, expected name, and the
// purpose the handshake checks (a client certificate as our server domain sees it, by default, or
// a server certificate as our client domain sees it), at the time given (default now).
import { identityFromChain, chainOf, markUnverified, type PeerIdentity } from './identity.js';
import { CrlIndex } from './crl.js';
import { pemBlocks } from './pem.js';
import type { CnMap } from './cnmap.js';
import { TrustStore } from './verify/store.js';
import { readTlv, TAG } from './der.js';

export interface InspectOptions {
  /** PEM text of trusted CA certificates. */
  caPem?: string;
  crlFiles?: string[];
  cnMap?: CnMap;
  verifyDepth?: number;
  /** A SIP domain (RFC 5922) or an IP address (matched against IP SANs). */
  expectedDomain?: string;
  allowWildcard?: boolean;
  /** CA-list certificates that are not self-signed are trust anchors too. */
  partialChain?: boolean;
  now?: Date;
  /** A DER OCSP response about the certificate, checked as a stapled one is (see ocsp.ts). */
  ocspResponse?: Uint8Array;
  /**
   * The role the certificate plays: 'client' (default: presented to our server domain), 'server'
   * (presented to our client domain), or 'any' (no purpose check).
   */
  purpose?: 'client' | 'server' | 'any';
}

export class InspectError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InspectError';
  }
}

/** The DER certificates of a PEM text (leaf first). Undecodable blocks are kept: the verifier says CERT_UNPARSEABLE. */
function pemDers(pem: string, what: string): Uint8Array[] {
  const blocks = pemBlocks(pem, 'CERTIFICATE');
  if (blocks.length === 0) throw new InspectError(`${what}: no "BEGIN CERTIFICATE" block found`);
  return blocks.map((b) => new Uint8Array(Buffer.from(b.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
}

/** The certificates of a certificate file: PEM, or PKCS#12 (with its password). */
export async function certificatesOf(content: Buffer, password?: string): Promise<Uint8Array[]> {
  const text = content.toString('latin1');
  if (text.includes('-----BEGIN')) return pemDers(text, 'certificate file');
  // Binary: a DER certificate (SEQUENCE { SEQUENCE tbs, ... }) or a PFX (SEQUENCE { INTEGER 3, ... }).
  const inner = derFirstChildTag(content);
  if (inner === TAG.SEQUENCE) return [new Uint8Array(content)];
  if (inner !== TAG.INTEGER) throw new InspectError('no "BEGIN CERTIFICATE" block found, and not a DER certificate or PKCS#12 file either');
  // node-forge is loaded for PKCS#12 files only
  const { readPkcs12, Pkcs12Error } = await import('./pkcs12.js');
  try {
    return readPkcs12(new Uint8Array(content), password ?? '').certs;
  } catch (e) {
    if (e instanceof Pkcs12Error) throw new InspectError(`PKCS#12: ${e.message}`);
    throw e;
  }
}

function derFirstChildTag(b: Buffer): number | undefined {
  try {
    const top = readTlv(b, 0);
    return top.tag === TAG.SEQUENCE ? readTlv(b, top.valueStart, top.end).tag : undefined;
  } catch {
    return undefined;
  }
}

export async function inspectCertificate(file: string | Buffer | Uint8Array[], opts: InspectOptions = {}): Promise<PeerIdentity> {
  const ders = Array.isArray(file) ? file : await certificatesOf(Buffer.isBuffer(file) ? file : Buffer.from(file, 'utf8'));
  const caPems = opts.caPem ? pemBlocks(opts.caPem, 'CERTIFICATE') : [];
  if (opts.caPem && caPems.length === 0) throw new InspectError('CA file: no "BEGIN CERTIFICATE" block found');
  let trust: TrustStore;
  try {
    trust = TrustStore.fromPems(caPems);
  } catch (e) {
    throw new InspectError(`CA file: a certificate cannot be parsed: ${(e as Error).message}`);
  }
  const crls = await CrlIndex.load(opts.crlFiles ?? [], caPems);
  const purpose = opts.purpose ?? 'client';
  // A certificate presented as a server is seen by one of our client domains.
  const role = purpose === 'server' ? 'client' : 'server';
  const doc = identityFromChain(
    ders,
    { name: 'inspect', role, verify: true, verifyDepth: opts.verifyDepth ?? 9, crls, cnMap: opts.cnMap ?? new Map(), allowWildcard: opts.allowWildcard, trust, partialChain: opts.partialChain },
    { expectedDomain: opts.expectedDomain, now: opts.now, purpose: purpose === 'any' ? 'any' : purpose === 'client' ? 'sslclient' : 'sslserver' },
    { local: { role, domain: 'inspect' }, remote: {} },
  );
  // As on a live connection: the OCSP answer counts for a chain that verified otherwise.
  const chain = chainOf(doc);
  if (opts.ocspResponse && doc.verified && chain) {
    const { checkOcspResponse } = await import('./ocsp.js');
    const verdict = chain.length >= 2 ? checkOcspResponse(opts.ocspResponse, chain[0], chain[1], opts.now).verdict : 'OCSP_VERIFY_FAILED';
    if (verdict) markUnverified(doc, verdict);
  }
  return doc;
}
