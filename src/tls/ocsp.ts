// OCSP (RFC 6960) status of a peer certificate: a stapled response (client side, `requestOCSP`) or a
// query to the responder (the certificate's AIA URL or a configured one), with a cache. Responses
// are parsed with @peculiar/asn1-ocsp and their signatures checked with node:crypto: by the issuing
// CA itself, or by a responder certificate the CA issued for OCSPSigning.
//
// Verdicts are identity-document verify_error codes: null (good: the document then has no verify_error), CERT_REVOKED, OCSP_CERT_UNKNOWN,
// OCSP_VERIFY_FAILED (bad, stale, unsigned or unmatched response), OCSP_UNAVAILABLE (no answer and
// the domain requires one).
import * as http from 'node:http';
import { createHash, verify as nodeVerify, X509Certificate as NodeX509 } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate, AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { OCSPRequest, TBSRequest, Request, CertID, OCSPResponse, BasicOCSPResponse, OCSPResponseStatus, id_pkix_ocsp_basic } from '@peculiar/asn1-ocsp';
import { certInfo } from './certinfo.js';
import { signatureHash } from './sig-hash.js';

export type OcspVerdict = null | 'CERT_REVOKED' | 'OCSP_CERT_UNKNOWN' | 'OCSP_VERIFY_FAILED' | 'OCSP_UNAVAILABLE';

export interface OcspConfig {
  /** Query a responder: true = the URL in the certificate's AIA, a string = this URL instead. */
  responder?: boolean | string;
  /** Client domains: ask the server to staple its OCSP response (checked when present). */
  stapling?: boolean;
  /** No usable answer (no staple, responder down or silent) refuses the peer. Default false. */
  require?: boolean;
  timeout_ms?: number;
  /** How long an answer is reused (capped by its nextUpdate). Default 300. */
  cache_s?: number;
}

const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const HASH_BY_OID: Record<string, string> = { [OID_SHA1]: 'sha1', [OID_SHA256]: 'sha256' };
const SKEW_MS = 5 * 60_000;

/** The DER OCSPRequest for `leafDer` issued by `issuerDer` (SHA-1 CertID, as responders expect). */
export function ocspRequest(leafDer: Uint8Array, issuerDer: Uint8Array): Buffer {
  const req = new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId(leafDer, issuerDer, OID_SHA1) })] }) });
  return Buffer.from(AsnConvert.serialize(req));
}

function certId(leafDer: Uint8Array, issuerDer: Uint8Array, hashOid: string): CertID {
  const leaf = AsnConvert.parse(leafDer, Certificate).tbsCertificate;
  const issuer = AsnConvert.parse(issuerDer, Certificate).tbsCertificate;
  const hash = HASH_BY_OID[hashOid];
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: hashOid, parameters: null }),
    issuerNameHash: new OctetString(createHash(hash).update(Buffer.from(AsnConvert.serialize(issuer.subject))).digest()),
    issuerKeyHash: new OctetString(createHash(hash).update(Buffer.from(issuer.subjectPublicKeyInfo.subjectPublicKey)).digest()),
    serialNumber: leaf.serialNumber,
  });
}

const same = (a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView) => Buffer.from(a as ArrayBuffer).equals(Buffer.from(b as ArrayBuffer));

export interface CheckedResponse {
  verdict: OcspVerdict;
  /** Until when this answer may be reused (its nextUpdate; Infinity without one). */
  validUntil: number;
  /** Its thisUpdate (ms since the epoch; 0 when the response did not verify). */
  thisUpdate?: number;
}

/** Checks a DER OCSPResponse about `leafDer` (issued by `issuerDer`). Never throws. */
export function checkOcspResponse(respDer: Uint8Array, leafDer: Uint8Array, issuerDer: Uint8Array, now = new Date()): CheckedResponse {
  const fail: CheckedResponse = { verdict: 'OCSP_VERIFY_FAILED', validUntil: 0 };
  try {
    const resp = AsnConvert.parse(respDer, OCSPResponse);
    if (resp.responseStatus !== OCSPResponseStatus.successful || !resp.responseBytes) return fail;
    if (resp.responseBytes.responseType !== id_pkix_ocsp_basic) return fail;
    const basic = AsnConvert.parse(resp.responseBytes.response.buffer, BasicOCSPResponse);
    const tbs = basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData);
    if (!signedByIssuerOrDelegate(basic, Buffer.from(tbs), issuerDer, now)) return fail;
    for (const single of basic.tbsResponseData.responses) {
      const hashOid = single.certID.hashAlgorithm.algorithm;
      if (!HASH_BY_OID[hashOid]) continue;
      const want = certId(leafDer, issuerDer, hashOid);
      if (!same(single.certID.serialNumber, want.serialNumber) || !same(single.certID.issuerNameHash.buffer, want.issuerNameHash.buffer) || !same(single.certID.issuerKeyHash.buffer, want.issuerKeyHash.buffer)) continue;
      const t = now.getTime();
      if (single.thisUpdate.getTime() > t + SKEW_MS) return fail;
      if (single.nextUpdate && single.nextUpdate.getTime() < t - SKEW_MS) return fail;
      const validUntil = single.nextUpdate ? single.nextUpdate.getTime() : Number.POSITIVE_INFINITY;
      const thisUpdate = single.thisUpdate.getTime();
      if (single.certStatus.revoked) return { verdict: 'CERT_REVOKED', validUntil, thisUpdate };
      if (single.certStatus.good !== undefined) return { verdict: null, validUntil, thisUpdate };
      return { verdict: 'OCSP_CERT_UNKNOWN', validUntil, thisUpdate };
    }
    return fail; // no answer about this certificate
  } catch {
    return fail;
  }
}

function signedByIssuerOrDelegate(basic: BasicOCSPResponse, tbs: Buffer, issuerDer: Uint8Array, now: Date): boolean {
  const hash = signatureHash(basic.signatureAlgorithm.algorithm);
  if (hash === undefined) return false;
  const issuer = new NodeX509(Buffer.from(issuerDer));
  const sigOk = (cert: NodeX509) => {
    try {
      return nodeVerify(hash, tbs, cert.publicKey, Buffer.from(basic.signature));
    } catch {
      return false;
    }
  };
  if (sigOk(issuer)) return true;
  // A delegated responder: issued by the CA, for OCSPSigning, currently valid (RFC 6960 4.2.2.2).
  for (const c of basic.certs ?? []) {
    const der = new Uint8Array(AsnConvert.serialize(c));
    let cert: NodeX509;
    try {
      cert = new NodeX509(Buffer.from(der));
    } catch {
      continue;
    }
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) continue;
    if (!certInfo(der).ext_key_usage.includes('OCSPSigning')) continue;
    if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) continue;
    if (sigOk(cert)) return true;
  }
  return false;
}

/** Posts a DER request to an http:// responder; resolves the DER response or rejects. */
export function queryResponder(url: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== 'http:') {
      reject(new Error(`OCSP responder ${url}: only http:// is supported`));
      return;
    }
    const req = http.request(
      u,
      { method: 'POST', headers: { 'content-type': 'application/ocsp-request', 'content-length': request.length }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > 256 * 1024) req.destroy(new Error('OCSP response too large'));
          else chunks.push(d);
        });
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`OCSP responder ${url}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString("latin1").slice(0, 200)}`))));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`OCSP responder ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(request);
  });
}

interface Cached {
  verdict: OcspVerdict;
  until: number;
}

/** Per-domain OCSP checking: stapled responses and responder queries, answers cached. */
export class OcspChecker {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<OcspVerdict>>();
  readonly stapling: boolean;
  readonly require: boolean;
  private readonly timeoutMs: number;
  private readonly cacheMs: number;

  constructor(
    private readonly cfg: OcspConfig,
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.stapling = cfg.stapling === true;
    this.require = cfg.require === true;
    this.timeoutMs = cfg.timeout_ms ?? 3000;
    this.cacheMs = (cfg.cache_s ?? 300) * 1000;
  }

  /** A stapled response (sync). Undefined staple: no verdict from stapling. */
  checkStaple(staple: Buffer | undefined, leafDer: Uint8Array, issuerDer: Uint8Array, now = new Date()): OcspVerdict | undefined {
    if (!staple || staple.length === 0) return undefined;
    return checkOcspResponse(staple, leafDer, issuerDer, now).verdict;
  }

  /** Responder URL for this certificate, if any. */
  responderFor(leafDer: Uint8Array): string | undefined {
    if (typeof this.cfg.responder === 'string') return this.cfg.responder;
    if (this.cfg.responder === true) return certInfo(leafDer).ocsp_urls?.find((u) => u.startsWith('http://'));
    return undefined;
  }

  /**
   * Status from the responder (cached). No responder known: null unless `require`. Responder
   * unreachable: OCSP_UNAVAILABLE when `require`, else null (soft fail, logged).
   */
  async query(leafDer: Uint8Array, issuerDer: Uint8Array): Promise<OcspVerdict> {
    const url = this.responderFor(leafDer);
    if (!url) return this.require ? 'OCSP_UNAVAILABLE' : null;
    const key = `${certInfo(issuerDer).fingerprint.sha256}/${certInfo(leafDer).serial}@${url}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.verdict;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = (async (): Promise<OcspVerdict> => {
      try {
        const der = await queryResponder(url, ocspRequest(leafDer, issuerDer), this.timeoutMs);
        const checked = checkOcspResponse(der, leafDer, issuerDer);
        if (checked.verdict === 'OCSP_VERIFY_FAILED') this.onError(`OCSP responder ${url}: response does not verify`);
        else {
          if (this.cache.size > 10_000) this.cache.clear();
          this.cache.set(key, { verdict: checked.verdict, until: Math.min(checked.validUntil, Date.now() + this.cacheMs) });
        }
        return checked.verdict;
      } catch (e) {
        this.onError((e as Error).message);
        return this.require ? 'OCSP_UNAVAILABLE' : null;
      } finally {
        this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, p);
    return p;
  }
}
