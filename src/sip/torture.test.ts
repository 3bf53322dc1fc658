import { describe, expect, it } from 'vitest';
import { tortureCases, loadTorture } from './fixtures/torture.js';
import { parseMessage, tryParseMessage } from './parser.js';
import { SipError } from './errors.js';
import { StreamFramer } from './framing.js';

describe('RFC 4475 torture messages', () => {
  const cases = tortureCases();

  it('covers every message of sections 3.1.1, 3.1.2, 3.2, 3.3 and 3.4', () => {
    expect(cases.length).toBe(49);
    expect(cases.filter((c) => c.section.startsWith('3.1.1'))).toHaveLength(13);
    expect(cases.filter((c) => c.section.startsWith('3.1.2'))).toHaveLength(19);
    expect(cases.filter((c) => c.section.startsWith('3.3'))).toHaveLength(15);
  });

  for (const c of cases) {
    it(`${c.section} ${c.name}: ${c.title} -> ${c.expect}`, () => {
      const buf = loadTorture(c.name);
      if (c.expect === 'valid') {
        const msg = parseMessage(buf, { datagram: true });
        expect(msg.callId.length).toBeGreaterThan(0);
        // a parsed message re-serializes to the same bytes (nothing modified)
        if (c.name !== 'dblreq' && c.name !== 'inv2543') expect(msg.toBuffer().equals(buf)).toBe(true);
      } else {
        let err: unknown;
        try {
          parseMessage(buf, { datagram: true });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(SipError);
        const se = err as SipError;
        expect(se.status).toBe(c.expect);
        expect(se.reason.toLowerCase()).toContain(c.reason!.toLowerCase());
      }
    });
  }

  it('frames the valid messages on a stream, fed one byte at a time', () => {
    for (const c of cases.filter((x) => x.expect === 'valid' && x.name !== 'inv2543')) {
      const f = new StreamFramer();
      const buf = loadTorture(c.name);
      const events = [];
      for (let i = 0; i < buf.length; i++) events.push(...f.push(buf.subarray(i, i + 1)));
      const first = events[0]!;
      expect(first.type, c.name).toBe('message');
    }
  });

  it('dblreq on a stream yields the REGISTER and then the INVITE', () => {
    const f = new StreamFramer();
    const evs = f.push(loadTorture('dblreq'));
    // on a stream the trailing octets are the next message; the 2 octets after its body read as a pong
    expect(evs.map((e) => e.type)).toEqual(['message', 'message', 'pong']);
    expect(evs[0]!.type === 'message' && evs[0]!.msg.method).toBe('REGISTER');
    expect(evs[1]!.type === 'message' && evs[1]!.msg.method).toBe('INVITE');
  });
});

describe('fuzzing the parser with mutated fixtures', () => {
  // Deterministic PRNG so that a failure is reproducible.
  let seed = 0x5eed;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const mutate = (b: Buffer): Buffer => {
    const out = Buffer.from(b);
    const kind = rand(5);
    const n = 1 + rand(4);
    if (kind === 0) for (let i = 0; i < n; i++) out[rand(out.length)] = rand(256);
    if (kind === 1) return Buffer.concat([out.subarray(0, rand(out.length)), out.subarray(rand(out.length))]);
    if (kind === 2) {
      const at = rand(out.length);
      const ins = Buffer.from([':', ';', ',', '"', '<', '>', '\r\n', ' ', '\\', '%', '@', '\r\n '][rand(12)]!);
      return Buffer.concat([out.subarray(0, at), ins, out.subarray(at)]);
    }
    if (kind === 3) return out.subarray(0, rand(out.length));
    for (let i = 0; i < n; i++) out[rand(out.length)] = [0x0d, 0x0a, 0x20, 0x3a, 0x22][rand(5)]!;
    return out;
  };

  it('never throws anything but SipError over 20,000 mutations', () => {
    const bases = tortureCases().map((c) => loadTorture(c.name));
    let ok = 0;
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      let b = bases[rand(bases.length)]!;
      for (let k = 0, m = 1 + rand(3); k < m; k++) b = mutate(b);
      for (const datagram of [true, false]) {
        try {
          const msg = parseMessage(b, { datagram });
          msg.toBuffer();
          ok++;
        } catch (e) {
          if (!(e instanceof SipError)) throw new Error(`non-SipError for input ${JSON.stringify(b.toString('latin1'))}: ${String(e)}`);
          expect([400, 413, 416, 505, 513]).toContain(e.status);
          rejected++;
        }
      }
      const f = new StreamFramer();
      f.push(b); // the framer turns everything into events; it must not throw either
      expect(tryParseMessage(b).ok === true || tryParseMessage(b).ok === false).toBe(true);
    }
    expect(ok).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});
