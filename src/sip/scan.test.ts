// The char-code scanners (Via, parameters) against the general parsers they short-cut: on
// generated variants of real values (whitespace of every kind in every place, odd characters,
// case), both give the same result or the same error.
import { describe, expect, it } from 'vitest';
import { parseVia, parseViaRegex } from './via.js';
import { parseParams, parseParamsText } from './syntax.js';
import { SipError } from './errors.js';

function outcome(f: () => unknown): unknown {
  try {
    const v = f();
    return { ok: JSON.parse(JSON.stringify(v)) as unknown, keys: Object.keys(v as object) };
  } catch (e) {
    if (!(e instanceof SipError)) throw e;
    return { status: e.status, reason: e.reason };
  }
}

// deterministic pseudo-random generator (same cases every run)
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const INSERTS = [' ', '\t', '  ', '\v', '\u00a0', '\n', '\r', ';', '=', ',', '"', '/', ':', '[', ']', '<', 'A', '0', '\u00e9', '\\', '@', ''];

function variants(base: string, count: number, seed: number): string[] {
  const r = rng(seed);
  const out = [base];
  for (let k = 0; k < count; k++) {
    let s = base;
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (s.length + 1));
      const op = r();
      if (op < 0.6) s = s.slice(0, at) + INSERTS[Math.floor(r() * INSERTS.length)]! + s.slice(at);
      else if (op < 0.8) s = s.slice(0, at) + s.slice(at + 1);
      else s = s.slice(0, at) + s.slice(at).toUpperCase();
    }
    out.push(s);
  }
  return out;
}

const VIAS = [
  'SIP/2.0/TLS 127.0.0.1:5071;branch=z9hG4bK1abc.1;rport',
  'SIP/2.0/UDP 127.0.0.1:5090;received=127.0.0.1;branch=z9hG4bK-1-1-0',
  'SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKx;ttl=16;maddr=224.2.0.1',
  'sip/2.0/ws host.example.com;branch=z9hG4bKq;rport=5060;x="quoted;v"',
  'SIP / 2.0 / UDP  host.example.com : 5060 ; branch = z9hG4bK1 ; 1=2 ; __proto__=3 ; constructor',
  'SIP/2.0/SCTP a.b;BRANCH=z9hG4bK2;Received=[::1];rport=70000',
];
const PARAMS = [';tag=abc;lr', ' ; a = b ;c', ';transport=tls;r2=on;lr', ';x="a\\"b";y', ';A=[::1]:5;B', ''];

describe('Via scanner', () => {
  it('parses every variant exactly as the regex parser does (value or error)', () => {
    let n = 0;
    for (const [i, base] of VIAS.entries()) {
      for (const v of variants(base, 400, i + 1)) {
        expect(outcome(() => parseVia(v)), JSON.stringify(v)).toEqual(outcome(() => parseViaRegex(v)));
        n++;
      }
    }
    expect(n).toBe(VIAS.length * 401);
  });
});

describe('parameter scanner', () => {
  it('parses every variant exactly as the general parser does (value, key order, error)', () => {
    for (const [i, base] of PARAMS.entries()) {
      for (const v of variants(base, 400, 100 + i)) {
        expect(outcome(() => parseParams(v, 'Test')), JSON.stringify(v)).toEqual(outcome(() => parseParamsText(v, 'Test')));
      }
    }
  });

  it('keeps inherited names out: parameters named like Object.prototype members are plain parameters', () => {
    const p = parseParams(';__proto__=x;constructor;tostring=1', 'Test');
    expect(Object.keys(p)).toEqual(['__proto__', 'constructor', 'tostring']);
    expect(p['constructor']).toBeNull();
    expect(p['hasOwnProperty']).toBeUndefined();
    expect(parseParams('', 'Test')['toString']).toBeUndefined();
  });
});

describe('parse memo generations', () => {
  it('keeps a repeated value shared while first sightings of new values come and go', () => {
    const a = 'SIP/2.0/TLS dialog.example:5061;branch=z9hG4bKdialog1;rport';
    const first = parseVia(a);
    expect(parseVia(a)).toBe(first); // seen again: shared (and now kept as a repeated value)
    for (let i = 0; i < 3000; i++) parseVia(`SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-${i}-gen`);
    expect(parseVia(a)).toBe(first);
  });

  it('parses a value again to an equal view once its first sighting was dropped', () => {
    const b = 'SIP/2.0/UDP once.example;branch=z9hG4bKonce;received=192.0.2.1';
    const first = parseVia(b);
    for (let i = 0; i < 3000; i++) parseVia(`SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-${i}-once`);
    const again = parseVia(b);
    expect(again).toEqual(first);
    expect(Object.isFrozen(again)).toBe(true);
    expect(Object.isFrozen(again.params)).toBe(true);
  });
});
