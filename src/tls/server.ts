// Inbound TLS: one tls.Server per listening socket, its default server domain fixed by the socket
// (`listen: {server_domain: ...}`), another domain chosen by SNI. After the handshake the identity
// document is built once; `require` refuses a peer without a valid certificate, otherwise the
// connection is handed to `onConnection` with its identity, verified or not.
import * as tls from 'node:tls';
import type { Logger } from 'pino';
import { buildIdentity, type PeerIdentity } from './identity.js';
import type { TlsContextRegistry } from './registry.js';
import type { ServerDomain } from './domains.js';

export interface TlsServerOptions {
  registry: TlsContextRegistry;
  /** Server domain of this listening socket (used without SNI or with an unknown SNI name). */
  domain: string;
  onConnection: (socket: tls.TLSSocket, identity: PeerIdentity, domain: ServerDomain) => void;
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
  let seenVersion = registry.version;

  const server = tls.createServer({
    ...initial.contextOptions,
    requestCert: initial.verify,
    rejectUnauthorized: false, // we decide after the handshake (CRL, depth, require)
    handshakeTimeout: initial.handshakeTimeoutMs,
    // Node calls SNICallback as a method of the TLSSocket being negotiated.
    SNICallback(this: unknown, servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) {
      const socket = this as Tagged;
      const domain = registry.serverDomainForSni(servername) ?? registry.serverDomain(opts.domain);
      socket[DOMAIN] = domain;
      // Per-domain verify: change the verify mode before the server sends CertificateRequest.
      const handle = (socket as unknown as { _handle?: { setVerifyMode?: (req: boolean, rej: boolean) => void } })._handle;
      handle?.setVerifyMode?.(domain.verify, false);
      cb(null, domain.context);
    },
  });

  // A reload rebuilds the default context (new certificate, CAs, ticket keys) before the next handshake.
  const refresh = () => {
    if (registry.version === seenVersion) return;
    seenVersion = registry.version;
    const d = registry.serverDomain(opts.domain);
    server.setSecureContext({ ...d.contextOptions });
    server.setTicketKeys(d.contextOptions.ticketKeys as Buffer);
  };
  registry.on('reload', refresh);
  server.on('close', () => registry.off('reload', refresh));

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
    if (domain.require && !identity.verified) {
      log.warn(
        { domain: domain.name, remote: identity.remote, verify_error: identity.verify_error, subject: identity.subject?.string },
        'tls: peer refused (domain requires a verified certificate)',
      );
      opts.onRefused?.(identity, domain);
      socket.destroy();
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
  });

  // Garbage, truncated handshakes, timeouts, refused certificates: one log line, the listener goes on.
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    log.warn({ err: { message: err.message, code: err.code }, domain: opts.domain, remote: socket.remoteAddress }, 'tls: handshake failed');
    socket.destroy();
    opts.onHandshakeError?.(err);
  });
  server.on('error', (err) => log.error({ err, domain: opts.domain }, 'tls: server error'));
  return server;
}
