// `bastion run --check`: everything a start would load, loaded and thrown away, with every
// problem named by its config path: TLS domains (certificates, keys, CAs, CRLs, CN maps), the
// policy (compiled), the admin listener's and the upload's token and TLS files. Nothing is bound,
// written or generated. A bundle URL that cannot be reached is a warning: the gateway starts
// without it (not ready) and waits for the first bundle.
import { access, constants } from 'node:fs/promises';
import { loadClientDomain, loadServerDomain, TlsConfigError, type ClientDomainConfig, type ServerDomainConfig } from '../tls/index.js';
import { PolicyEngine, policyOptionsFromConfig, type PolicyConfigOptions } from '../policy/index.js';
import { readToken } from '../admin/server.js';
import { resolvePath, type LoadedConfig } from './config.js';

export interface CheckResult {
  problems: string[];
  warnings: string[];
  notes: string[];
}

export async function checkConfig(loaded: LoadedConfig): Promise<CheckResult> {
  const { config, baseDir } = loaded;
  const path = (p: string) => resolvePath(baseDir, p);
  const out: CheckResult = { problems: [], warnings: [], notes: [] };
  const devDir = config.dev_pki ? path(config.dev_pki.dir) : undefined;
  const readable = async (f: string) => access(path(f), constants.R_OK).then(() => undefined, (e: NodeJS.ErrnoException) => e.code ?? e.message);

  const domains: Array<['server_domains' | 'client_domains', string, ServerDomainConfig | ClientDomainConfig]> = [
    ...Object.entries(config.server_domains ?? {}).map(([n, c]) => ['server_domains', n, c] as ['server_domains', string, ServerDomainConfig]),
    ...Object.entries(config.client_domains ?? {}).map(([n, c]) => ['client_domains', n, c] as ['client_domains', string, ClientDomainConfig]),
  ];
  for (const [kind, name, cfg] of domains) {
    const at = `/${kind}/${name}`;
    const files: Array<[string, string]> = [];
    if (cfg.cert) files.push([`${at}/cert`, cfg.cert]);
    if (cfg.key) files.push([`${at}/key`, cfg.key]);
    (cfg.ca ?? []).forEach((f, i) => files.push([`${at}/ca/${i}`, f]));
    (cfg.crl ?? []).forEach((f, i) => files.push([`${at}/crl/${i}`, f]));
    if (cfg.cn_map) files.push([`${at}/cn_map`, cfg.cn_map]);
    let missing = false;
    let generated = false;
    for (const [p, f] of files) {
      const err = await readable(f);
      if (!err) continue;
      if (err === 'ENOENT' && devDir && path(f).startsWith(devDir + '/')) {
        generated = true;
        continue;
      }
      out.problems.push(`${p}: cannot read ${f}: ${err}`);
      missing = true;
    }
    if (generated) {
      out.notes.push(`${at}: its files under dev_pki.dir (${config.dev_pki!.dir}) are generated on first start`);
      continue;
    }
    if (missing) continue;
    try {
      if (kind === 'server_domains') await loadServerDomain(name, cfg as ServerDomainConfig, baseDir);
      else await loadClientDomain(name, cfg as ClientDomainConfig, baseDir);
    } catch (e) {
      if (e instanceof TlsConfigError) {
        const p = e.file ? (files.find(([, f]) => path(f) === e.file)?.[0] ?? at) : at;
        out.problems.push(`${p}: ${e.reason}`);
      } else out.problems.push(`${at}: ${(e as Error).message}`);
    }
  }

  const secret = async (p: string, f: string | undefined) => {
    if (f === undefined) return;
    try {
      readToken(path(f));
    } catch (e) {
      out.problems.push(`${p}: ${(e as NodeJS.ErrnoException).code ? `cannot read ${f}: ${(e as NodeJS.ErrnoException).code}` : (e as Error).message}`);
    }
  };
  await secret('/admin/token_file', config.admin?.token_file);
  await secret('/log/upload/token_file', config.log?.upload?.token_file);
  const at = config.admin?.tls;
  if (at) {
    for (const [p, f] of [['/admin/tls/cert', at.cert], ['/admin/tls/key', at.key], ...(at.ca ?? []).map((f, i) => [`/admin/tls/ca/${i}`, f])] as Array<[string, string]>) {
      const err = await readable(f);
      if (err) out.problems.push(`${p}: cannot read ${f}: ${err}`);
    }
  }

  // the policy, compiled exactly as the gateway would
  const p = config.policy;
  const key = p.path !== undefined ? '/policy/path' : p.bundle !== undefined ? '/policy/bundle' : '/policy/url';
  let extras: PolicyConfigOptions;
  try {
    extras = policyOptionsFromConfig(p, path);
  } catch (e) {
    out.problems.push(`/policy: ${(e as Error).message}`);
    return out;
  }
  const engine = new PolicyEngine({
    ...extras,
    source: p.path !== undefined ? { type: 'dir', path: path(p.path), data: (p.data ?? []).map(path) } : p.bundle !== undefined ? { type: 'bundle', path: path(p.bundle) } : { type: 'url', url: p.url!, pollIntervalMs: 3_600_000 },
    entrypoint: p.entrypoint ?? 'sip/decision',
  });
  try {
    const r = await engine.start();
    if (!r.ok) {
      const lines = r.errors.map((e) => `${key}: ${e}`);
      if (p.url !== undefined) out.warnings.push(...lines.map((l) => `${l} (the gateway starts not ready and waits for the first bundle)`));
      else out.problems.push(...lines);
    } else out.notes.push(`${key}: policy ${r.info.revision} compiled (entrypoint ${r.info.entrypoint})`);
  } finally {
    engine.close();
  }
  return out;
}
