// The policy section's options beyond the source (schemas/config.schema.json `policy`):
// bundle signature verification (OPA's `keys` + bundle `signing` options), credentials and TLS of
// bundle downloads (OPA's service `credentials.bearer` / `credentials.client_tls`, `tls.ca_cert`)
// and a shadow policy. policyOptionsFromConfig() turns them into PolicyEngine options, so that the
// gateway adds them with one line.
import { readFileSync } from 'node:fs';
import type { VerificationConfig } from './bundle-sign.js';
import type { DownloadOptions } from './poller.js';

export interface PolicyConfigExtras {
  verification?: {
    keys: Record<string, { algorithm?: string; key?: string; key_file?: string; scope?: string }>;
    keyid?: string;
    scope?: string;
    exclude_files?: string[];
  };
  credentials?: {
    bearer?: { token?: string; token_path?: string; scheme?: string };
    client_tls?: { cert: string; private_key: string };
  };
  tls?: { ca_cert?: string };
  shadow?: string;
  print?: boolean;
}

export interface PolicyConfigOptions {
  verification?: VerificationConfig;
  download?: DownloadOptions;
  shadow?: { path: string };
  print?: boolean;
}

/** PolicyEngine options from the config's policy section; `path` resolves file names (config-relative). */
export function policyOptionsFromConfig(p: PolicyConfigExtras, path: (f: string) => string = (f) => f): PolicyConfigOptions {
  const out: PolicyConfigOptions = {};
  if (p.verification) {
    const v = p.verification;
    out.verification = {
      keys: Object.fromEntries(
        Object.entries(v.keys).map(([id, k]) => [id, { algorithm: k.algorithm ?? 'RS256', key: k.key ?? readFileSync(path(k.key_file!), 'utf8'), ...(k.scope !== undefined ? { scope: k.scope } : {}) }]),
      ),
      ...(v.keyid ? { keyid: v.keyid } : {}),
      ...(v.scope !== undefined ? { scope: v.scope } : {}),
      ...(v.exclude_files ? { exclude_files: v.exclude_files } : {}),
    };
  }
  const c = p.credentials;
  if (c || p.tls) {
    const d: DownloadOptions = {};
    if (c?.bearer) {
      const b = c.bearer;
      const scheme = b.scheme ?? 'Bearer';
      d.authorization = b.token_path ? () => `${scheme} ${readFileSync(path(b.token_path!), 'utf8').trim()}` : () => `${scheme} ${b.token ?? ''}`;
    }
    if (c?.client_tls) {
      d.cert = readFileSync(path(c.client_tls.cert), 'utf8');
      d.key = readFileSync(path(c.client_tls.private_key), 'utf8');
    }
    if (p.tls?.ca_cert) d.ca = readFileSync(path(p.tls.ca_cert), 'utf8');
    out.download = d;
  }
  if (p.shadow) out.shadow = { path: path(p.shadow) };
  if (p.print) out.print = true;
  return out;
}
