// Outbound TLS with a client domain chosen by name (the policy's `client_domain`) or destination,
// and RFC 5922 validation of the server against the expected SIP domain.
import * as tls from 'node:tls';
import { isIP } from 'node:net';
import { buildIdentity, chainOf, markUnverified, needsCrlFetch, withFetchedCrls, type PeerIdentity } from './identity.js';
import type { TlsContextRegistry } from './registry.js';
import type { ClientDomain } from './domains.js';
import { closeCleanly } from './close.js';

export interface ConnectTlsOptions {
  registry: TlsContextRegistry;
  host: string;
  port: number;
  /** Name of the client domain; by destination (then `default`) when absent. */
  clientDomain?: string;
  /**
   * SIP domain the server must prove (RFC 5922). Default: `host`, a name (RFC 5922) or an IP
   * address (matched against the certificate's IP SANs only, as OpenSSL's X509_check_ip).
   * `null`: no name check at all (only for callers that compare chain verdicts, e.g. tests).
   */
  expectedDomain?: string | null;
  /** SNI to send: a name, `false` for none; default: the expected domain (if the domain's `sni` is on). */
  sni?: string | false;
  /** Overrides the domain's handshake timeout. */
  timeoutMs?: number;
  /** A session to resume (tls.TLSSocket#getSession()). */
  session?: Buffer;
}

export class TlsVerifyError extends Error {
  readonly code: string;
  constructor(readonly identity: PeerIdentity) {
    super(`TLS server ${identity.remote.address}:${identity.remote.port} not verified: ${identity.verify_error}`);
    this.name = 'TlsVerifyError';
    this.code = identity.verify_error ?? 'UNKNOWN';
  }
}

export interface TlsConnection {
  socket: tls.TLSSocket;
  identity: PeerIdentity;
  domain: ClientDomain;
}

/**
 * Connects and resolves once the handshake is done and the server passed the domain's checks.
 * With `verify: false` the connection is returned even when unverified (identity.verified tells).
 */
export function connectTls(opts: ConnectTlsOptions): Promise<TlsConnection> {
  const domain = opts.registry.selectClientDomain({ name: opts.clientDomain, host: opts.host, port: opts.port });
  // An IP next hop without an expected domain still proves a name: its address, in an IP SAN.
  const expected = opts.expectedDomain === null ? undefined : (opts.expectedDomain ?? opts.host.replace(/^\[|\]$/g, ''));
  const sni = opts.sni === false || !domain.sni ? undefined : (opts.sni ?? expected);
  const timeoutMs = opts.timeoutMs ?? domain.handshakeTimeoutMs;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: opts.host,
      port: opts.port,
      secureContext: domain.context,
      minVersion: domain.minVersion,
      servername: sni && !isIP(sni) ? sni : undefined,
      rejectUnauthorized: false, // verdict below: chain + CRL + depth + RFC 5922
      checkServerIdentity: () => undefined,
      session: opts.session,
      // Passed on to the TLSSocket by tls.connect (missing from @types/node's ConnectionOptions).
      ...({ requestOCSP: domain.ocsp?.stapling === true } as tls.ConnectionOptions),
    });
    let staple: Buffer | undefined;
    socket.once('OCSPResponse', (r: Buffer) => (staple = r));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`TLS handshake with ${opts.host}:${opts.port} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    // Kept for the socket's lifetime: a late error must never become an uncaught exception.
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('secureConnect', async () => {
      clearTimeout(timer);
      let identity: PeerIdentity;
      try {
        identity = buildIdentity(socket, domain, { expectedDomain: expected });
      } catch (e) {
        socket.destroy();
        reject(e);
        return;
      }
      if (needsCrlFetch(identity, domain)) {
        identity = await withFetchedCrls(identity, domain).catch(() => identity);
        if (socket.destroyed) {
          reject(Object.assign(new Error(`TLS connection to ${opts.host}:${opts.port} closed while its CRLs were fetched`), { code: 'ECONNRESET' }));
          return;
        }
      }
      const chain = domain.ocsp && identity.verified ? chainOf(identity) : undefined;
      if (domain.ocsp && chain && chain.length >= 2) {
        // A stapled response answers; otherwise the responder (if configured); else `require` decides.
        let verdict = domain.ocsp.checkStaple(staple, chain[0], chain[1]);
        if (verdict === undefined) verdict = await domain.ocsp.query(chain[0], chain[1]);
        if (verdict) markUnverified(identity, verdict);
        if (socket.destroyed) {
          reject(Object.assign(new Error(`TLS connection to ${opts.host}:${opts.port} closed during the OCSP check`), { code: 'ECONNRESET' }));
          return;
        }
      }
      if (domain.verify && !identity.verified) {
        closeCleanly(socket); // close_notify: the server sees an orderly close, not a reset
        reject(new TlsVerifyError(identity));
        return;
      }
      opts.registry.track(socket);
      if (domain.maxConnectionAgeS > 0) {
        const t = setTimeout(() => socket.destroy(), domain.maxConnectionAgeS * 1000);
        t.unref();
        socket.once('close', () => clearTimeout(t));
      }
      resolve({ socket, identity, domain });
    });
  });
}
