import { describe, it, expect } from 'vitest';
import { validateTlsDomains, validateIdentity } from './schema-check.js';

describe('tls-domain.schema.json', () => {
  it('accepts design.md-style profiles', () => {
    expect(
      validateTlsDomains({
        server_domains: {
          default: { cert: 'pki/gw.pem', key: 'pki/gw.key', ca: ['pki/ca.pem'], verify: true, require: false, min_version: 'TLSv1.2', verify_depth: 4, crl: ['pki/ca.crl'], cn_map: 'pki/cn.map' },
          'biloxi.example': { sni: ['biloxi.example'], cert: 'b.pem', key: 'b.key', ca: ['ca.pem'] },
        },
        client_domains: { fedA: { cert: 'a.pem', key: 'a.key', ca: ['a-ca.pem'], verify: true, destinations: ['sip.atlanta.com'] } },
      }),
    ).toEqual([]);
  });
  it('rejects typos, missing keys and bad versions', () => {
    expect(validateTlsDomains({ server_domains: { d: { cert: 'a', key: 'b', verfy: true } } }).join()).toMatch(/unevaluated/);
    expect(validateTlsDomains({ server_domains: { d: { cert: 'a' } } }).join()).toMatch(/key/);
    expect(validateTlsDomains({ client_domains: { d: { cert: 'a' } } }).join()).toMatch(/key/);
    expect(validateTlsDomains({ server_domains: { d: { cert: 'a', key: 'b', min_version: 'SSLv3' } } }).join()).toMatch(/allowed values/);
  });
  it('describes OCSP settings', () => {
    expect(validateTlsDomains({ server_domains: { d: { cert: 'a', key: 'b', ocsp: { responder: true, require: true, cache_s: 60 } } }, client_domains: { c: { ocsp: { stapling: true, responder: 'http://ocsp.example/' } } } })).toEqual([]);
    expect(validateTlsDomains({ client_domains: { c: { ocsp: { staple: true } } } }).join()).toMatch(/additional/);
    expect(validateTlsDomains({ client_domains: { c: { ocsp: { responder: 3 } } } }).join()).toMatch(/responder must be/);
  });
});

describe('identity.schema.json', () => {
  it('rejects verified documents with an error, and unknown fields', () => {
    const base = { presented: false, verified: false, verify_error: 'NO_PEER_CERTIFICATE', mapped_identities: [], local: { role: 'server', domain: 'd' }, remote: {} };
    expect(validateIdentity(base)).toEqual([]);
    expect(validateIdentity({ ...base, verified: true })).not.toEqual([]);
    expect(validateIdentity({ ...base, presented: true })).not.toEqual([]);
    expect(validateIdentity({ ...base, extra: 1 })).not.toEqual([]);
    // absent, not null: an unverified document names its error, a verified one has none
    const { verify_error: _e, ...noError } = base;
    expect(validateIdentity(noError)).not.toEqual([]);
    expect(validateIdentity({ ...base, verify_error: null })).not.toEqual([]);
  });
});
