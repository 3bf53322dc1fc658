import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { conformanceCases } from './testing/suite.js';
import { hostBuiltins } from './host.js';

const call = (name: string, ...args: unknown[]) => hostBuiltins[name](...args);

describe('io.jwt.* conformance (direct calls)', () => {
  const n = conformanceCases(['jwtbuiltins', 'jwtdecodeverify', 'jwtencodesign', 'jwtencodesignheadererrors', 'jwtencodesignpayloaderrors', 'jwtencodesignraw', 'jwtverifyhs256', 'jwtverifyhs384', 'jwtverifyhs512', 'jwtverifyrsa']);
  it('finds the direct-call cases', () => expect(n).toBeGreaterThanOrEqual(49));
});

describe('io.jwt round trips with generated keys', () => {
  for (const [alg, kind, opts] of [
    ['RS256', 'rsa', { modulusLength: 2048 }],
    ['PS384', 'rsa', { modulusLength: 2048 }],
    ['ES256', 'ec', { namedCurve: 'P-256' }],
    ['ES512', 'ec', { namedCurve: 'P-521' }],
  ] as const) {
    it(`${alg}: encode_sign then verify and decode_verify`, () => {
      const { privateKey, publicKey } = generateKeyPairSync(kind as 'rsa', opts as never) as unknown as { privateKey: KeyObject; publicKey: KeyObject };
      const jwk = privateKey.export({ format: 'jwk' });
      const pem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
      const token = call('io.jwt.encode_sign', { alg, typ: 'JWT' }, { iss: 'me', exp: 4102444800 }, jwk) as string;
      expect(call(`io.jwt.verify_${alg.toLowerCase()}`, token, pem)).toBe(true);
      expect(call('io.jwt.decode_verify', token, { cert: pem, iss: 'me', time: 1e18 })).toEqual([true, { alg, typ: 'JWT' }, { iss: 'me', exp: 4102444800 }]);
      expect(call('io.jwt.decode_verify', token, { cert: pem, iss: 'other', time: 1e18 })).toEqual([false, {}, {}]);
      expect(call('io.jwt.decode_verify', token, { cert: pem, time: 4102444800e9 })).toEqual([false, {}, {}]); // expired
      const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      expect(call(`io.jwt.verify_${alg.toLowerCase()}`, tampered, pem)).toBe(false);
    });
  }
  it('HS256 with a JWK secret, header JSON like Go (sorted keys)', () => {
    const token = call('io.jwt.encode_sign', { typ: 'JWT', alg: 'HS256' }, { b: 1, a: '<&>' }, { kty: 'oct', k: Buffer.from('secret').toString('base64url') }) as string;
    const [h, p] = token.split('.');
    expect(Buffer.from(h, 'base64url').toString()).toBe('{"alg":"HS256","typ":"JWT"}');
    expect(Buffer.from(p, 'base64url').toString()).toBe('{"a":"\\u003c\\u0026\\u003e","b":1}');
    expect(call('io.jwt.verify_hs256', token, 'secret')).toBe(true);
    expect(call('io.jwt.verify_hs256', token, 'wrong')).toBe(false);
  });
  it('decode_verify errors are OPA\'s', () => {
    expect(() => call('io.jwt.decode_verify', 'a.b.c', {})).toThrow('eval_builtin_error: io.jwt.decode_verify: no key constraint');
    expect(() => call('io.jwt.decode_verify', 'a.b.c', { secret: 'x', foo: 1 })).toThrow('unknown token validation constraint: foo');
    expect(() => call('io.jwt.decode', 'abc')).toThrow('encoded JWT had no period separators');
  });
});
