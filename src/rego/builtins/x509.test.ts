import { beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { conformanceCases, } from './testing/suite.js';
import { moduleConstants } from './testing/conformance-calls.js';
import { loadCases, defaultSuiteDir } from '../conformance/cases.js';
import { makeChain, type Chain } from './testing/pki.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => {
  const r = hostBuiltins[name](...args);
  return r instanceof ArrayBuffer ? JSON.parse(new TextDecoder().decode(r)) : r;
};

describe('crypto.x509.* conformance (direct calls)', () => {
  const n = conformanceCases(['cryptox509parsersaprivatekey', 'cryptoparsersaprivatekeys', 'cryptox509parsekeypair']);
  it('finds the direct-call cases', () => expect(n).toBeGreaterThanOrEqual(3));
});

describe('crypto.x509.* on the suite\'s certificates', () => {
  const cases = loadCases(defaultSuiteDir(), ['cryptox509parsecertificates', 'cryptox509parsecertificaterequest', 'cryptox509parseandverifycertificates']);
  for (const c of cases) {
    const consts = moduleConstants(c.modules?.[0] ?? '');
    const input = consts.get('certs') ?? consts.get('csr');
    if (typeof input !== 'string') continue;
    const want = (c.want_plan_result ?? c.want_result) as Array<Record<string, unknown>> | undefined;
    it(c.note, () => {
      if (c.topic === 'cryptox509parsecertificaterequest') {
        if (c.want_error) return expect(() => call('crypto.x509.parse_certificate_request', input)).toThrow(c.want_error);
        return expect(call('crypto.x509.parse_certificate_request', input).Subject.CommonName).toBe(want?.[0].x);
      }
      if (c.topic === 'cryptox509parseandverifycertificates') {
        const [valid, certs] = call('crypto.x509.parse_and_verify_certificates', input) as [boolean, Array<Record<string, any>>];
        const got = { valid, certs: certs.map((x) => ({ CN: x.Subject.CommonName, DNS: x.DNSNames, URI: x.URIStrings })) };
        return expect(got).toEqual(want?.[0].x);
      }
      if (c.want_error) return expect(() => call('crypto.x509.parse_certificates', input)).toThrow(c.want_error);
      const certs = call('crypto.x509.parse_certificates', input) as Array<Record<string, any>>;
      if (c.modules?.[0].includes('URIStrings')) return expect(certs[0].URIStrings).toEqual(want?.[0].x);
      expect(certs.map((x) => x.Subject.CommonName)).toEqual(want?.[0].x);
    });
  }
});

describe('crypto.x509.* on a fresh openssl chain', () => {
  let chain: Chain;
  beforeAll(() => {
    chain = makeChain();
  });
  it('parse_certificates lays fields out like Go', () => {
    const [leaf, inter] = call('crypto.x509.parse_certificates', chain.leafPem + chain.intermediatePem);
    const x = new X509Certificate(chain.leafPem);
    expect(leaf.Subject).toMatchObject({ CommonName: 'sip.example.test', Organization: ['Bastion Test'], OrganizationalUnit: ['edge'], Country: null });
    expect(leaf.Subject.Names).toEqual([
      { Type: [2, 5, 4, 10], Value: 'Bastion Test' },
      { Type: [2, 5, 4, 11], Value: 'edge' },
      { Type: [2, 5, 4, 3], Value: 'sip.example.test' },
    ]);
    expect(leaf.Issuer.CommonName).toBe('Bastion Test Intermediate');
    expect(leaf.DNSNames).toEqual(['sip.example.test']);
    expect(leaf.IPAddresses).toEqual(['127.0.0.1']);
    expect(leaf.EmailAddresses).toEqual(['ops@example.test']);
    expect(leaf.URIStrings).toEqual(['sip:sip.example.test']);
    expect(leaf.ExtKeyUsage).toEqual([1, 2]);
    expect(leaf.KeyUsage).toBe(1); // digitalSignature
    expect(leaf.BasicConstraintsValid).toBe(true);
    expect(leaf.IsCA).toBe(false);
    expect(leaf.SignatureAlgorithm).toBe(10); // ECDSAWithSHA256
    expect(leaf.PublicKeyAlgorithm).toBe(3);
    expect(leaf.Version).toBe(3);
    expect(leaf.NotAfter).toBe(new Date(x.validTo).toISOString().replace('.000Z', 'Z'));
    expect(Buffer.from(leaf.Raw, 'base64').equals(x.raw)).toBe(true);
    expect(inter.IsCA).toBe(true);
    expect(inter.MaxPathLen).toBe(-1);
    expect(inter.KeyUsage).toBe(32 | 64); // certSign | CRLSign
  });
  it('parse_and_verify_certificates: root first, leaf last; returns leaf..root', () => {
    const [ok, certs] = call('crypto.x509.parse_and_verify_certificates', chain.rootPem + chain.intermediatePem + chain.leafPem);
    expect(ok).toBe(true);
    expect(certs.map((c: any) => c.Subject.CommonName)).toEqual(['sip.example.test', 'Bastion Test Intermediate', 'Bastion Test Root']);
    const other = makeChain('other.test');
    expect(call('crypto.x509.parse_and_verify_certificates', other.rootPem + chain.intermediatePem + chain.leafPem)).toEqual([false, []]);
    expect(call('crypto.x509.parse_and_verify_certificates', chain.leafPem)).toEqual([false, []]);
  });
  it('with_options: DNSName, KeyUsages, CurrentTime', () => {
    const pem = chain.rootPem + chain.intermediatePem + chain.leafPem;
    const f = 'crypto.x509.parse_and_verify_certificates_with_options';
    expect(call(f, pem, { DNSName: 'sip.example.test' })[0]).toBe(true);
    expect(call(f, pem, { DNSName: 'evil.test' })[0]).toBe(false);
    expect(call(f, pem, { KeyUsages: ['KeyUsageClientAuth'] })[0]).toBe(true);
    expect(call(f, pem, { KeyUsages: ['KeyUsageCodeSigning'] })[0]).toBe(false);
    expect(call(f, pem, { CurrentTime: Date.UTC(2000, 0, 1) * 1e6 })[0]).toBe(false);
    expect(() => call(f, pem, { Foo: 1 })).toThrow('eval_builtin_error: crypto.x509.parse_and_verify_certificates_with_options: invalid key option');
  });
  it('parse_keypair matches key and certificate', () => {
    const kp = call('crypto.x509.parse_keypair', chain.leafPem, chain.leafKeyPem);
    expect(kp.Certificate).toHaveLength(1);
    expect(kp.Leaf.Subject.CommonName).toBe('sip.example.test');
    const other = makeChain();
    expect(() => call('crypto.x509.parse_keypair', chain.leafPem, other.leafKeyPem)).toThrow('tls: private key does not match public key');
  });
  it('bad input is an OPA builtin error, never a crash', () => {
    expect(() => call('crypto.x509.parse_certificates', 'foobar')).toThrow(/^eval_builtin_error: crypto.x509.parse_certificates: illegal base64 data at input byte/);
    expect(() => call('crypto.x509.parse_certificates', Buffer.from('garbage-der').toString('base64'))).toThrow(/^eval_builtin_error: crypto.x509.parse_certificates: /);
    expect(() => call('crypto.x509.parse_certificates', chain.leafPem.replace('CERTIFICATE', 'PUBLIC KEY').replace('END CERTIFICATE', 'END PUBLIC KEY'))).toThrow("PEM block type is 'PUBLIC KEY', expected CERTIFICATE");
    expect(() => call('crypto.x509.parse_certificates', 5)).toThrow('eval_type_error: crypto.x509.parse_certificates: operand 1 must be string but got number');
  });
});
