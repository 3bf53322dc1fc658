// crypto.md5/sha1/sha256 and crypto.hmac.* of the WASM runtime against node:crypto, at the
// message lengths around block and padding boundaries, with multi-byte UTF-8 and long keys.
import { describe, it, expect, beforeAll } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../index.js';

const LENGTHS = [0, 1, 3, 55, 56, 57, 63, 64, 65, 111, 112, 113, 127, 128, 129, 1000, 100_003];

function message(n: number): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += String.fromCharCode(97 + (i % 26));
  return s.slice(0, n);
}

describe('crypto hashes and HMAC', () => {
  let evaluate: (input: unknown) => Record<string, unknown>;
  beforeAll(async () => {
    const src = `package t

r := {
  "md5": crypto.md5(input.s),
  "sha1": crypto.sha1(input.s),
  "sha256": crypto.sha256(input.s),
  "hmd5": crypto.hmac.md5(input.s, input.k),
  "hsha1": crypto.hmac.sha1(input.s, input.k),
  "hsha256": crypto.hmac.sha256(input.s, input.k),
  "hsha512": crypto.hmac.sha512(input.s, input.k),
}
`;
    const c = await compile({ modules: [{ file: 't.rego', source: src }], entrypoints: ['t/r'] });
    expect(c.errors).toEqual([]);
    const policy = await loadPolicy(c.wasm!);
    evaluate = (input) => (policy.evaluate(input) as Array<{ result: Record<string, unknown> }>)[0]!.result;
  });

  it('matches node:crypto at every padding boundary', () => {
    for (const n of LENGTHS) {
      const s = message(n);
      for (const k of ['', 'key', 'k'.repeat(64), 'long key '.repeat(30)]) {
        const got = evaluate({ s, k });
        expect(got, `len ${n}`).toEqual({
          md5: createHash('md5').update(s).digest('hex'),
          sha1: createHash('sha1').update(s).digest('hex'),
          sha256: createHash('sha256').update(s).digest('hex'),
          hmd5: createHmac('md5', k).update(s).digest('hex'),
          hsha1: createHmac('sha1', k).update(s).digest('hex'),
          hsha256: createHmac('sha256', k).update(s).digest('hex'),
          hsha512: createHmac('sha512', k).update(s).digest('hex'),
        });
      }
    }
  });

  it('hashes the UTF-8 bytes of the string', () => {
    const s = 'sip:alice@exämple.com 😀';
    expect(evaluate({ s, k: 'ключ' })).toMatchObject({
      sha256: createHash('sha256').update(s, 'utf8').digest('hex'),
      hsha512: createHmac('sha512', 'ключ').update(s, 'utf8').digest('hex'),
    });
  });
});

describe('crypto.hmac.equal', () => {
  it('compares MACs', async () => {
    const c = await compile({
      modules: [{ file: 't.rego', source: 'package t\n\nr := [crypto.hmac.equal(input.a, input.b), crypto.hmac.equal(input.a, input.a)]\n' }],
      entrypoints: ['t/r'],
    });
    const policy = await loadPolicy(c.wasm!);
    expect(policy.evaluate({ a: 'abc', b: 'abd' })).toEqual([{ result: [false, true] }]);
    expect(policy.evaluate({ a: 'abc', b: 'ab' })).toEqual([{ result: [false, true] }]);
  });
});
