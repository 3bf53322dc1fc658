// The admin HTTP listener: Prometheus metrics, liveness and readiness, the open connections
// (with their peers' identities) and dropping one, and reload, as `bastion ctl` uses them.
//
// It is cheap by construction and never in the SIP path: every answer is built from counters and
// snapshots already in memory. Bad clients are bounded: unknown paths 404, wrong methods 405 (with
// Allow), a missing or wrong bearer token 401, bodies over max_body_bytes 413, a request not
// complete within request_timeout_ms 408 (Node's own timeout), at most MAX_CONNECTIONS at once.
// /healthz and /readyz answer without a token (probes); mutual TLS, when configured, applies to
// every connection.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** What the admin API reads and drives (the gateway implements it). */
export interface AdminTarget {
  metrics(format: 'text' | 'json'): Promise<{ contentType: string; body: string }>;
  readiness(): { ready: boolean; reasons: string[] };
  status(): Record<string, unknown>;
  connections(): unknown[];
  dropConnection(id: number): boolean;
  reload(): Promise<{ ok: boolean } & Record<string, unknown>>;
}

export interface AdminServerOptions {
  address?: string;
  port?: number;
  /** the bearer token every request but the probes must carry */
  token?: string;
  /** PEM text: HTTPS; with ca, mutual TLS */
  tls?: { cert: string; key: string; ca?: string[] };
  maxBodyBytes?: number;
  requestTimeoutMs?: number;
  logger?: Pick<Logger, 'warn' | 'info'>;
}

export const MAX_CONNECTIONS = 32;

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[]) => void | Promise<void>;
interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
  /** answered without the token (probes) */
  open?: boolean;
}

export class AdminServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  static async start(target: AdminTarget, opts: AdminServerOptions = {}): Promise<AdminServer> {
    const maxBody = opts.maxBodyBytes ?? 65536;
    const json = (res: ServerResponse, status: number, body: unknown) => {
      const text = JSON.stringify(body, null, 2) + '\n';
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
      res.end(text);
    };
    const routes: Route[] = [
      {
        pattern: /^\/metrics$/,
        methods: {
          GET: async (req, res) => {
            const format = new URL(req.url ?? '/', 'http://x').searchParams.get('format') === 'json' ? 'json' : 'text';
            const m = await target.metrics(format);
            res.writeHead(200, { 'Content-Type': m.contentType, 'Content-Length': Buffer.byteLength(m.body), 'Cache-Control': 'no-store' });
            res.end(m.body);
          },
        },
      },
      { pattern: /^\/healthz$/, open: true, methods: { GET: (_req, res) => json(res, 200, { status: 'alive' }) } },
      {
        pattern: /^\/readyz$/,
        open: true,
        methods: {
          GET: (_req, res) => {
            const r = target.readiness();
            json(res, r.ready ? 200 : 503, r.ready ? { status: 'ready' } : { status: 'not ready', reasons: r.reasons });
          },
        },
      },
      { pattern: /^\/status$/, methods: { GET: (_req, res) => json(res, 200, target.status()) } },
      { pattern: /^\/connections$/, methods: { GET: (_req, res) => json(res, 200, target.connections()) } },
      {
        pattern: /^\/connections\/([^/]+)$/,
        methods: {
          DELETE: (_req, res, [id]) => {
            if (!/^\d{1,15}$/.test(id!)) return json(res, 400, { error: `not a connection id: ${id}` });
            if (!target.dropConnection(Number(id))) return json(res, 404, { error: `no open connection ${id}` });
            json(res, 200, { dropped: Number(id) });
          },
        },
      },
      {
        pattern: /^\/reload$/,
        methods: {
          POST: async (_req, res) => {
            const r = await target.reload();
            json(res, r.ok ? 200 : 422, r);
          },
        },
      },
    ];

    const token = opts.token !== undefined ? Buffer.from(opts.token) : undefined;
    const authorized = (req: IncomingMessage): boolean => {
      if (!token) return true;
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!m) return false;
      const given = Buffer.from(m[1]!);
      return given.length === token.length && timingSafeEqual(given, token);
    };

    const handle = async (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const route = routes.find((r) => r.pattern.test(path));
      if (!route) return json(res, 404, { error: `no such path: ${path}` });
      if (!route.open && !authorized(req)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="sip-bastion"');
        return json(res, 401, { error: 'missing or wrong bearer token' });
      }
      const handler = route.methods[req.method ?? ''];
      if (!handler) {
        res.setHeader('Allow', Object.keys(route.methods).join(', '));
        return json(res, 405, { error: `${req.method} not allowed on ${path}` });
      }
      // bodies are not used by any route: refuse large ones, drain small ones
      if (Number(req.headers['content-length'] ?? 0) > maxBody) {
        res.setHeader('Connection', 'close');
        json(res, 413, { error: `request body over ${maxBody} bytes` });
        req.destroy();
        return;
      }
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > maxBody) {
          res.setHeader('Connection', 'close');
          json(res, 413, { error: `request body over ${maxBody} bytes` });
          req.destroy();
          return;
        }
      }
      const params = route.pattern.exec(path)!.slice(1);
      await handler(req, res, params);
    };

    const listener = (req: IncomingMessage, res: ServerResponse) => {
      handle(req, res).catch((e: unknown) => {
        opts.logger?.warn({ err: { message: (e as Error).message }, path: req.url }, 'admin: request failed');
        if (!res.headersSent) json(res, 500, { error: (e as Error).message });
        else res.destroy();
      });
    };
    const timeout = opts.requestTimeoutMs ?? 10_000;
    // Node checks request and header timeouts every connectionsCheckingInterval (30 s by default)
    const http = { requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: Math.min(1000, timeout), keepAliveTimeout: 5000 };
    const server: Server = opts.tls
      ? createHttpsServer({ ...http, cert: opts.tls.cert, key: opts.tls.key, ...(opts.tls.ca ? { ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, listener)
      : createHttpServer(http, listener);
    server.maxConnections = MAX_CONNECTIONS;
    server.maxHeadersCount = 64;
    server.on('clientError', (_err, socket) => socket.destroy());
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 8061, opts.address ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => opts.logger?.warn({ err: { message: err.message } }, 'admin: listener error'));
    const a = server.address() as AddressInfo;
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    return new AdminServer(server, `${opts.tls ? 'https' : 'http'}://${host}:${a.port}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
    });
  }
}

/** The admin options from the config's `admin` section (files read relative to `resolve`). */
export function adminServerOptions(
  cfg: { address?: string; port?: number; token_file?: string; tls?: { cert: string; key: string; ca?: string[] }; max_body_bytes?: number; request_timeout_ms?: number },
  resolve: (p: string) => string,
): AdminServerOptions {
  return {
    address: cfg.address,
    port: cfg.port,
    token: cfg.token_file !== undefined ? readToken(resolve(cfg.token_file)) : undefined,
    tls: cfg.tls ? { cert: readFileSync(resolve(cfg.tls.cert), 'utf8'), key: readFileSync(resolve(cfg.tls.key), 'utf8'), ca: cfg.tls.ca?.map((f) => readFileSync(resolve(f), 'utf8')) } : undefined,
    maxBodyBytes: cfg.max_body_bytes,
    requestTimeoutMs: cfg.request_timeout_ms,
  };
}

/** The first line of a token file, trimmed; an empty token is refused. */
export function readToken(file: string): string {
  const t = readFileSync(file, 'utf8').split(/\r?\n/)[0]!.trim();
  if (!t) throw new Error(`${file}: empty token`);
  return t;
}
