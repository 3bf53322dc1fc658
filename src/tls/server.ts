// Inbound TLS: one listening socket per `listen` entry, its default server domain fixed by the
// socket (`listen: {server_domain: ...}`), another domain chosen by SNI. After the handshake the
// identity document is built once; `require` refuses a peer without a valid certificate, otherwise
// the connection is handed to `onConnection` with its identity, verified or not.
//
// SNI dispatch happens before TLS starts: the listener reads the ClientHello (clienthello.ts), picks
// the domain, and injects the connection into a non-listening tls.Server built from that domain's
// context alone. Node's SNICallback is not used because Node applies an SNI context by adding its
// certificate and key to the connection's SSL (SSL_use_certificate) instead of replacing the SSL_CTX:
// the default domain's certificate stays installed next to it, and OpenSSL, free to choose, sends
// the default certificate whenever its key type suits the client better (RSA SNI domain on an ECDSA
// listener under TLS 1.3, the reverse under TLS 1.2). The SNI domain's minimum version, ciphers,
// session-ticket keys and sigalgs were not applied either: a ticket issued under one domain
// resumed under another. With one tls.Server per domain, every connection runs on exactly its
// domain's SSL_CTX.
//
// Refusals (`require: true`): a peer that sends no certificate is refused by OpenSSL itself, with a
// TLS alert (certificate_required in TLS 1.3, handshake_failure in TLS 1.2). Every other refusal
// (unknown CA, expired, revoked, too deep...) is decided after the handshake, because Node's
// verify callback accepts every chain and leaves the verdict to JavaScript, and there is no API to
// send an alert of our choosing: the connection is then closed cleanly (close_notify, then FIN)
// with a log line naming the reason.
import * as tls from 'node:tls';
import type * as net from 'node:net';
import type { Logger } from 'pino';
import { buildIdentity, chainOf, markUnverified, needsCrlFetch, withFetchedCrls, type PeerIdentity } from './identity.js';
import type { TlsContextRegistry } from './registry.js';
import type { ServerDomain } from './domains.js';
import { peekClientHello } from './clienthello.js';
import { closeCleanly } from './close.js';

export interface TlsServerOptions {
  registry: TlsContextRegistry;
  /** Server domain of this listening socket (used without SNI or with an unknown SNI name). */
  domain: string;
  onConnection: (socket: tls.TLSSocket, identity: PeerIdentity, domain: ServerDomain) => void;
  /** Called for each accepted TCP connection before any TLS: false refuses it (the callee destroys it). */
  admit?: (socket: net.Socket) => boolean;
  /** Called for each refused connection (after the handshake), e.g. for a decision log. */
  onRefused?: (identity: PeerIdentity, domain: ServerDomain) => void;
  /** Called for each failed handshake (garbage, timeout, no shared cipher, bad certificate alert...). */
  onHandshakeError?: (err: NodeJS.ErrnoException) => void;
  logger?: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
}

const DOMAIN = Symbol('bastion.serverDomain');
type Tagged = tls.TLSSocket & { [DOMAIN]?: ServerDomain };

const silent = { info() {}, warn() {}, error() {}, debug() {} };

export function createTlsServer(opts: TlsServerOptions): tls.Server {
  const { registry } = opts;
  const log = opts.logger ?? silent;
  const initial = registry.serverDomain(opts.domain);

  // The listening server. Its own TLS machinery is not used (its connection listener is replaced
  // by the dispatcher below); it is a tls.Server so callers keep the tls.Server API and events.
  const server = tls.createServer(serverOptions(initial));
  server.removeAllListeners('connection');

  // One injected-into tls.Server per domain, rebuilt after a reload (new contexts, new ticket keys).
  let perDomain = new Map<ServerDomain, tls.Server>();
  const refresh = () => {
    perDomain = new Map();
  };
  registry.on('reload', refresh);
  server.on('close', () => registry.off('reload', refresh));

  const domainServer = (domain: ServerDomain): tls.Server => {
    let s = perDomain.get(domain);
    if (!s) {
      s = tls.createServer(serverOptions(domain));
      if (domain.partialChain) allowPartialChains(s);
      const stapler = domain.stapler;
      if (stapler) {
        // our certificate's OCSP response for clients that ask (status_request); none in date: no staple
        s.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer | null, done: (err: Error | null, response?: Buffer | null) => void) => {
          stapler.current().then(
            (r) => done(null, r),
            () => done(null, null),
          );
        });
      }
      if (failsWithoutCertificate(domain)) {
        // rejectUnauthorized gives OpenSSL SSL_VERIFY_FAIL_IF_NO_PEER_CERT (the alert above), but
        // Node would also silently destroy every other unverified peer before we see it. The
        // keylog event is the one server event that carries the socket before the handshake ends:
        // there, hand the verdict back to us. (If a Node version lacks this property, Node keeps
        // destroying unverified peers itself: still closed, only without our log line.)
        s.on('keylog', (_line: Buffer, socket: tls.TLSSocket & { _rejectUnauthorized?: boolean }) => {
          if (socket._rejectUnauthorized === true) socket._rejectUnauthorized = false;
        });
      }
      s.on('secureConnection', (socket: Tagged) => {
        socket[DOMAIN] = domain;
        server.emit('secureConnection', socket);
      });
      s.on('tlsClientError', (err: Error, socket: Tagged) => {
        socket[DOMAIN] = domain;
        server.emit('tlsClientError', err, socket);
      });
      perDomain.set(domain, s);
    }
    return s;
  };

  server.on('connection', (raw: net.Socket) => {
    if (opts.admit && !opts.admit(raw)) return;
    const listenerDomain = safeDomain(registry, opts.domain) ?? initial;
    readClientHello(raw, listenerDomain.handshakeTimeoutMs, (outcome, bytes) => {
      if (outcome === 'timeout' || outcome === 'closed') {
        if (outcome === 'timeout') {
          const err = Object.assign(new Error('TLS handshake timeout (no complete ClientHello)'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' });
          log.warn({ err: { message: err.message, code: err.code }, domain: opts.domain, remote: raw.remoteAddress }, 'tls: handshake failed');
          opts.onHandshakeError?.(err);
        }
        raw.destroy();
        return;
      }
      const domain = (outcome.sni !== undefined ? registry.serverDomainForSni(outcome.sni) : undefined) ?? listenerDomain;
      raw.unshift(bytes); // TLSSocket feeds a wrapped socket's buffered bytes to OpenSSL first
      domainServer(domain).emit('connection', raw);
    });
  });

  server.on('secureConnection', (socket: Tagged) => {
    const domain = socket[DOMAIN] ?? registry.serverDomain(opts.domain);
    let identity: PeerIdentity;
    try {
      identity = buildIdentity(socket, domain);
    } catch (e) {
      log.error({ err: e, domain: domain.name, remote: socket.remoteAddress }, 'tls: cannot build peer identity; closing');
      socket.destroy();
      return;
    }
    socket.on('error', (err) => log.debug({ err, domain: domain.name }, 'tls: connection error'));
    if (needsCrlFetch(identity, domain)) {
      // CRL distribution points never fetched: the connection waits (paused) for them, up to the timeout
      withFetchedCrls(identity, domain).then(
        (again) => {
          if (!socket.destroyed) checkOcsp(socket, again, domain);
        },
        () => socket.destroy(),
      );
      return;
    }
    checkOcsp(socket, identity, domain);
  });

  const checkOcsp = (socket: Tagged, identity: PeerIdentity, domain: ServerDomain) => {
    const chain = domain.ocsp && identity.verified ? chainOf(identity) : undefined;
    if (domain.ocsp && chain && chain.length >= 2) {
      // The peer's OCSP status (cached per certificate): the connection waits, paused, for it.
      domain.ocsp.query(chain[0], chain[1]).then(
        (verdict) => {
          if (verdict) markUnverified(identity, verdict);
          if (!socket.destroyed) decide(socket, identity, domain);
        },
        () => socket.destroy(),
      );
      return;
    }
    decide(socket, identity, domain);
  };

  const decide = (socket: Tagged, identity: PeerIdentity, domain: ServerDomain) => {
    if (domain.require && !identity.verified) {
      log.warn(
        { domain: domain.name, remote: identity.remote, verify_error: identity.verify_error, subject: identity.subject?.string },
        'tls: peer refused (domain requires a verified certificate)',
      );
      opts.onRefused?.(identity, domain);
      closeCleanly(socket);
      return;
    }
    registry.track(socket);
    if (domain.maxConnectionAgeS > 0) {
      const t = setTimeout(() => {
        log.info({ domain: domain.name, remote: identity.remote }, 'tls: maximum connection age reached; closing');
        socket.destroy();
      }, domain.maxConnectionAgeS * 1000);
      t.unref();
      socket.once('close', () => clearTimeout(t));
    }
    opts.onConnection(socket, identity, domain);
  };

  // Garbage, truncated handshakes, timeouts, refused certificates: one log line, the listener goes on.
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Tagged) => {
    if (err.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') {
      // OpenSSL refused (and alerted) a peer without a certificate on a `require` domain. The SSL
      // object is finished with: describe the peer from the TCP side only.
      const domain = socket[DOMAIN] ?? registry.serverDomain(opts.domain);
      const identity: PeerIdentity = {
        presented: false,
        verified: false,
        verify_error: 'NO_PEER_CERTIFICATE',
        mapped_identities: [],
        local: { role: 'server', domain: domain.name, ...(domain.localSubject ? { subject: domain.localSubject } : {}), ...(socket.localAddress ? { address: socket.localAddress, port: socket.localPort } : {}) },
        remote: socket.remoteAddress ? { address: socket.remoteAddress, port: socket.remotePort } : {},
      };
      log.warn({ domain: domain.name, remote: identity.remote, verify_error: 'NO_PEER_CERTIFICATE' }, 'tls: peer refused (domain requires a verified certificate; TLS alert sent)');
      opts.onRefused?.(identity, domain);
      socket.destroy();
      return;
    }
    log.warn({ err: { message: err.message, code: err.code }, domain: opts.domain, remote: socket.remoteAddress }, 'tls: handshake failed');
    socket.destroy();
    opts.onHandshakeError?.(err);
  });
  server.on('error', (err) => log.error({ err, domain: opts.domain }, 'tls: server error'));
  return server;
}

/**
 * Node 20's tls.Server builds its context from a fixed list of options that leaves out
 * allowPartialTrustChain (tls.connect and createSecureContext honour it): set the flag on the
 * server's context the way createSecureContext does. Without it OpenSSL would refuse partial
 * chains the verifier accepts, and the identity document would say so (fail closed).
 */
function allowPartialChains(s: tls.Server): void {
  const ctx = (s as tls.Server & { _sharedCreds?: { context?: { setAllowPartialTrustChain?: () => void } } })._sharedCreds?.context;
  ctx?.setAllowPartialTrustChain?.(); // presence checked when the domain loaded (domains.ts)
}

function failsWithoutCertificate(domain: ServerDomain): boolean {
  return domain.verify && domain.require;
}

function serverOptions(domain: ServerDomain): tls.TlsOptions {
  return {
    ...domain.contextOptions,
    requestCert: domain.verify,
    // OpenSSL refuses a missing certificate with an alert; everything else we decide after the
    // handshake (chain verdict, CRL, depth, require), see the keylog listener above.
    rejectUnauthorized: failsWithoutCertificate(domain),
    handshakeTimeout: domain.handshakeTimeoutMs,
  };
}

const MAX_HELLO_CHUNKS = 64;

function safeDomain(registry: TlsContextRegistry, name: string): ServerDomain | undefined {
  try {
    return registry.serverDomain(name);
  } catch {
    return undefined;
  }
}

/**
 * Reads from `raw` until a complete ClientHello (or anything that is not one) has arrived, then
 * pauses the socket and calls back with what was read. The bytes are handed on, never consumed.
 */
function readClientHello(
  raw: net.Socket,
  timeoutMs: number,
  done: (outcome: { sni?: string } | 'timeout' | 'closed', bytes: Buffer) => void,
): void {
  const chunks: Buffer[] = [];
  let settled = false;
  const finish = (outcome: { sni?: string } | 'timeout' | 'closed') => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    raw.off('data', onData);
    raw.off('end', onEnd);
    raw.off('close', onEnd);
    raw.off('error', onError);
    raw.pause();
    done(outcome, Buffer.concat(chunks));
  };
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    // A hello comes in one to a few segments; a trickle of tiny ones (which would make each peek
    // re-read everything) is handed to OpenSSL as it is after MAX_HELLO_CHUNKS.
    if (chunks.length > MAX_HELLO_CHUNKS) return finish({});
    const peek = peekClientHello(chunks.length === 1 ? chunk : Buffer.concat(chunks));
    if (peek.state === 'hello') finish({ sni: peek.sni });
    else if (peek.state === 'not-hello') finish({}); // let OpenSSL refuse it with an alert
  };
  const onEnd = () => (chunks.length ? finish({}) : finish('closed'));
  const onError = () => finish('closed');
  const timer = setTimeout(() => finish('timeout'), timeoutMs);
  raw.on('data', onData);
  raw.on('end', onEnd);
  raw.on('close', onEnd);
  raw.on('error', onError);
}
