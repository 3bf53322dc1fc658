// The differential test's chains: real keys, certificates written field by field (pki/raw.ts),
// one group per verifier feature, valid and invalid cases, some with several errors at once so the
// order of reporting is compared too. Keys are shared between cases (P-256, generated once);
// each certificate role within a case has its own key where key identifiers matter.
import { rawKey, rawCertificate, rawCrl, keyId, ext, EKU, type RawKey, type RawCert, type RawExtension, type RawGeneralName, type RawAttr, type KU_BITS } from '../../pki/index.js';

export type Feature =
  | 'trust anchors'
  | 'basicConstraints / pathLen'
  | 'name constraints'
  | 'critical extensions'
  | 'key usage / EKU'
  | 'validity'
  | 'verify depth'
  | 'CRLs'
  | 'AKI / SKI'
  | 'expected name'
  | 'key and digest strength'
  | 'signatures'
  | 'several errors';

export interface Case {
  id: string;
  feature: Feature;
  title: string;
  /** What the peer presents: its certificate first, then the others it sends. */
  presented: RawCert[];
  /** The domain's CA list, in order. */
  ca: RawCert[];
  crls?: string[];
  /** How the CRLs cover the chain, for the OpenSSL references: every certificate's issuer ('all') or the peer's only ('leaf'). */
  crlMode?: 'all' | 'leaf';
  partial?: boolean;
  /** verify_depth of the domain (default 9). */
  depth?: number;
  /** Client role: the name the server must prove (SIP domain or IP). */
  expected?: string;
  allowWildcard?: boolean;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type KuName = keyof typeof KU_BITS;
type Validity = 'valid' | 'expired' | 'notyet' | { nb: Date; na: Date };

export interface Spec {
  subject: string | RawAttr[];
  key: RawKey;
  issuer?: Node;
  validity?: Validity;
  /** A CA certificate (default: a leaf). */
  ca?: boolean;
  pathlen?: number;
  /** basicConstraints: default CA true / false critical; 'absent', 'notca' (CA:false on a CA), 'noncritical'. */
  bc?: 'absent' | 'notca' | 'noncritical';
  ku?: KuName[] | false;
  eku?: string[] | false;
  san?: RawGeneralName[] | false;
  nc?: Parameters<typeof ext.nameConstraints>[0];
  /** Authority key identifier: default the issuer's key id (none for self-issued); false: none. */
  aki?: false | Parameters<typeof ext.authorityKeyId>[0];
  ski?: false | Uint8Array;
  extra?: RawExtension[];
  critical?: ('aki' | 'ski' | 'san' | 'eku')[];
  hash?: 'sha1' | 'sha256' | 'sha384';
  version?: 0 | 2;
  serial?: number;
  /** Signed by this key instead of the issuer's (a forged or broken signature). */
  signer?: RawKey;
}

export interface Node {
  cert: RawCert;
  spec: Spec;
  subject: string | RawAttr[];
  key: RawKey;
  serial: number;
}

let serialCounter = 1000;

export class CaseBuilder {
  private readonly keys = new Map<string, RawKey>();
  readonly now = Date.now();
  readonly cases: Case[] = [];

  key(name: string, kind: Parameters<typeof rawKey>[0] = 'ec'): RawKey {
    let k = this.keys.get(`${kind}:${name}`);
    if (!k) {
      k = rawKey(kind);
      this.keys.set(`${kind}:${name}`, k);
    }
    return k;
  }

  window(v: Validity = 'valid'): { nb: Date; na: Date } {
    if (typeof v === 'object') return v;
    if (v === 'expired') return { nb: new Date(this.now - 30 * DAY), na: new Date(this.now - DAY) };
    if (v === 'notyet') return { nb: new Date(this.now + DAY), na: new Date(this.now + 30 * DAY) };
    return { nb: new Date(this.now - HOUR), na: new Date(this.now + 30 * DAY) };
  }

  mk(s: Spec): Node {
    const issuer = s.issuer;
    const selfIssued = !issuer;
    const exts: RawExtension[] = [];
    const crit = (n: 'aki' | 'ski' | 'san' | 'eku') => s.critical?.includes(n) ?? false;
    if (s.ca) {
      if (s.bc !== 'absent') exts.push(ext.basicConstraints({ ca: s.bc !== 'notca', pathlen: s.pathlen }, s.bc !== 'noncritical'));
      if (s.ku !== false) exts.push(ext.keyUsage(s.ku ?? ['keyCertSign', 'cRLSign']));
      if (s.eku) exts.push(ext.extKeyUsage(s.eku, crit('eku')));
    } else {
      if (s.bc !== 'absent') exts.push(ext.basicConstraints({ ca: false, pathlen: s.pathlen }, s.bc !== 'noncritical'));
      if (s.ku !== false) exts.push(ext.keyUsage(s.ku ?? (s.key.kind.startsWith('rsa') ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'])));
      if (s.eku !== false) exts.push(ext.extKeyUsage(s.eku ?? [EKU.serverAuth, EKU.clientAuth], crit('eku')));
    }
    if (s.san) exts.push(ext.subjectAltName(s.san, crit('san')));
    if (s.nc) exts.push(ext.nameConstraints(s.nc));
    if (s.ski !== false) exts.push(ext.subjectKeyId(s.ski ?? keyId(s.key), crit('ski')));
    if (s.aki !== false && (issuer || s.aki)) exts.push(ext.authorityKeyId(s.aki ?? { keyid: keyId(issuer!.key) }, crit('aki')));
    exts.push(...(s.extra ?? []));
    const w = this.window(s.validity);
    const serial = s.serial ?? serialCounter++;
    const cert = rawCertificate({
      subject: s.subject,
      issuer: issuer ? issuer.subject : s.subject,
      key: s.key,
      signer: s.signer ?? (issuer ? issuer.key : s.key),
      serial,
      notBefore: w.nb,
      notAfter: w.na,
      extensions: s.version === 0 ? [] : exts,
      version: s.version,
      hash: s.hash,
    });
    void selfIssued;
    return { cert, spec: s, subject: s.subject, key: s.key, serial };
  }

  /** A self-signed root CA. */
  root(subject: string, keyName: string, more: Partial<Spec> = {}): Node {
    return this.mk({ subject, key: this.key(keyName), ca: true, ...more });
  }

  /** An intermediate CA. */
  inter(issuer: Node, subject: string, keyName: string, more: Partial<Spec> = {}): Node {
    return this.mk({ subject, key: this.key(keyName), issuer, ca: true, ...more });
  }

  /** A leaf with a DNS SAN (defaults: both EKUs, digitalSignature). */
  leaf(issuer: Node | undefined, subject: string, more: Partial<Spec> = {}): Node {
    const cn = /CN=([^,]+)/.exec(subject)?.[1] ?? 'peer.example';
    return this.mk({ subject, key: this.key('leaf'), issuer, san: [{ dns: cn }], ...more });
  }

  crl(issuer: Node, o: { revoked?: (Node | { serial: number; reason?: number })[]; thisUpdate?: Date; nextUpdate?: Date | null; extensions?: RawExtension[]; akid?: boolean; signer?: RawKey } = {}): string {
    const thisUpdate = o.thisUpdate ?? new Date(this.now - HOUR);
    return rawCrl({
      issuer: issuer.subject,
      signer: o.signer ?? issuer.key,
      thisUpdate,
      nextUpdate: o.nextUpdate === null ? undefined : (o.nextUpdate ?? new Date(this.now + 7 * DAY)),
      revoked: (o.revoked ?? []).map((r) => ('cert' in r ? { serial: r.serial } : r)),
      extensions: [...(o.akid === false ? [] : [ext.authorityKeyId({ keyid: keyId(issuer.key) })]), ...(o.extensions ?? [])],
    }).pem;
  }

  add(feature: Feature, title: string, c: Omit<Case, 'id' | 'feature' | 'title' | 'presented' | 'ca'> & { presented: Node[]; ca: Node[] }): void {
    this.cases.push({ ...c, id: `c${this.cases.length}`, feature, title, presented: c.presented.map((n) => n.cert), ca: c.ca.map((n) => n.cert) });
  }
}

export function buildCases(): Case[] {
  const b = new CaseBuilder();
  anchors(b);
  basicConstraints(b);
  nameConstraints(b);
  criticalExtensions(b);
  purposes(b);
  validity(b);
  depth(b);
  crls(b);
  keyIds(b);
  expectedNames(b);
  strength(b);
  signatures(b);
  severalErrors(b);
  return b.cases;
}

function anchors(b: CaseBuilder): void {
  const F = 'trust anchors';
  const root = b.root('CN=Anchor Root, O=Anchors', 'root');
  const inter = b.inter(root, 'CN=Anchor Issuing, O=Anchors', 'inter');
  const inter2 = b.inter(inter, 'CN=Anchor Issuing 2, O=Anchors', 'inter2');
  const other = b.root('CN=Other Root', 'other');
  const direct = b.leaf(root, 'CN=direct.anchor.example');
  const viaInter = b.leaf(inter, 'CN=inter.anchor.example');
  const viaTwo = b.leaf(inter2, 'CN=two.anchor.example');
  const selfLeaf = b.mk({ subject: 'CN=self.anchor.example', key: b.key('leaf'), san: [{ dns: 'self.anchor.example' }] });
  const unknown = b.leaf(other, 'CN=unknown.anchor.example');
  for (const partial of [false, true]) {
    const p = partial ? ' (partial chains)' : '';
    b.add(F, `leaf issued by a trusted root${p}`, { presented: [direct], ca: [root], partial });
    b.add(F, `intermediate sent by the peer, root trusted${p}`, { presented: [viaInter, inter], ca: [root], partial });
    b.add(F, `intermediate not sent, root trusted${p}`, { presented: [viaInter], ca: [root], partial });
    b.add(F, `only the intermediate trusted, peer sends it${p}`, { presented: [viaInter, inter], ca: [inter], partial });
    b.add(F, `only the intermediate trusted, peer sends nothing${p}`, { presented: [viaInter], ca: [inter], partial });
    b.add(F, `the peer's own certificate trusted${p}`, { presented: [viaInter], ca: [viaInter], partial });
    b.add(F, `two intermediates sent, root trusted${p}`, { presented: [viaTwo, inter2, inter], ca: [root], partial });
    b.add(F, `two intermediates, only the lower sent${p}`, { presented: [viaTwo, inter2], ca: [root], partial });
    b.add(F, `lower intermediate trusted, upper sent${p}`, { presented: [viaTwo, inter], ca: [inter2], partial });
    b.add(F, `peer sends its root, root trusted${p}`, { presented: [viaInter, inter, root], ca: [root], partial });
    b.add(F, `peer sends a root nobody trusts${p}`, { presented: [viaInter, inter, root], ca: [other], partial });
    b.add(F, `self-signed peer, trusted${p}`, { presented: [selfLeaf], ca: [selfLeaf], partial });
    b.add(F, `self-signed peer, not trusted${p}`, { presented: [selfLeaf], ca: [root], partial });
    b.add(F, `unknown CA${p}`, { presented: [unknown], ca: [root], partial });
    b.add(F, `empty CA list${p}`, { presented: [viaInter, inter], ca: [], partial });
  }
  // A self-signed look-alike of the trust anchor (same name, another key).
  const mimic = b.root('CN=Anchor Root, O=Anchors', 'mimic');
  const byMimic = b.leaf(mimic, 'CN=mimic.anchor.example');
  b.add(F, 'peer sends a self-signed look-alike of the trusted root', { presented: [byMimic, mimic], ca: [root] });
  // OpenSSL compares names in canonical form: case, spaces and string types do not matter.
  const canonRoot = b.root('', 'root2', { subject: [['C', 'US', 0x13], ['O', 'Canonical  Org', 0x13], ['CN', 'Canon Root', 0x13]] });
  const canonLeaf = b.mk({ subject: 'CN=canon.anchor.example', key: b.key('leaf'), issuer: { ...canonRoot, subject: [['C', 'us', 0x0c], ['O', ' canonical org ', 0x0c], ['CN', 'CANON ROOT', 0x0c]] }, san: [{ dns: 'canon.anchor.example' }] });
  b.add(F, 'issuer name equal to the root only in canonical form', { presented: [canonLeaf], ca: [canonRoot] });
  const v1Root = b.mk({ subject: 'CN=V1 Root', key: b.key('v1'), ca: true, version: 0 });
  b.add(F, 'a version 1 self-signed root', { presented: [b.leaf(v1Root, 'CN=v1.anchor.example', { aki: false })], ca: [v1Root] });
}

function basicConstraints(b: CaseBuilder): void {
  const F = 'basicConstraints / pathLen';
  const root = b.root('CN=BC Root', 'root');
  const cases: [string, Partial<Spec>][] = [
    ['intermediate without basicConstraints, keyCertSign', { bc: 'absent' }],
    ['intermediate without basicConstraints or key usage', { bc: 'absent', ku: false }],
    ['intermediate with CA:false', { bc: 'notca' }],
    ['intermediate CA whose key usage lacks keyCertSign', { ku: ['cRLSign', 'digitalSignature'] }],
    ['intermediate with non-critical basicConstraints', { bc: 'noncritical' }],
    ['intermediate with pathLen 0, leaf below', { pathlen: 0 }],
  ];
  for (const [title, more] of cases) {
    const inter = b.inter(root, `CN=BC ${safe(title)}`, 'inter', more);
    b.add(F, title, { presented: [b.leaf(inter, 'CN=bc.example'), inter], ca: [root] });
  }
  const p0 = b.inter(root, 'CN=BC PathLen0', 'inter', { pathlen: 0 });
  const under = b.inter(p0, 'CN=BC Under PathLen0', 'inter2');
  b.add(F, 'pathLen 0 intermediate with a CA below it', { presented: [b.leaf(under, 'CN=deep.bc.example'), under, p0], ca: [root] });
  for (const [pl, n] of [[0, 1], [1, 1], [1, 2], [2, 2]] as const) {
    const r = b.root(`CN=BC Root pathLen ${pl}`, 'root2', { pathlen: pl });
    const chain: Node[] = [];
    let issuer = r;
    for (let i = 0; i < n; i++) {
      issuer = b.inter(issuer, `CN=BC pl${pl} level ${i + 1}`, `i${i}`);
      chain.unshift(issuer);
    }
    b.add(F, `root pathLen ${pl} with ${n} intermediate(s)`, { presented: [b.leaf(issuer, 'CN=pl.bc.example'), ...chain], ca: [r] });
  }
  // A self-issued intermediate (key rollover) does not count against pathLen.
  const rp = b.root('CN=BC Rollover Root', 'root3', { pathlen: 0 });
  const rollover = b.inter(rp, 'CN=BC Rollover Root', 'rollover');
  b.add(F, 'self-issued intermediate under pathLen 0', { presented: [b.leaf(rollover, 'CN=roll.bc.example'), rollover], ca: [rp] });
  const noBcRoot = b.root('CN=BC Root without BC', 'root4', { bc: 'absent' });
  b.add(F, 'trusted root without basicConstraints (keyCertSign)', { presented: [b.leaf(noBcRoot, 'CN=nobc.bc.example')], ca: [noBcRoot] });
  const noBcNoKu = b.root('CN=BC Root without BC or KU', 'root5', { bc: 'absent', ku: false });
  b.add(F, 'trusted root without basicConstraints or key usage', { presented: [b.leaf(noBcNoKu, 'CN=nobcku.bc.example')], ca: [noBcNoKu] });
  b.add(F, 'a CA certificate as the peer certificate', { presented: [b.mk({ subject: 'CN=ca-leaf.bc.example', key: b.key('leaf'), issuer: root, ca: true, san: [{ dns: 'ca-leaf.bc.example' }], ku: ['digitalSignature', 'keyCertSign'] })], ca: [root] });
  b.add(F, 'pathLen on a leaf (ignored outside strict mode)', { presented: [b.leaf(root, 'CN=leafpl.bc.example', { pathlen: 3 })], ca: [root] });
}

function nameConstraints(b: CaseBuilder): void {
  const F = 'name constraints';
  let n = 0;
  const one = (title: string, nc: Spec['nc'], leaf: Partial<Spec> & { subject?: string }, where: 'inter' | 'root' = 'inter') => {
    n++;
    const root = b.root(`CN=NC Root ${n}`, 'root', where === 'root' ? { nc } : {});
    const inter = b.inter(root, `CN=NC Issuing ${n}, O=NC`, 'inter', where === 'inter' ? { nc } : {});
    const l = b.mk({ subject: leaf.subject ?? 'CN=peer', key: b.key('leaf'), issuer: inter, san: [{ dns: 'host.example.com' }], ...leaf });
    b.add(F, title, { presented: [l, inter], ca: [root] });
  };
  // DNS
  one('DNS permitted .example.com, SAN host.example.com', { permitted: [{ dns: '.example.com' }] }, {});
  one('DNS permitted .example.com, SAN host.other.org', { permitted: [{ dns: '.example.com' }] }, { san: [{ dns: 'host.other.org' }] });
  one('DNS permitted example.com, SAN deep.sub.example.com', { permitted: [{ dns: 'example.com' }] }, { san: [{ dns: 'deep.sub.example.com' }] });
  one('DNS permitted example.com, SAN badexample.com', { permitted: [{ dns: 'example.com' }] }, { san: [{ dns: 'badexample.com' }] });
  one('DNS excluded bad.example.com, SAN x.bad.example.com', { excluded: [{ dns: 'bad.example.com' }] }, { san: [{ dns: 'x.bad.example.com' }] });
  one('DNS excluded bad.example.com, SAN good.example.com', { excluded: [{ dns: 'bad.example.com' }] }, { san: [{ dns: 'good.example.com' }] });
  one('DNS permitted and excluded, SAN in both', { permitted: [{ dns: 'example.com' }], excluded: [{ dns: 'lab.example.com' }] }, { san: [{ dns: 'pc.lab.example.com' }] });
  one('DNS case-insensitive match', { permitted: [{ dns: 'EXAMPLE.com' }] }, { san: [{ dns: 'host.Example.COM' }] });
  one('DNS constraint on the root', { permitted: [{ dns: '.example.com' }] }, { san: [{ dns: 'host.other.org' }] }, 'root');
  one('two DNS SANs, one outside', { permitted: [{ dns: '.example.com' }] }, { san: [{ dns: 'a.example.com' }, { dns: 'b.example.net' }] });
  // CN checked as a DNS name when there is no DNS SAN
  one('no DNS SAN, CN host.other.org vs DNS permitted', { permitted: [{ dns: '.example.com' }] }, { subject: 'CN=host.other.org', san: false });
  one('no DNS SAN, CN not a host name', { permitted: [{ dns: '.example.com' }] }, { subject: 'CN=Alice Smith', san: false });
  one('no DNS SAN, CN inside DNS permitted', { permitted: [{ dns: '.example.com' }] }, { subject: 'CN=pbx.example.com', san: [{ uri: 'sip:pbx.example.com' }] });
  // IP
  one('IP permitted 10.0.0.0/8, SAN 10.1.2.3', { permitted: [{ ip: '10.0.0.0/8' }] }, { san: [{ ip: '10.1.2.3' }] });
  one('IP permitted 10.0.0.0/8, SAN 192.0.2.1', { permitted: [{ ip: '10.0.0.0/8' }] }, { san: [{ ip: '192.0.2.1' }] });
  one('IP excluded 192.0.2.0/24, SAN 192.0.2.9', { excluded: [{ ip: '192.0.2.0/24' }] }, { san: [{ ip: '192.0.2.9' }] });
  one('IPv6 permitted 2001:db8::/32, SAN 2001:db8::5', { permitted: [{ ip: '2001:db8::/32' }] }, { san: [{ ip: '2001:db8::5' }] });
  one('IPv6-only permitted, IPv4 SAN', { permitted: [{ ip: '2001:db8::/32' }] }, { san: [{ ip: '10.0.0.1' }] });
  one('IP constraint, DNS-only SAN', { permitted: [{ ip: '10.0.0.0/8' }] }, {});
  // email: SANs and the subject's emailAddress
  one('email permitted example.com, SAN a@example.com', { permitted: [{ email: 'example.com' }] }, { san: [{ email: 'a@example.com' }] });
  one('email permitted example.com, SAN a@sub.example.com', { permitted: [{ email: 'example.com' }] }, { san: [{ email: 'a@sub.example.com' }] });
  one('email permitted .example.com, SAN a@sub.example.com', { permitted: [{ email: '.example.com' }] }, { san: [{ email: 'a@sub.example.com' }] });
  one('email permitted one mailbox, SAN another', { permitted: [{ email: 'boss@example.com' }] }, { san: [{ email: 'intern@example.com' }] });
  one('email excluded example.org, subject emailAddress', { excluded: [{ email: 'example.org' }] }, { subject: 'CN=peer, E=ops@example.org' });
  one('email permitted, subject emailAddress inside', { permitted: [{ email: 'example.com' }] }, { subject: 'CN=peer, E=ops@example.com' });
  one('email constraint, SmtpUTF8Mailbox SAN inside', { permitted: [{ email: 'example.com' }] }, { san: [{ other: '1.3.6.1.5.5.7.8.9', utf8: 'jörg@example.com' }] });
  // directoryName
  one('DirName permitted O=NC, subject under it', { permitted: [{ dir: 'O=NC' }] }, { subject: 'CN=peer, O=NC' });
  one('DirName permitted O=NC, subject elsewhere', { permitted: [{ dir: 'O=NC' }] }, { subject: 'CN=peer, O=Elsewhere' });
  one('DirName excluded O=Bad', { excluded: [{ dir: 'O=Bad' }] }, { subject: 'CN=peer, O=Bad' });
  one('DirName constraint applies to the intermediate too', { permitted: [{ dir: 'O=Elsewhere' }] }, { subject: 'CN=peer, O=Elsewhere' }, 'root');
  // URI (a sip: URI has no //authority, which OpenSSL cannot match)
  one('URI permitted .example.com, https URI inside', { permitted: [{ uri: '.example.com' }] }, { san: [{ uri: 'https://host.example.com/x' }] });
  one('URI permitted .example.com, sip: URI', { permitted: [{ uri: '.example.com' }] }, { san: [{ uri: 'sip:alice@example.com' }] });
  // minimum / maximum, unsupported types
  one('subtree with a maximum', { permitted: [{ dns: '.example.com', max: 2 }] }, {});
  one('subtree with minimum 0 (allowed)', { permitted: [{ dns: '.example.com', min: 0 }] }, {});
  one('registeredID constraint and SAN', { permitted: [{ rid: '1.2.3.4' }] }, { san: [{ dns: 'host.example.com' }, { rid: '1.2.3.4' }] });
}

function criticalExtensions(b: CaseBuilder): void {
  const F = 'critical extensions';
  const root = b.root('CN=Crit Root', 'root');
  const unknownCrit = ext.unknown('1.3.6.1.4.1.55555.1.1', true);
  const unknownPlain = ext.unknown('1.3.6.1.4.1.55555.1.2', false);
  const aia: RawExtension = { oid: '1.3.6.1.5.5.7.1.1', critical: true, value: new Uint8Array([0x30, 0x00]) };
  const policies: RawExtension = { oid: '2.5.29.32', critical: true, value: new Uint8Array([0x30, 0x06, 0x30, 0x04, 0x06, 0x02, 0x2a, 0x03]) };
  const items: [string, Partial<Spec>, 'leaf' | 'inter' | 'root'][] = [
    ['unknown critical extension on the peer', { extra: [unknownCrit] }, 'leaf'],
    ['unknown non-critical extension on the peer', { extra: [unknownPlain] }, 'leaf'],
    ['unknown critical extension on the intermediate', { extra: [unknownCrit] }, 'inter'],
    ['unknown critical extension on the trusted root', { extra: [unknownCrit] }, 'root'],
    ['critical authority key identifier (not handled by OpenSSL)', { critical: ['aki'] }, 'leaf'],
    ['critical subject key identifier (not handled by OpenSSL)', { critical: ['ski'] }, 'leaf'],
    ['critical authority information access', { extra: [aia] }, 'leaf'],
    ['critical certificate policies (handled)', { extra: [policies] }, 'leaf'],
    ['critical subject alternative name (handled)', { critical: ['san'] }, 'leaf'],
    ['critical extended key usage (handled)', { critical: ['eku'] }, 'leaf'],
  ];
  for (const [title, more, where] of items) {
    const r = where === 'root' ? b.root(`CN=Crit Root ${safe(title)}`, 'root2', more) : root;
    const inter = b.inter(r, `CN=Crit Issuing ${safe(title)}`, 'inter', where === 'inter' ? more : {});
    b.add(F, title, { presented: [b.leaf(inter, 'CN=crit.example', where === 'leaf' ? more : {}), inter], ca: [r] });
  }
}

function purposes(b: CaseBuilder): void {
  const F = 'key usage / EKU';
  const root = b.root('CN=Purpose Root', 'root');
  const leafs: [string, Partial<Spec>][] = [
    ['EKU serverAuth and clientAuth', {}],
    ['EKU serverAuth only', { eku: [EKU.serverAuth] }],
    ['EKU clientAuth only', { eku: [EKU.clientAuth] }],
    ['no EKU', { eku: false }],
    ['EKU anyExtendedKeyUsage only', { eku: [EKU.anyExtendedKeyUsage] }],
    ['EKU codeSigning only', { eku: [EKU.codeSigning] }],
    ['EKU Netscape SGC (a server usage)', { eku: [EKU.nsSgc] }],
    ['EKU sipDomain and clientAuth', { eku: [EKU.sipDomain, EKU.clientAuth] }],
    ['key usage keyAgreement only', { ku: ['keyAgreement'] }],
    ['key usage keyEncipherment only', { ku: ['keyEncipherment'] }],
    ['key usage keyCertSign only', { ku: ['keyCertSign'] }],
    ['key usage digitalSignature and nonRepudiation', { ku: ['digitalSignature', 'nonRepudiation'] }],
    ['no key usage', { ku: false }],
  ];
  for (const [title, more] of leafs) b.add(F, title, { presented: [b.leaf(root, 'CN=purpose.example', more)], ca: [root] });
  const inters: [string, Partial<Spec>][] = [
    ['intermediate with EKU serverAuth only', { eku: [EKU.serverAuth] }],
    ['intermediate with EKU clientAuth only', { eku: [EKU.clientAuth] }],
    ['intermediate with EKU anyExtendedKeyUsage', { eku: [EKU.anyExtendedKeyUsage] }],
  ];
  for (const [title, more] of inters) {
    const inter = b.inter(root, `CN=Purpose ${safe(title)}`, 'inter', more);
    b.add(F, title, { presented: [b.leaf(inter, 'CN=purpose.example'), inter], ca: [root] });
  }
  const ekuRoot = b.root('CN=Purpose Root serverAuth only', 'root2', { eku: [EKU.serverAuth] });
  b.add(F, 'trusted root with EKU serverAuth only', { presented: [b.leaf(ekuRoot, 'CN=purpose.example')], ca: [ekuRoot] });
  const nsCert: RawExtension = { oid: '2.16.840.1.113730.1.1', value: new Uint8Array([0x03, 0x02, 0x06, 0x40]) }; // sslServer only
  b.add(F, 'Netscape cert type sslServer only', { presented: [b.leaf(root, 'CN=ns.purpose.example', { extra: [nsCert] })], ca: [root] });
}

function validity(b: CaseBuilder): void {
  const F = 'validity';
  const mkChain = (title: string, l: Validity, i: Validity, r: Validity, partial = false) => {
    const root = b.root(`CN=Validity Root ${safe(title)}`, 'root', { validity: r });
    const inter = b.inter(root, `CN=Validity Issuing ${safe(title)}`, 'inter', { validity: i });
    b.add(F, title, { presented: [b.leaf(inter, 'CN=time.example', { validity: l }), inter], ca: partial ? [inter] : [root], partial });
  };
  mkChain('all valid', 'valid', 'valid', 'valid');
  mkChain('peer expired', 'expired', 'valid', 'valid');
  mkChain('peer not yet valid', 'notyet', 'valid', 'valid');
  mkChain('intermediate expired', 'valid', 'expired', 'valid');
  mkChain('intermediate not yet valid', 'valid', 'notyet', 'valid');
  mkChain('trusted root expired', 'valid', 'valid', 'expired');
  mkChain('trusted root not yet valid', 'valid', 'valid', 'notyet');
  mkChain('everything expired', 'expired', 'expired', 'expired');
  mkChain('partial-chain anchor expired', 'valid', 'expired', 'valid', true);
  mkChain('peer expired, anchor not yet valid', 'expired', 'valid', 'notyet');
  // Two trusted roots with one name and key: the time-valid one is chosen.
  const key = 'twin';
  const oldRoot = b.root('CN=Validity Twin Root', key, { validity: 'expired', serial: 1 });
  const newRoot = b.root('CN=Validity Twin Root', key, { serial: 2 });
  const twinLeaf = b.leaf(newRoot, 'CN=twin.time.example');
  b.add(F, 'expired and renewed root, expired one listed first', { presented: [twinLeaf], ca: [oldRoot, newRoot] });
  b.add(F, 'only the expired copy of the root trusted', { presented: [twinLeaf], ca: [oldRoot] });
  const oldInter = b.inter(newRoot, 'CN=Validity Twin Issuing', 'tinter', { validity: 'expired', serial: 3 });
  const newInter = b.inter(newRoot, 'CN=Validity Twin Issuing', 'tinter', { serial: 4 });
  const l2 = b.leaf(newInter, 'CN=twin2.time.example');
  b.add(F, 'peer sends an expired and a valid copy of its intermediate', { presented: [l2, oldInter, newInter], ca: [newRoot] });
}

function depth(b: CaseBuilder): void {
  const F = 'verify depth';
  const root = b.root('CN=Depth Root', 'root');
  const i1 = b.inter(root, 'CN=Depth 1', 'i0');
  const i2 = b.inter(i1, 'CN=Depth 2', 'i1');
  const i3 = b.inter(i2, 'CN=Depth 3', 'i2');
  const chains: [number, Node[]][] = [
    [0, []],
    [1, [i1]],
    [2, [i2, i1]],
    [3, [i3, i2, i1]],
  ];
  for (const [n, inters] of chains) {
    const leaf = b.leaf(inters[0] ?? root, `CN=d${n}.depth.example`);
    for (const d of [0, 1, 2]) b.add(F, `${n} intermediate(s), verify_depth ${d}`, { presented: [leaf, ...inters], ca: [root], depth: d });
  }
  b.add(F, '2 intermediates, the upper trusted (partial), verify_depth 1', { presented: [b.leaf(i2, 'CN=p.depth.example'), i2], ca: [i1], partial: true, depth: 1 });
}

function crls(b: CaseBuilder): void {
  const F = 'CRLs';
  const root = b.root('CN=CRL Root', 'root');
  const inter = b.inter(root, 'CN=CRL Issuing', 'inter');
  const good = b.leaf(inter, 'CN=good.crl.example');
  const bad = b.leaf(inter, 'CN=revoked.crl.example');
  const rootCrl = b.crl(root);
  const interCrl = (o: Parameters<CaseBuilder['crl']>[1] = {}) => b.crl(inter, o);
  const all = (title: string, leaf: Node, ic: string, rc = rootCrl) => b.add(F, title, { presented: [leaf, inter], ca: [root], crls: [ic, rc], crlMode: 'all' });
  all('not revoked', good, interCrl({ revoked: [bad] }));
  all('peer revoked', bad, interCrl({ revoked: [bad] }));
  all('peer listed with reason removeFromCRL', bad, interCrl({ revoked: [{ serial: bad.serial, reason: 8 }] }));
  all('intermediate revoked by the root', good, interCrl(), b.crl(root, { revoked: [inter] }));
  all('CRL expired', good, interCrl({ thisUpdate: new Date(b.now - 10 * DAY), nextUpdate: new Date(b.now - DAY) }));
  all('CRL expired, peer revoked', bad, interCrl({ revoked: [bad], thisUpdate: new Date(b.now - 10 * DAY), nextUpdate: new Date(b.now - DAY) }));
  all('CRL not yet valid', good, interCrl({ thisUpdate: new Date(b.now + DAY), nextUpdate: new Date(b.now + 8 * DAY) }));
  all('CRL without nextUpdate', good, interCrl({ nextUpdate: null }));
  all('CRL with an unknown critical extension', good, interCrl({ extensions: [ext.unknown('1.3.6.1.4.1.55555.2.1', true)] }));
  all('CRL without authority key identifier', bad, interCrl({ revoked: [bad], akid: false }));
  all('two CRLs, the newer lists the peer', bad, interCrl({ thisUpdate: new Date(b.now - 2 * HOUR) }) + interCrl({ revoked: [bad], thisUpdate: new Date(b.now - HOUR) }));
  const idp = (flags: Uint8Array): RawExtension => ({ oid: '2.5.29.28', critical: true, value: flags });
  all('CRL for CA certificates only (IDP), peer out of scope', good, interCrl({ extensions: [idp(new Uint8Array([0x30, 0x03, 0x82, 0x01, 0xff]))] }));
  all('CRL for user certificates only (IDP)', bad, interCrl({ revoked: [bad], extensions: [idp(new Uint8Array([0x30, 0x03, 0x81, 0x01, 0xff]))] }));
  const noCrlSign = b.inter(root, 'CN=CRL Issuing without cRLSign', 'inter2', { ku: ['keyCertSign'] });
  const ncsLeaf = b.leaf(noCrlSign, 'CN=ncs.crl.example');
  b.add(F, 'CRL issuer whose key usage lacks cRLSign', { presented: [ncsLeaf, noCrlSign], ca: [root], crls: [b.crl(noCrlSign), rootCrl], crlMode: 'all' });
  // Only the peer's issuer has a CRL: the peer is checked, the intermediate is not.
  const leafOnly = (title: string, leaf: Node, ic: string) => b.add(F, title, { presented: [leaf, inter], ca: [root], crls: [ic], crlMode: 'leaf' });
  leafOnly('only the issuing CA has a CRL, peer revoked', bad, interCrl({ revoked: [bad] }));
  leafOnly('only the issuing CA has a CRL, peer good', good, interCrl({ revoked: [bad] }));
  leafOnly('only the issuing CA has a CRL, expired', good, interCrl({ thisUpdate: new Date(b.now - 10 * DAY), nextUpdate: new Date(b.now - DAY) }));
  // A direct leaf under the root with the root's CRL listing it
  const direct = b.leaf(root, 'CN=direct.crl.example');
  b.add(F, 'peer issued by the root, revoked', { presented: [direct], ca: [root], crls: [b.crl(root, { revoked: [direct] })], crlMode: 'all' });
}

function keyIds(b: CaseBuilder): void {
  const F = 'AKI / SKI';
  const a = b.root('CN=Twin CA', 'twinA');
  const bb = b.root('CN=Twin CA', 'twinB');
  const withAki = b.leaf(bb, 'CN=aki.example');
  const noAki = b.leaf(bb, 'CN=noaki.example', { aki: false });
  b.add(F, 'two roots with one name, AKI names the second (listed second)', { presented: [withAki], ca: [a, bb] });
  b.add(F, 'two roots with one name, AKI names the second (listed first)', { presented: [withAki], ca: [bb, a] });
  b.add(F, 'two roots with one name, no AKI, wrong one listed first', { presented: [noAki], ca: [a, bb] });
  b.add(F, 'two roots with one name, no AKI, right one listed first', { presented: [noAki], ca: [bb, a] });
  b.add(F, 'AKI names a key no trusted root has', { presented: [b.leaf(a, 'CN=wrongaki.example', { aki: { keyid: new Uint8Array(20).fill(7) } })], ca: [a, bb] });
  b.add(F, 'AKI issuer and serial match the root', { presented: [b.leaf(a, 'CN=akiserial.example', { aki: { keyid: keyId(a.key), issuer: 'CN=Twin CA', serial: a.serial } })], ca: [bb, a] });
  b.add(F, 'AKI serial does not match', { presented: [b.leaf(a, 'CN=akibadserial.example', { aki: { issuer: 'CN=Twin CA', serial: 999_999 } })], ca: [a] });
  const noSki = b.root('CN=Root without SKI', 'noski', { ski: false });
  b.add(F, 'root without SKI, leaf with AKI', { presented: [b.leaf(noSki, 'CN=noski.example')], ca: [noSki] });
  // Intermediates with one name: the peer sends both, AKI picks
  const ia = b.inter(a, 'CN=Twin Issuing', 'tia');
  const ib = b.inter(a, 'CN=Twin Issuing', 'tib');
  const viaB = b.leaf(ib, 'CN=viab.example');
  b.add(F, 'peer sends two intermediates with one name, AKI names the second', { presented: [viaB, ia, ib], ca: [a] });
  b.add(F, 'peer sends two intermediates with one name, no AKI', { presented: [b.leaf(ib, 'CN=viab2.example', { aki: false }), ia, ib], ca: [a] });
  b.add(F, 'both intermediates trusted (partial), AKI picks', { presented: [viaB], ca: [ia, ib], partial: true });
}

function expectedNames(b: CaseBuilder): void {
  const F = 'expected name';
  const root = b.root('CN=Name Root', 'root');
  const uriLeaf = b.leaf(root, 'CN=sbc.atlanta.example', { san: [{ uri: 'sip:atlanta.example' }, { dns: 'sbc.atlanta.example' }] });
  const dnsLeaf = b.leaf(root, 'CN=sbc.biloxi.example', { san: [{ dns: 'biloxi.example' }, { dns: '*.chicago.example' }] });
  const cnOnly = b.leaf(root, 'CN=cn-only.example', { san: false });
  const ipLeaf = b.leaf(root, 'CN=gw', { san: [{ ip: '192.0.2.10' }, { ip: '2001:db8::10' }, { dns: '192.0.2.11' }] });
  const items: [Node, string, boolean?][] = [
    [uriLeaf, 'atlanta.example'],
    [uriLeaf, 'sbc.atlanta.example'],
    [dnsLeaf, 'biloxi.example'],
    [dnsLeaf, 'pbx.chicago.example'],
    [dnsLeaf, 'pbx.chicago.example', true],
    [cnOnly, 'cn-only.example'],
    [ipLeaf, '192.0.2.10'],
    [ipLeaf, '2001:db8::10'],
    [ipLeaf, '192.0.2.11'],
    [ipLeaf, '198.51.100.1'],
  ];
  for (const [leaf, name, wildcard] of items) b.add(F, `expected ${name}${wildcard ? ' (wildcards allowed)' : ''}`, { presented: [leaf], ca: [root], expected: name, allowWildcard: wildcard });
  const expired = b.leaf(root, 'CN=old.atlanta.example', { validity: 'expired', san: [{ uri: 'sip:atlanta.example' }] });
  b.add(F, 'name mismatch and expired', { presented: [expired], ca: [root], expected: 'biloxi.example' });
}

function strength(b: CaseBuilder): void {
  const F = 'key and digest strength';
  const root = b.root('CN=Strength Root', 'root');
  b.add(F, 'RSA 2048 peer key', { presented: [b.mk({ subject: 'CN=rsa.example', key: b.key('rsa', 'rsa'), issuer: root, san: [{ dns: 'rsa.example' }] })], ca: [root] });
  b.add(F, 'RSA 1024 peer key (80 bits: level 1 accepts)', { presented: [b.mk({ subject: 'CN=rsa1024.example', key: b.key('rsa1024', 'rsa1024'), issuer: root, san: [{ dns: 'rsa1024.example' }] })], ca: [root] });
  b.add(F, 'P-384 peer key', { presented: [b.mk({ subject: 'CN=p384.example', key: b.key('p384', 'ec384'), issuer: root, san: [{ dns: 'p384.example' }] })], ca: [root] });
  b.add(F, 'peer certificate signed with SHA-1', { presented: [b.leaf(root, 'CN=sha1.example', { hash: 'sha1' })], ca: [root] });
  const sha1Inter = b.inter(root, 'CN=Strength SHA-1 Issuing', 'inter', { hash: 'sha1' });
  b.add(F, 'intermediate signed with SHA-1', { presented: [b.leaf(sha1Inter, 'CN=viasha1.example'), sha1Inter], ca: [root] });
  const sha1Root = b.root('CN=Strength SHA-1 Root', 'root2', { hash: 'sha1' });
  b.add(F, 'self-signed SHA-1 root (its own signature is not checked)', { presented: [b.leaf(sha1Root, 'CN=sha1root.example')], ca: [sha1Root] });
  const rsaRoot = b.mk({ subject: 'CN=Strength RSA Root', key: b.key('rsaroot', 'rsa'), ca: true });
  b.add(F, 'EC peer under an RSA root', { presented: [b.leaf(rsaRoot, 'CN=ecunderrsa.example')], ca: [rsaRoot] });
  const weakCa = b.mk({ subject: 'CN=Strength RSA 1024 Issuing', key: b.key('rsa1024ca', 'rsa1024'), issuer: root, ca: true });
  b.add(F, 'intermediate with an RSA 1024 key', { presented: [b.leaf(weakCa, 'CN=weakca.example'), weakCa], ca: [root] });
}

function signatures(b: CaseBuilder): void {
  const F = 'signatures';
  const root = b.root('CN=Sig Root', 'root');
  const inter = b.inter(root, 'CN=Sig Issuing', 'inter');
  b.add(F, 'peer signed by another key under the issuer\'s name', { presented: [b.leaf(inter, 'CN=forged.example', { signer: b.key('other') }), inter], ca: [root] });
  b.add(F, 'intermediate signed by another key', { presented: [b.leaf(inter, 'CN=ok.example'), b.inter(root, 'CN=Sig Issuing', 'inter', { signer: b.key('other') })], ca: [root] });
  const tampered = b.leaf(inter, 'CN=tampered.example');
  const t = new Uint8Array(tampered.cert.der);
  t[t.length - 5] ^= 0x01;
  b.add(F, 'peer signature bytes altered', { presented: [{ ...tampered, cert: { ...tampered.cert, der: t, pem: pemOf(t) } }, inter], ca: [root] });
  const edKey = b.key('ed', 'ed25519');
  const edRoot = b.mk({ subject: 'CN=Sig Ed25519 Root', key: edKey, ca: true });
  b.add(F, 'Ed25519 root', { presented: [b.leaf(edRoot, 'CN=ed.example')], ca: [edRoot] });
}

function severalErrors(b: CaseBuilder): void {
  const F = 'several errors';
  const root = b.root('CN=Multi Root', 'root');
  const other = b.root('CN=Multi Other', 'other');
  const inter = b.inter(root, 'CN=Multi Issuing', 'inter');
  const crit = [ext.unknown('1.3.6.1.4.1.55555.3.1', true)];
  b.add(F, 'unknown CA and expired', { presented: [b.leaf(other, 'CN=m1.example', { validity: 'expired' })], ca: [root] });
  b.add(F, 'unknown CA and unhandled critical extension', { presented: [b.leaf(other, 'CN=m2.example', { extra: crit })], ca: [root] });
  b.add(F, 'wrong purpose and expired', { presented: [b.leaf(inter, 'CN=m3.example', { validity: 'expired', eku: [EKU.codeSigning] }), inter], ca: [root] });
  b.add(F, 'wrong purpose and unhandled critical extension', { presented: [b.leaf(inter, 'CN=m4.example', { extra: crit, eku: [EKU.codeSigning] }), inter], ca: [root] });
  const ncInter = b.inter(root, 'CN=Multi NC Issuing', 'inter2', { nc: { permitted: [{ dns: '.example.com' }] }, validity: 'expired' });
  b.add(F, 'name constraint violation under an expired intermediate', { presented: [b.leaf(ncInter, 'CN=m5', { san: [{ dns: 'x.other.org' }] }), ncInter], ca: [root] });
  const notCa = b.inter(root, 'CN=Multi Not CA', 'inter3', { bc: 'notca', validity: 'notyet' });
  b.add(F, 'intermediate not a CA and not yet valid', { presented: [b.leaf(notCa, 'CN=m6.example'), notCa], ca: [root] });
  const pl = b.root('CN=Multi pathLen 0', 'root2', { pathlen: 0, validity: 'expired' });
  const plInter = b.inter(pl, 'CN=Multi pl Issuing', 'inter4');
  b.add(F, 'pathLen exceeded under an expired root', { presented: [b.leaf(plInter, 'CN=m7.example'), plInter], ca: [pl] });
  const revokedLeaf = b.leaf(inter, 'CN=m8.example', { validity: 'expired' });
  b.add(F, 'revoked and expired', { presented: [revokedLeaf, inter], ca: [root], crls: [b.crl(inter, { revoked: [revokedLeaf] }), b.crl(root)], crlMode: 'all' });
  b.add(F, 'self-signed, expired and wrong purpose', { presented: [b.mk({ subject: 'CN=m9.example', key: b.key('leaf'), validity: 'expired', eku: [EKU.codeSigning], san: [{ dns: 'm9.example' }] })], ca: [root] });
}

/** A title usable inside a CN. */
function safe(title: string): string {
  return title.replace(/[,=+]/g, '');
}

function pemOf(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}
