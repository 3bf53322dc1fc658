// A client of the admin API (`bastion ctl`): where the admin listener is and how to authenticate
// (from flags, the environment or the gateway's config file), and one request at a time.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { loadConfig, resolvePath } from '../gateway/config.js';
import { readToken } from './server.js';

export interface AdminEndpoint {
  url: string;
  token?: string;
  /** PEM text for HTTPS: the CA of the admin listener's certificate; client certificate and key (mTLS) */
  ca?: string;
  cert?: string;
  key?: string;
}

export interface EndpointFlags {
  url?: string;
  config?: string;
  token?: string;
  tokenFile?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

export class AdminClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminClientError';
  }
}

/**
 * Where to reach the admin API: --url, else the `admin` section of --config (or of the embedded
 * default config): address, port, token_file, https when it has tls. The token: --token,
 * --token-file, BASTION_ADMIN_TOKEN, else the config's token_file.
 */
export function resolveEndpoint(f: EndpointFlags, env: NodeJS.ProcessEnv = process.env): AdminEndpoint {
  let url = f.url;
  let token = f.token ?? (f.tokenFile !== undefined ? readToken(f.tokenFile) : undefined) ?? env.BASTION_ADMIN_TOKEN;
  let ca: string | undefined;
  if (url === undefined || (token === undefined && f.config !== undefined)) {
    const loaded = loadConfig(f.config);
    const admin = loaded.config.admin;
    if (!admin) throw new AdminClientError(`${loaded.source}: no admin listener configured (admin:)`);
    const address = admin.address ?? '127.0.0.1';
    // a wildcard listener is reached on loopback from this machine
    const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
    url ??= `${admin.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${admin.port ?? 8061}`;
    if (token === undefined && admin.token_file !== undefined) token = readToken(resolvePath(loaded.baseDir, admin.token_file));
    if (admin.tls?.ca?.[0] !== undefined && f.ca === undefined) ca = readFileSync(resolvePath(loaded.baseDir, admin.tls.ca[0]), 'utf8');
  }
  const read = (p: string | undefined) => (p !== undefined ? readFileSync(p, 'utf8') : undefined);
  return { url: url.replace(/\/+$/, ''), token, ca: read(f.ca) ?? ca, cert: read(f.cert), key: read(f.key) };
}

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
}

/** One request; rejects only when the admin API cannot be reached. */
export function adminRequest(ep: AdminEndpoint, method: string, path: string, timeoutMs = 30_000): Promise<AdminResponse> {
  const u = new URL(ep.url + path);
  const https = u.protocol === 'https:';
  const headers: Record<string, string> = { Accept: 'application/json, text/plain' };
  if (ep.token) headers.Authorization = `Bearer ${ep.token}`;
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      u,
      { method, headers, timeout: timeoutMs, ...(https ? { ca: ep.ca, cert: ep.cert, key: ep.key } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new AdminClientError(`${ep.url}: no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof AdminClientError ? e : new AdminClientError(`cannot reach the admin API at ${ep.url}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    req.end();
  });
}
