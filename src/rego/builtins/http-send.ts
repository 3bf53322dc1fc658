// http.send with OPA's semantics (v1/topdown/http.go): request-object validation with OPA's
// messages, Go-like request construction (method, url incl. unix sockets, body/raw_body, headers,
// TLS material from strings/files/env, timeout, redirects, retries), OPA's response object
// ({status, status_code, body, raw_body, headers}), raise_error, force_json_decode /
// force_yaml_decode, the intra-query cache (same request, same answer within one evaluation) and
// an inter-query cache for `cache` / `force_cache` (freshness from Cache-Control max-age + Date,
// or Expires; stale entries are refetched, no conditional revalidation).
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import YAML from 'yaml';
import { BuiltinError, builtinError, operandError, typeError, typeName } from './errors.js';
import { perEvaluation } from './eval-scope.js';
import { parseDuration } from './time.js';
import { requestSync, SyncHttpError, type SyncRequest, type SyncResponse } from './sync-http.js';
import type { HostBuiltin } from './types.js';

const NAME = 'http.send';

export interface HttpSendOptions {
  /** OPA's capabilities `allow_net`: hosts http.send may reach; undefined = any, [] = none. */
  allowNet?: string[];
  /** Default request timeout (OPA: 5 s, env HTTP_SEND_TIMEOUT). */
  defaultTimeoutMs?: number;
  /**
   * Upper bound on any request's timeout, `timeout: 0` (OPA: no timeout) included: evaluation
   * blocks while a request is under way, so it is never unbounded here. Default 60 s.
   */
  maxTimeoutMs?: number;
  /** Largest response body accepted; larger ones fail the call. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Entries kept by the inter-query cache (`cache: true`); default 1000. */
  interQueryCacheEntries?: number;
}

const ALLOWED_KEYS = new Set([
  'method', 'url', 'body', 'enable_redirect', 'force_json_decode', 'force_yaml_decode', 'headers', 'raw_body',
  'tls_use_system_certs', 'tls_ca_cert', 'tls_ca_cert_file', 'tls_ca_cert_env_variable', 'tls_client_cert',
  'tls_client_cert_file', 'tls_client_cert_env_variable', 'tls_client_key', 'tls_client_key_file',
  'tls_client_key_env_variable', 'tls_insecure_skip_verify', 'tls_server_name', 'timeout', 'cache', 'force_cache',
  'force_cache_duration_seconds', 'raise_error', 'caching_mode', 'max_retry_attempts', 'cache_ignored_headers',
]);
const REQUIRED_KEYS = ['method', 'url'];
const STRING_KEYS = new Set([
  'method', 'url', 'raw_body', 'tls_ca_cert', 'tls_ca_cert_file', 'tls_ca_cert_env_variable', 'tls_client_cert',
  'tls_client_cert_file', 'tls_client_cert_env_variable', 'tls_client_key', 'tls_client_key_file',
  'tls_client_key_env_variable', 'tls_server_name',
]);
const CACHEABLE_CODES = new Set([200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501]);

/** Go's *url.Error: a transport failure (error code eval_http_send_network_error). */
class UrlError extends Error {
  constructor(
    message: string,
    readonly timedOutText?: string,
  ) {
    super(message);
  }
}

type Req = Record<string, unknown>;

/** OPA prints a set of strings as `{"a", "b"}`. */
const regoSet = (keys: string[]) => `{${keys.sort().map((k) => JSON.stringify(k)).join(', ')}}`;

function validate(req: Req): void {
  const invalid = Object.keys(req).filter((k) => !ALLOWED_KEYS.has(k));
  if (invalid.length > 0) throw operandError(NAME, 1, `invalid request parameters(s): ${regoSet(invalid)}`);
  const missing = REQUIRED_KEYS.filter((k) => !(k in req));
  if (missing.length > 0) throw operandError(NAME, 1, `missing required request parameters(s): ${regoSet(missing)}`);
}

function boolField(req: Req, key: string): boolean {
  const v = req[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new Error(`invalid value for "${key}" field`);
  return v;
}

/** Go's strconv.ParseBool over the term's string form (`true`, `"true"` prints with quotes and fails). */
function parseBoolTerm(v: unknown): boolean {
  const s = JSON.stringify(v); // the term's Rego text: a string keeps its quotes and never parses
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`);
}

function parseTimeoutMs(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`invalid timeout number value ${v}, must be int64`);
    return v / 1e6;
  }
  if (typeof v === 'string') {
    if (/^[+-]?\d+$/.test(v)) return Number(v) / 1e6;
    try {
      return Number(parseDuration(v)) / 1e6;
    } catch (e) {
      throw new Error(`invalid timeout value ${JSON.stringify(v)}: ${(e as Error).message}`);
    }
  }
  throw operandError(NAME, 1, `'timeout' must be one of {string, number} but got ${typeName(v)}`);
}

function readFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
}

function pemCerts(text: string, what: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) throw new Error(`could not append CA certificates from ${what}`);
  return blocks;
}

/** Go's url.Error Op for a method: "GET" -> "Get". */
const opOf = (method: string) => (method === '' ? 'Get' : method[0] + method.slice(1).toLowerCase());

/** Go's http.CanonicalHeaderKey. */
function canonicalHeader(k: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k)) return k;
  return k.toLowerCase().replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}

/** Builds the worker request from OPA's request object (createHTTPRequest). */
function buildRequest(req: Req, opts: Required<Pick<HttpSendOptions, 'defaultTimeoutMs' | 'maxResponseBytes' | 'maxTimeoutMs'>> & HttpSendOptions): SyncRequest {
  let url = '';
  let method = '';
  let body: string | undefined;
  let rawBody: string | undefined;
  let followRedirects = false;
  let insecure = false;
  let useSystem: boolean | undefined;
  let timeoutMs = opts.defaultTimeoutMs;
  let headers: Record<string, unknown> | undefined;
  const s: Record<string, string> = {};
  for (const key of Object.keys(req).sort()) {
    const val = req[key];
    if (typeof val === 'string') s[key] = val.replace(/^"+|"+$/g, '');
    else if (STRING_KEYS.has(key)) throw new Error(`"${key}" must be a string`);
    switch (key) {
      case 'method':
        method = s.method.toUpperCase();
        break;
      case 'url':
        url = s.url;
        break;
      case 'enable_redirect':
        followRedirects = parseBoolTerm(val);
        break;
      case 'body':
        body = JSON.stringify(val);
        break;
      case 'raw_body':
        rawBody = s.raw_body;
        break;
      case 'tls_use_system_certs':
        useSystem = parseBoolTerm(val);
        break;
      case 'tls_insecure_skip_verify':
        insecure = parseBoolTerm(val);
        break;
      case 'headers':
        if (typeof val !== 'object' || val === null || Array.isArray(val)) throw new Error('invalid type for headers key');
        headers = val as Record<string, unknown>;
        break;
      case 'timeout':
        timeoutMs = parseTimeoutMs(val);
        break;
      default:
        break; // cache options, decode flags, raise_error, retries, TLS strings: read below
    }
  }

  const tls: SyncRequest['tls'] = {};
  if (insecure) tls.insecure = true;
  const pair = (cert?: string, key?: string) => {
    if (cert && key) {
      tls.cert = cert;
      tls.key = key;
    }
  };
  pair(s.tls_client_cert, s.tls_client_key);
  if (s.tls_client_cert_file && s.tls_client_key_file) pair(readFile(s.tls_client_cert_file), readFile(s.tls_client_key_file));
  if (s.tls_client_cert_env_variable && s.tls_client_key_env_variable) {
    const c = process.env[s.tls_client_cert_env_variable] ?? '';
    const k = process.env[s.tls_client_key_env_variable] ?? '';
    if (!c.includes('-----BEGIN') || !k.includes('-----BEGIN')) {
      throw new Error(`cannot extract public/private key pair from envvars ${JSON.stringify(s.tls_client_cert_env_variable)}, ${JSON.stringify(s.tls_client_key_env_variable)}: tls: failed to find any PEM data in certificate input`);
    }
    pair(c, k);
  }
  let ca: string[] | undefined;
  if (useSystem === true) ca = [...rootCertificates];
  if (s.tls_ca_cert) ca = [...(ca ?? []), ...pemCerts(s.tls_ca_cert.replaceAll('\\n', '\n'), 'PEM bytes')];
  if (s.tls_ca_cert_file) ca = [...(ca ?? []), ...pemCerts(readFile(s.tls_ca_cert_file), `file ${s.tls_ca_cert_file}`)];
  if (s.tls_ca_cert_env_variable) ca = [...(ca ?? []), ...pemCerts(process.env[s.tls_ca_cert_env_variable] ?? '', `env variable ${s.tls_ca_cert_env_variable}`)];
  if (ca) tls.ca = ca;

  const out: Record<string, string> = {};
  if (headers && Object.keys(headers).length > 0) {
    for (const [k, v] of Object.entries(headers)) {
      if (typeof v !== 'string') throw new Error(`invalid type for headers value ${JSON.stringify(v)}`);
      out[canonicalHeader(k)] = v;
    }
    if (out.Host !== undefined) tls.servername = out.Host;
  }
  if (out['User-Agent'] === undefined) out['User-Agent'] = 'sip-bastion (Open Policy Agent http.send)';
  if (s.tls_server_name) tls.servername = s.tls_server_name;

  // unix://localhost/path?socket=%2Ftmp%2Fhttp.sock: HTTP over a unix domain socket.
  let socketPath: string | undefined;
  let target = url;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    throw new UrlError(`parse ${JSON.stringify(url)}: invalid URL`);
  }
  if (parsed.protocol === 'unix:' && parsed.search !== '') {
    socketPath = parsed.searchParams.get('socket') ?? undefined;
    parsed.searchParams.delete('socket');
    target = `http://${parsed.host}${parsed.pathname}${parsed.search}`;
  } else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UrlError(`${opOf(method)} ${JSON.stringify(url)}: unsupported protocol scheme ${JSON.stringify(parsed.protocol.replace(/:$/, ''))}`);
  }
  if (opts.allowNet && !opts.allowNet.includes(parsed.hostname.replace(/^\[|\]$/g, ''))) throw new Error(`unallowed host: ${parsed.hostname}`);

  const payload = rawBody ?? body ?? '';
  if (payload !== '' || ['POST', 'PUT', 'PATCH'].includes(method)) out['Content-Length'] ??= String(Buffer.byteLength(payload));
  const retries = retryCount(req);
  return {
    url: target,
    method,
    headers: out,
    body: payload === '' ? undefined : payload,
    timeoutMs: timeoutMs > 0 ? Math.min(timeoutMs, opts.maxTimeoutMs) : opts.maxTimeoutMs,
    maxBytes: opts.maxResponseBytes,
    retries,
    followRedirects,
    allowNet: opts.allowNet,
    socketPath,
    tls,
  };
}

function retryCount(req: Req): number {
  const v = req.max_retry_attempts;
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`invalid value ${JSON.stringify(v)} for field "max_retry_attempts"`);
  return Math.min(v, 10);
}

/** Go's mime-typed JSON check: application/json or application/*+json. */
function isJSONType(ct: string | undefined): boolean {
  if (!ct) return false;
  const t = ct.split(';')[0].trim().toLowerCase();
  const [a, b, extra] = t.split('/');
  return extra === undefined && a === 'application' && b !== undefined && (b === 'json' || b.endsWith('+json'));
}

function responseValue(res: SyncResponse, forceJSON: boolean, forceYAML: boolean): Record<string, unknown> {
  const ct = res.headers['content-type']?.[0];
  let body: unknown = null;
  // Undecodable bodies give body: null, as in OPA.
  if (forceJSON || isJSONType(ct)) {
    try {
      body = JSON.parse(res.body);
    } catch {
      body = null;
    }
  } else if (forceYAML || (ct !== undefined && (ct.includes('application/yaml') || ct.includes('application/x-yaml')))) {
    try {
      const doc = YAML.parseDocument(res.body);
      body = doc.errors.length > 0 ? null : (doc.toJS() ?? null);
    } catch {
      body = null;
    }
  }
  return { status: res.status, status_code: res.statusCode, body, raw_body: res.body, headers: res.headers };
}

/** Go's message for a transport failure, wrapped like *url.Error: `Get "http://x": dial tcp ...`. */
function transportError(method: string, url: string, e: SyncHttpError): UrlError {
  const op = opOf(method);
  if (e.timeout) return new UrlError(`${op} ${JSON.stringify(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, `${op} ${url}: request timed out`);
  let detail = e.message;
  if (e.code === 'ECONNREFUSED') detail = `dial tcp ${e.address?.includes(':') ? `[${e.address}]` : e.address}:${e.port}: connect: connection refused`;
  else if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') detail = `dial tcp: lookup ${safeHost(url)}: no such host`;
  else if (e.code === 'ECONNRESET') detail = 'read: connection reset by peer';
  return new UrlError(`${op} ${JSON.stringify(url)}: ${detail}`);
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** The request minus what does not distinguish responses (OPA's getKeyFromRequest). */
function cacheKey(req: Req): string {
  const key: Req = { ...req };
  const ignored = req.cache_ignored_headers;
  if (Array.isArray(ignored) && req.headers && typeof req.headers === 'object') {
    const h = { ...(req.headers as Record<string, unknown>) };
    for (const name of ignored) if (typeof name === 'string') delete h[name];
    key.headers = h;
  }
  key.cache_ignored_headers = null;
  return stableJSON(key);
}

function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJSON((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

interface CachedResponse {
  res: SyncResponse;
  expiresAt: number;
}

/** Freshness of a response: Cache-Control max-age from its Date header, else Expires; 0 = stale. */
function expiryOf(res: SyncResponse): number | undefined {
  const cc = (res.headers['cache-control']?.[0] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  if (cc.includes('no-store')) return undefined;
  const maxAge = cc.map((p) => /^max-age=(\d+)$/.exec(p)).find(Boolean);
  if (maxAge) {
    const date = Date.parse(res.headers.date?.[0] ?? '');
    if (Number.isNaN(date)) return undefined; // OPA: "no date header", not cached
    return date + Math.min(Number(maxAge[1]), 2 ** 31 - 1) * 1000;
  }
  const expires = Date.parse(res.headers.expires?.[0] ?? '');
  return Number.isNaN(expires) ? 0 : expires;
}

let nextInstance = 1;

export interface HttpSend {
  builtin: HostBuiltin;
  /** Drops the inter-query cache. */
  clearCache(): void;
}

/** Makes an `http.send` for one host configuration (its inter-query cache lives with it). */
export function createHttpSend(options: HttpSendOptions = {}): HttpSend {
  const opts = { defaultTimeoutMs: 5000, maxResponseBytes: 16 * 1024 * 1024, maxTimeoutMs: 60_000, ...options };
  const maxEntries = options.interQueryCacheEntries ?? 1000;
  const interQuery = new Map<string, CachedResponse>();
  const instance = nextInstance++;

  const fetchOnce = (req: Req, forceJSON: boolean, forceYAML: boolean): { value?: Record<string, unknown>; error?: Error; cacheable: boolean } => {
    const spec = buildRequest(req, opts);
    let res: SyncResponse;
    try {
      res = requestSync(spec);
    } catch (e) {
      if (e instanceof SyncHttpError && e.kind === 'network') return { error: transportError(spec.method, String(req.url), e), cacheable: true };
      return { error: e instanceof Error ? e : new Error(String(e)), cacheable: true };
    }
    const useInter = boolField(req, 'cache') || boolField(req, 'force_cache');
    if (useInter) storeInterQuery(req, res);
    return { value: responseValue(res, forceJSON, forceYAML), cacheable: CACHEABLE_CODES.has(res.statusCode) };
  };

  const storeInterQuery = (req: Req, res: SyncResponse) => {
    if (!CACHEABLE_CODES.has(res.statusCode)) return;
    let expiresAt: number | undefined;
    if (boolField(req, 'force_cache')) {
      expiresAt = Date.now() + forceCacheSeconds(req) * 1000;
    } else {
      expiresAt = expiryOf(res);
    }
    if (expiresAt === undefined) return;
    if (interQuery.size >= maxEntries) interQuery.delete(interQuery.keys().next().value as string);
    interQuery.set(cacheKey(req), { res, expiresAt });
  };

  const send = (req: Req): Record<string, unknown> => {
    const forceJSON = boolField(req, 'force_json_decode');
    const forceYAML = boolField(req, 'force_yaml_decode');
    const key = cacheKey(req);
    if (boolField(req, 'force_cache')) forceCacheSeconds(req); // validate before any request
    if (req.caching_mode !== undefined && req.caching_mode !== 'serialized' && req.caching_mode !== 'deserialized') {
      throw new Error(typeof req.caching_mode === 'string' ? `invalid value specified for "caching_mode" field: ${req.caching_mode}` : 'invalid value for "caching_mode" field');
    }
    // Intra-query cache: within one evaluation, the same request gets the same answer (or error).
    const outcome = perEvaluation(`http.send\u0000${instance}\u0000${key}`, () => {
      if (boolField(req, 'cache') || boolField(req, 'force_cache')) {
        const hit = interQuery.get(key);
        if (hit && Date.now() < hit.expiresAt) return { value: responseValue(hit.res, forceJSON, forceYAML), cacheable: true };
        if (hit) interQuery.delete(key);
      }
      return fetchOnce(req, forceJSON, forceYAML);
    });
    if (outcome.error) throw outcome.error;
    return outcome.value!;
  };

  const builtin: HostBuiltin = (request) => {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) throw typeError(NAME, 1, request, 'object');
    const req = request as Req;
    let raiseError = true;
    if (req.raise_error !== undefined) {
      if (typeof req.raise_error !== 'boolean') throw builtinError(NAME, 'invalid value for raise_error field');
      raiseError = req.raise_error;
    }
    try {
      validate(req);
      return send(req);
    } catch (e) {
      if (raiseError) {
        if (e instanceof BuiltinError) throw e;
        if (e instanceof UrlError) throw builtinError(NAME, e.timedOutText ?? e.message);
        throw builtinError(NAME, (e as Error).message);
      }
      // raise_error: false -> the error becomes part of the response (OPA's generateRaiseErrorResult).
      // A validation failure carries OPA's full error text (code: builtin: detail).
      const code = e instanceof UrlError ? 'eval_http_send_network_error' : 'eval_http_send_internal_error';
      const message = e instanceof BuiltinError || e instanceof UrlError ? e.message : builtinError(NAME, (e as Error).message).message;
      return { status_code: 0, error: { code, message } };
    }
  };

  return { builtin, clearCache: () => interQuery.clear() };
}

function forceCacheSeconds(req: Req): number {
  const v = req.force_cache_duration_seconds;
  if (v === undefined) throw new Error("'force_cache' set but 'force_cache_duration_seconds' parameter is missing");
  const text = JSON.stringify(v);
  if (!/^[+-]?\d+$/.test(text) || Math.abs(Number(text)) > 2 ** 31 - 1) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
  return Number(text);
}
