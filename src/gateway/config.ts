// The gateway configuration: YAML/JSON read from a file (or the embedded config/default.yaml),
// validated against schemas/config.schema.json with errors naming the path, relative file names
// resolved against the config's folder.
import { readFileSync } from 'node:fs';
import type { PolicyConfigExtras } from '../policy/config.js';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import YAML from 'yaml';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ClientDomainConfig, ServerDomainConfig } from '../tls/index.js';
import { exemptEntryProblem, type PeerLimitsConfig } from '../limits/index.js';
import { packageRoot } from './package-root.js';
import configSchema from '../../schemas/config.schema.json' with { type: 'json' };
import tlsDomainSchema from '../../schemas/tls-domain.schema.json' with { type: 'json' };

export interface ListenConfig {
  transport: 'tls' | 'tcp' | 'udp';
  address?: string;
  port: number;
  server_domain?: string;
  advertise?: string;
}

export interface GatewayConfig {
  listen: ListenConfig[];
  server_domains?: Record<string, ServerDomainConfig>;
  client_domains?: Record<string, ClientDomainConfig>;
  dev_pki?: { dir: string; names?: string[] };
  policy: {
    path?: string;
    bundle?: string;
    url?: string;
    poll_interval_ms?: number;
    entrypoint?: string;
    data?: string[];
    /** evaluation budget (ms); a slower decision is rejected with fail_closed */
    eval_timeout_ms?: number;
    /** evaluation worker threads (default auto: CPUs - 1, at least 1; 0: in the event-loop thread) */
    workers?: number | 'auto';
    fail_closed?: { status?: number; reason?: string };
    /** bundle signature verification, credentials/TLS of bundle downloads, a shadow policy: see src/policy/config.ts */
    verification?: PolicyConfigExtras['verification'];
    credentials?: PolicyConfigExtras['credentials'];
    tls?: PolicyConfigExtras['tls'];
    shadow?: string;
  };
  proxy?: {
    local_names?: string[];
    max_forwards?: number;
    record_route?: boolean;
    timers?: { T1?: number; T2?: number; T4?: number };
    connect_timeout_ms?: number;
    dns?: DnsConfig;
    /** methods let through to the policy; any other request is answered 405 (default DEFAULT_METHODS) */
    methods?: string[];
    /** secret of the topology-hiding tokens (default: random per start) */
    topology_hiding_key_file?: string;
  };
  limits?: {
    max_message_bytes?: number;
    max_header_bytes?: number;
    max_body_bytes?: number;
    max_header_count?: number;
    max_header_line_bytes?: number;
    partial_message_timeout_ms?: number;
    idle_timeout_ms?: number;
    /** slow readers: bytes queued for one connection's peer before it is closed */
    write_queue_bytes?: number;
    /** slow readers: queued bytes without progress this long close the connection */
    send_timeout_ms?: number;
    /** per-peer limits (defaults apply to what is left out) */
    peers?: PeerLimitsConfig;
  };
  log?: LogConfig;
  admin?: AdminConfig;
}

export interface LogConfig {
  level?: string;
  decisions?: boolean;
  decision_input?: boolean;
  mask?: string[];
  file?: string;
  /** roll `file` by size and/or time (pino-roll) */
  rotate?: { size?: string; frequency?: 'daily' | 'hourly' | number; keep?: number };
  /** fraction of allowed decisions logged per method ("*": the others) */
  sample?: Record<string, number>;
  /** OPA decision-log service upload */
  upload?: {
    url: string;
    resource?: string;
    token_file?: string;
    labels?: Record<string, string>;
    min_delay_seconds?: number;
    max_delay_seconds?: number;
    upload_size_limit_bytes?: number;
    buffer_size_limit_bytes?: number;
    timeout_ms?: number;
  };
}

/** The admin HTTP listener (metrics, health, connections, reload). */
export interface AdminConfig {
  address?: string;
  port?: number;
  /** file whose first line is the bearer token */
  token_file?: string;
  /** HTTPS; with ca: mutual TLS */
  tls?: { cert: string; key: string; ca?: string[] };
  max_body_bytes?: number;
  request_timeout_ms?: number;
}

/** RFC 3263 lookups: the DNS servers to ask (default: the system's) and how. */
export interface DnsConfig {
  servers?: string[];
  timeout_ms?: number;
  tries?: number;
  prefer_tls?: boolean;
  ipv6?: boolean;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

let validator: ValidateFunction | undefined;
function getValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, useDefaults: false });
    addFormats(ajv);
    ajv.addSchema(tlsDomainSchema); // server_domains / client_domains profiles
    validator = ajv.compile(configSchema);
  }
  return validator;
}

/** What a value that is not allowed at this place means, by its path. */
const NOT_ALLOWED: Array<[RegExp, string]> = [[/^\/listen\/\d+\/server_domain$/, 'only a TLS listener takes a server_domain']];

function describe(e: ErrorObject): string {
  const path = e.instancePath === '' ? '/' : e.instancePath;
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'false schema' || e.keyword === 'not') {
    const hint = NOT_ALLOWED.find(([re]) => re.test(path))?.[1];
    return `${path}: not allowed here${hint ? ` (${hint})` : ''}`;
  }
  if (e.keyword === 'additionalProperties') return `${path}: unknown property "${String(p.additionalProperty)}"`;
  if (e.keyword === 'unevaluatedProperties') return `${path}: unknown property "${String(p.unevaluatedProperty)}"`;
  if (e.keyword === 'required') return `${path}: missing property "${String(p.missingProperty)}"`;
  if (e.keyword === 'enum') return `${path}: must be one of ${JSON.stringify(p.allowedValues)}`;
  // a limit that may be switched off: `false` (then) or its settings (else)
  if (e.keyword === 'const' && p.allowedValue === false) return `${path}: must be false or an object`;
  return `${path}: ${e.message ?? 'is invalid'}`;
}

/** Validates a parsed config document; returns one line per problem (empty: valid). */
export function validateConfig(doc: unknown): string[] {
  const validate = getValidator();
  if (validate(doc)) return semanticChecks(doc as GatewayConfig);
  const errors = validate.errors ?? [];
  // The policy's oneOf and the admin listener's if/then repeat themselves through their branches
  // (required/not/anyOf lines): one line each says what they mean.
  const inPolicyOneOf = (e: ErrorObject) => e.instancePath === '/policy' && e.schemaPath.startsWith('#/properties/policy/oneOf');
  const inAdminThen = (e: ErrorObject) => e.schemaPath.startsWith('#/properties/admin/then');
  const lines = errors.filter((e) => e.keyword !== 'if' && !inPolicyOneOf(e) && !inAdminThen(e) && !(e.keyword === 'oneOf' && e.instancePath === '/policy')).map(describe);
  if (errors.some((e) => e.keyword === 'oneOf' && e.instancePath === '/policy')) lines.push('/policy: give exactly one of "path", "bundle" or "url"');
  if (errors.some(inAdminThen)) {
    const address = (doc as { admin?: { address?: unknown } }).admin?.address;
    lines.push(`/admin: an admin listener on ${String(address)} (not loopback) needs token_file (a bearer token) or tls with ca (mutual TLS)`);
  }
  // never a failed validation without a line
  if (lines.length === 0) lines.push(...errors.map(describe));
  return [...new Set(lines)];
}

function semanticChecks(cfg: GatewayConfig): string[] {
  const out: string[] = [];
  cfg.listen.forEach((l, i) => {
    if (l.server_domain !== undefined && !(cfg.server_domains ?? {})[l.server_domain]) {
      out.push(`/listen/${i}/server_domain: no server domain named "${l.server_domain}"`);
    }
  });
  const seen = new Set<string>();
  cfg.listen.forEach((l, i) => {
    const key = `${l.transport === 'udp' ? 'udp' : 'tcp'}:${l.address ?? '127.0.0.1'}:${l.port}`;
    if (l.port !== 0 && seen.has(key)) out.push(`/listen/${i}: ${l.transport} ${l.address ?? '127.0.0.1'}:${l.port} is listed twice`);
    seen.add(key);
  });
  if (cfg.log?.rotate && !cfg.log.file) out.push('/log/rotate: needs log.file (the file to roll)');
  const up = cfg.log?.upload;
  if (up && up.min_delay_seconds !== undefined && up.max_delay_seconds !== undefined && up.max_delay_seconds < up.min_delay_seconds) {
    out.push('/log/upload/max_delay_seconds: must be >= min_delay_seconds');
  }
  if (cfg.proxy?.record_route === false) {
    for (const [kind, domains] of [['server_domains', cfg.server_domains], ['client_domains', cfg.client_domains]] as const) {
      for (const [name, d] of Object.entries(domains ?? {})) {
        if (d.topology_hiding) out.push(`/${kind}/${name}/topology_hiding: needs proxy.record_route (the hidden side routes its in-dialog requests back through the gateway's Record-Route)`);
      }
    }
  }
  (cfg.limits?.peers?.exempt ?? []).forEach((e, i) => {
    const problem = exemptEntryProblem(e);
    if (problem) out.push(`/limits/peers/exempt/${i}: ${problem}`);
  });
  (cfg.proxy?.dns?.servers ?? []).forEach((srv, i) => {
    if (!dnsServerAddress(srv)) out.push(`/proxy/dns/servers/${i}: "${srv}" is not an IP address with an optional port (e.g. 127.0.0.1:5353, 10.0.0.53, [::1]:53)`);
  });
  return out;
}

/**
 * A DNS server as node:dns setServers() takes it: "ip", "ipv4:port", "[ipv6]" or "[ipv6]:port".
 * Returns the address and port, or undefined when it is not one.
 */
export function dnsServerAddress(s: string): { address: string; port: number } | undefined {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s) ?? /^([^:\[\]]+)(?::(\d{1,5}))?$/.exec(s);
  const [address, port] = m ? [m[1]!, m[2] === undefined ? 53 : Number(m[2])] : [s, 53];
  if (!m && isIP(s) !== 6) return undefined; // a bare IPv6 address (no brackets, no port)
  if (m && isIP(address) !== (s.startsWith('[') ? 6 : 4)) return undefined;
  if (port < 1 || port > 65535) return undefined;
  return { address, port };
}

export { packageRoot };

export const DEFAULT_CONFIG_FILE = (): string => join(packageRoot(), 'config', 'default.yaml');

export interface LoadedConfig {
  config: GatewayConfig;
  /** the file it came from */
  source: string;
  /** relative paths in the config resolve against this folder */
  baseDir: string;
}

/** Parses and validates config text. Throws ConfigError. */
export function parseConfig(text: string, source: string, baseDir: string): LoadedConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text, { prettyErrors: true });
  } catch (e) {
    throw new ConfigError(source, [`not valid YAML: ${(e as Error).message.split('\n')[0]}`]);
  }
  const problems = validateConfig(doc);
  if (problems.length) throw new ConfigError(source, problems);
  return { config: doc as GatewayConfig, source, baseDir };
}

/**
 * Loads `file`, or the embedded default when absent. The default's relative paths resolve against
 * the package root (policies/, .state/); a user file's against its own folder.
 */
export function loadConfig(file?: string): LoadedConfig {
  const path = file ? resolve(file) : DEFAULT_CONFIG_FILE();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  return parseConfig(text, path, file ? dirname(path) : packageRoot());
}

export function resolvePath(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}
