// A two-federation test topology for the gateway tests: PKI (federation A, federation B, a rogue
// CA), a copy of the example policy with data for 127.0.0.1 peers, and a gateway config with one
// TLS listener per federation (server certificate chosen by listening socket). Test-only code.
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import { CertificateAuthority, type IssuedCertificate } from '../../tls/pki/index.js';
import { TempDir } from '../../tls/testkit.js';
import { packageRoot, parseConfig, type GatewayConfig, type LoadedConfig } from '../config.js';

export interface Pem {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: TempDir;
  fedACa: string;
  fedBCa: string;
  rogueCa: string;
  gwA: Pem;
  gwB: Pem;
  atlanta: Pem;
  biloxi: Pem;
  rogue: Pem;
  /** PEM text (not file names) for Node TLS peers */
  text: { fedACa: string; fedBCa: string; atlanta: Pem; biloxi: Pem; rogue: Pem };
}

export async function makePki(): Promise<TestPki> {
  const dir = new TempDir();
  const fedA = await CertificateAuthority.createRoot({ subject: 'CN=Federation A Root, O=FedA' });
  const fedB = await CertificateAuthority.createRoot({ subject: 'CN=Federation B Root, O=FedB' });
  const rogue = await CertificateAuthority.createRoot({ subject: 'CN=Rogue Root, O=Nobody' });
  const leaf = (ca: CertificateAuthority, o: string, cn: string, domain: string) =>
    // the peers run on 127.0.0.1: a next hop named by that address is checked against the IP SAN
    ca.issue({ subject: `CN=${cn}, O=${o}`, san: { dns: [cn, domain], uri: [`sip:${domain}`], ip: ['127.0.0.1'] }, usage: 'both' });
  const w = (name: string, c: IssuedCertificate) => dir.writeCert(name, c);
  const atlanta = await leaf(fedA, 'FedA', 'sip.atlanta.example', 'atlanta.example');
  const biloxi = await leaf(fedB, 'FedB', 'sip.biloxi.example', 'biloxi.example');
  const rogueLeaf = await leaf(rogue, 'Nobody', 'sip.rogue.example', 'atlanta.example');
  return {
    dir,
    fedACa: dir.write('fedA-ca.pem', fedA.certPem),
    fedBCa: dir.write('fedB-ca.pem', fedB.certPem),
    rogueCa: dir.write('rogue-ca.pem', rogue.certPem),
    gwA: w('gw-fedA', await leaf(fedA, 'FedA', 'gw.bastion.example', 'bastion.example')),
    gwB: w('gw-fedB', await leaf(fedB, 'FedB', 'gw.bastion.example', 'bastion.example')),
    atlanta: w('atlanta', atlanta),
    biloxi: w('biloxi', biloxi),
    rogue: w('rogue', rogueLeaf),
    text: {
      fedACa: fedA.certPem,
      fedBCa: fedB.certPem,
      atlanta: { cert: atlanta.chainPem, key: atlanta.keyPem },
      biloxi: { cert: biloxi.chainPem, key: biloxi.keyPem },
      rogue: { cert: rogueLeaf.chainPem, key: rogueLeaf.keyPem },
    },
  };
}

/**
 * Copies the example policy modules (not their tests) into `dir` with data for this topology:
 * biloxi.example is routed to `biloxi` (sips:127.0.0.1:port), other domains as `moreHops` say,
 * the scenarios of issue 7 enabled.
 */
export function writeTestPolicy(dir: string, biloxi: { host: string; port: number }, moreHops: Record<string, string> = {}): string {
  const src = join(packageRoot(), 'policies', 'sip');
  const dst = join(dir, 'sip');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dst, { recursive: true });
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) {
        if (f !== 'testing') walk(p);
      } else if (f.endsWith('.rego') && !f.endsWith('_test.rego')) {
        const out = join(dst, relative(src, p));
        mkdirSync(join(out, '..'), { recursive: true });
        cpSync(p, out);
      }
    }
  };
  walk(src);
  const data = {
    config: {
      scenarios: ['federation', 'hosted', 'trusted_call', 'from_binding', 'unverified', 'routing'],
      enterprise: { trusted_anchors: [], reject_reason: 'Certificate Not Trusted' },
      federation: {
        federations: { fedA: { anchor: 'CN=Federation A Root,O=FedA' }, fedB: { anchor: 'CN=Federation B Root,O=FedB' } },
        client_domains: { 'atlanta.example': 'fedA', 'biloxi.example': 'fedB' },
      },
      bilateral: { partners: {} },
      hosted: { domains: ['atlanta.example', 'biloxi.example', 'chicago.example'], address_domains: {} },
      trusted_call: {
        trusted_anchors: ['CN=Federation A Root,O=FedA'],
        tags: { generic: '<http://ring.example/trusted.wav>' },
        phones: {},
        default_phone_type: 'generic',
      },
      cn_access: { allowed_cns: [], unverified: { status: 401, reason: 'Verified Certificate Required' }, admin: { name: '', sha256: '', methods: [] } },
      from_binding: { trusted_proxies: [], email_san_is_sip_identity: false },
      unverified: { anonymous_methods: ['OPTIONS'] },
      routing: { next_hops: { 'biloxi.example': `sips:${biloxi.host}:${biloxi.port}`, ...moreHops } },
    },
  };
  writeFileSync(join(dir, 'data.yaml'), YAML.stringify(data));
  return dir;
}

/** The gateway config of the topology (listeners on ephemeral ports). */
export function topologyConfig(pki: TestPki, policyDir: string, destinations: { fedA?: string[]; fedB?: string[] } = {}, extra: Partial<GatewayConfig> = {}): LoadedConfig {
  const cfg: GatewayConfig = {
    listen: [
      { transport: 'tls', address: '127.0.0.1', port: 0, server_domain: 'fedA' },
      { transport: 'tls', address: '127.0.0.1', port: 0, server_domain: 'fedB' },
      { transport: 'udp', address: '127.0.0.1', port: 0 },
      { transport: 'tcp', address: '127.0.0.1', port: 0 },
    ],
    server_domains: {
      fedA: { cert: pki.gwA.cert, key: pki.gwA.key, ca: [pki.fedACa], verify: true, require: true },
      fedB: { cert: pki.gwB.cert, key: pki.gwB.key, ca: [pki.fedBCa], verify: true, require: true },
    },
    client_domains: {
      fedA: { cert: pki.gwA.cert, key: pki.gwA.key, ca: [pki.fedACa], destinations: destinations.fedA ?? [] },
      fedB: { cert: pki.gwB.cert, key: pki.gwB.key, ca: [pki.fedBCa], destinations: destinations.fedB ?? [] },
    },
    // the budget is wall-clock time checked after the evaluation: on a loaded test machine a
    // descheduled evaluation would exceed 100 ms and the message (an ACK, say) be dropped
    policy: { path: policyDir, eval_timeout_ms: 10_000 },
    proxy: { local_names: ['gw.bastion.example'] },
    limits: { partial_message_timeout_ms: 400 },
    log: { level: 'info', decisions: true },
    ...extra,
  };
  return parseConfig(JSON.stringify(cfg), 'test-config', pki.dir.path);
}
