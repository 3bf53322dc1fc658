import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseMessage } from './parser.js';
import { parseUri, type SipUri } from './uri.js';
import { parseNameAddr } from './address.js';
import { parseVia } from './via.js';
import { splitList } from './syntax.js';
import { policyMessageJson, toPolicyMessage } from './normalize.js';
import { loadTorture, tortureCases } from './fixtures/torture.js';
import { SipError } from './errors.js';
import { buildResponse } from './build.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');

const INVITE = crlf(`INVITE sip:bob@biloxi.example SIP/2.0
Via: SIP/2.0/TLS sbc.atlanta.example:5061;branch=z9hG4bK776asdhds
v: SIP/2.0/UDP pc33.atlanta.example;branch=z9hG4bKnashds8;received=192.0.2.1;rport=5066
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example>
f: "Alice \\"A\\"" <sip:alice@atlanta.example>;tag=1928301774
i: a84b4c76e66710@pc33.atlanta.example
CSeq: 314159 INVITE
m: <sip:alice@pc33.atlanta.example;transport=tls>;expires=60, "Second, Contact" <sip:alice@[2001:db8::1]:5070>
Route: <sip:p1.example;lr>,<sip:p2.example;lr>
Alert-Info: <http://forged.example/ring.wav>
Alert-Info: <http://a.example/x,y.wav>;info=alert-external, Bellcore-dr4
X-Unknown:   keep   this  exactly ;odd,,value
c: application/sdp
l: 4

abcd`);

describe('parser', () => {
  it('parses a typical INVITE: compact forms, lists, quoted strings, params', () => {
    const m = parseMessage(INVITE);
    expect(m.kind).toBe('request');
    expect(m.method).toBe('INVITE');
    expect(m.via).toHaveLength(2);
    expect(m.via[0]).toMatchObject({ transport: 'TLS', host: 'sbc.atlanta.example', port: 5061, branch: 'z9hG4bK776asdhds' });
    expect(m.via[1]).toMatchObject({ transport: 'UDP', received: '192.0.2.1', rport: '5066' });
    expect(m.from.display).toBe('Alice "A"');
    expect(m.from.params['tag']).toBe('1928301774');
    expect(m.to.params['tag']).toBeUndefined();
    expect(m.callId).toBe('a84b4c76e66710@pc33.atlanta.example');
    expect(m.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(m.maxForwards).toBe(70);
    const contact = m.contact;
    expect(contact).not.toBe('*');
    if (contact !== '*') {
      expect(contact).toHaveLength(2);
      expect(contact[0]!.params['expires']).toBe('60');
      expect(contact[1]!.display).toBe('Second, Contact');
      expect((contact[1]!.uri as SipUri).host).toBe('[2001:db8::1]');
      expect((contact[1]!.uri as SipUri).port).toBe(5070);
    }
    expect(m.route.map((r) => (r.uri as SipUri).host)).toEqual(['p1.example', 'p2.example']);
    expect(m.getAll('alert-info')).toEqual(['<http://forged.example/ring.wav>', '<http://a.example/x,y.wav>;info=alert-external', 'Bellcore-dr4']);
    expect(m.get('content-type')).toBe('application/sdp');
    expect(m.body.toString()).toBe('abcd');
  });

  it('serializes an unmodified message byte for byte, and re-serializes only edited headers', () => {
    const m = parseMessage(INVITE);
    expect(m.toBuffer().equals(INVITE)).toBe(true);
    m.remove('Alert-Info');
    m.append('Alert-Info', '<http://ring.example/trusted.wav>');
    m.prepend('Via', 'SIP/2.0/TLS gw.example:5061;branch=z9hG4bKgw1');
    m.set('Max-Forwards', String(m.maxForwards! - 1));
    const out = m.toString();
    expect(out).toContain('X-Unknown:   keep   this  exactly ;odd,,value\r\n');
    expect(out).toContain('f: "Alice \\"A\\"" <sip:alice@atlanta.example>;tag=1928301774\r\n');
    expect(out).not.toContain('forged');
    expect(out.indexOf('Via: SIP/2.0/TLS gw.example')).toBeLessThan(out.indexOf('Via: SIP/2.0/TLS sbc.atlanta'));
    const again = parseMessage(m.toBuffer());
    expect(again.via).toHaveLength(3);
    expect(again.maxForwards).toBe(69);
    expect(again.getAll('alert-info')).toEqual(['<http://ring.example/trusted.wav>']);
  });

  it('passes unknown headers with non-UTF-8 bytes through unchanged when other headers are edited', () => {
    const raw = Buffer.concat([INVITE.subarray(0, INVITE.indexOf('c: application')), Buffer.from('X-Bin: \xff\xfe ok\r\n', 'latin1'), INVITE.subarray(INVITE.indexOf('c: application'))]);
    const m = parseMessage(raw);
    m.set('Max-Forwards', '69');
    const out = m.toBuffer();
    expect(out.includes(Buffer.from('X-Bin: \xff\xfe ok\r\n', 'latin1'))).toBe(true);
    expect(out.length).toBe(raw.length);
    const r = parseMessage(buildResponse(m, 200, 'OK').toBuffer());
    r.setStatus(503, 'Service Unavailable');
    expect(parseMessage(r.toBuffer()).status).toBe(503);
  });

  it('pops the first element of comma-joined list headers', () => {
    const m = parseMessage(INVITE);
    expect(m.shiftValue('route')).toBe('<sip:p1.example;lr>');
    expect(m.route).toHaveLength(1);
    m.replaceFirstValue('via', 'SIP/2.0/TLS sbc.atlanta.example:5061;branch=z9hG4bK776asdhds;received=10.0.0.1');
    expect(m.via[0]!.received).toBe('10.0.0.1');
    expect(m.via).toHaveLength(2);
  });

  it('fixes Content-Length when the body changes', () => {
    const m = parseMessage(INVITE);
    m.setBody('hello world');
    const again = parseMessage(m.toBuffer());
    expect(again.body.toString()).toBe('hello world');
    expect(again.get('content-length')).toBe('11');
  });

  it('unfolds folded lines into single spaces', () => {
    const m = parseMessage(loadTorture('wsinv'), { datagram: true });
    expect(m.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.via.map((v) => v.host)).toEqual(['192.0.2.2', 'spindle.example.com', '192.168.255.111']);
    expect(m.from.display).toBe('J Rosenberg \\"');
    expect(m.maxForwards).toBe(68);
  });

  it('parses Contact: *', () => {
    const m = parseMessage(crlf('REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK1\nTo: <sip:a@example.com>\nFrom: <sip:a@example.com>;tag=1\nCall-ID: x\nCSeq: 2 REGISTER\nContact: *\nExpires: 0\nContent-Length: 0\n\n'));
    expect(m.contact).toBe('*');
    expect(toPolicyMessage(m).contact).toBe('*');
  });

  it('rejects header floods and oversized messages with typed errors', () => {
    const flood = crlf('OPTIONS sip:a@b.example SIP/2.0\n' + 'X-A: 1\n'.repeat(500) + '\n');
    expect(() => parseMessage(flood)).toThrow(expect.objectContaining({ status: 400, reason: 'Too Many Header Fields' }));
    const big = Buffer.concat([INVITE, Buffer.alloc(70_000, 0x61)]);
    expect(() => parseMessage(big, { datagram: true })).toThrow(expect.objectContaining({ status: 513 }));
    const huge = Buffer.from(INVITE.toString().replace('l: 4', 'l: 999999'));
    expect(() => parseMessage(huge)).toThrow(expect.objectContaining({ status: 413 }));
  });

  it('accepts unknown methods with a matching CSeq', () => {
    const m = parseMessage(crlf('FOOBAR sip:a@b.example SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nTo: <sip:a@b.example>\nFrom: <sip:c@d.example>;tag=1\nCall-ID: x\nCSeq: 1 FOOBAR\nMax-Forwards: 70\nContent-Length: 0\n\n'));
    expect(m.method).toBe('FOOBAR');
  });
});

describe('URIs', () => {
  it('parses user, password, host, port, params, headers and escapes', () => {
    const u = parseUri('sips:alice:secret@Atlanta.Example:5061;transport=tcp;lr;maddr=10.0.0.1?subject=project%20x&priority=urgent') as SipUri;
    expect(u).toMatchObject({ scheme: 'sips', user: 'alice', password: 'secret', host: 'atlanta.example', port: 5061 });
    expect(u.params).toEqual({ transport: 'tcp', lr: null, maddr: '10.0.0.1' });
    expect(u.headers).toEqual({ subject: 'project%20x', priority: 'urgent' });
  });

  it('parses IPv6 references and tel URIs', () => {
    expect(parseUri('sip:[2001:db8::10]:5060')).toMatchObject({ host: '[2001:db8::10]', port: 5060 });
    expect(parseUri('tel:+1-201-555-0123;phone-context=example.com')).toMatchObject({ scheme: 'tel', number: '+1-201-555-0123' });
    expect(() => parseUri('sip:[2001:db8::zz]')).toThrow(SipError);
    expect(() => parseUri('sip:host:99999')).toThrow(SipError);
    expect(() => parseUri('sip:us er@host')).toThrow(SipError);
    expect(() => parseUri('sip:a%zz@host')).toThrow(SipError);
    expect(() => parseUri('sip:host_name.example')).toThrow(SipError);
    expect(() => parseUri('sip:1.2.3.4.5')).toThrow(SipError);
    expect(() => parseUri('sip:-bad.example')).toThrow(SipError);
    expect(() => parseUri('sip:256.1.1.1')).toThrow(SipError);
    expect(parseUri('sip:Example.COM.')).toMatchObject({ host: 'example.com.' });
    expect(parseUri('sip:a@3com.example')).toMatchObject({ host: '3com.example' });
  });

  it('decodes escapes in the policy view', () => {
    const m = parseMessage(loadTorture('esc01'), { datagram: true });
    const p = toPolicyMessage(m);
    expect(p.ruri!.user).toBe('sips:user@example.com');
    expect(p.to.user).toBe('user');
    expect(p.from.user).toBe('I have spaces');
  });
});

describe('name-addr, Via, lists', () => {
  it('handles display names, addr-spec params and angle brackets', () => {
    expect(parseNameAddr('sip:alice@a.example;tag=x', 'From')).toMatchObject({ display: null, angle: false, params: { tag: 'x' } });
    expect(parseNameAddr('Alice Smith <sip:alice@a.example;transport=tcp>;tag=y', 'From')).toMatchObject({ display: 'Alice Smith', params: { tag: 'y' } });
    expect(() => parseNameAddr('"unterminated <sip:a@b>', 'To')).toThrow(SipError);
  });

  it('splits lists outside quotes and angle brackets only', () => {
    expect(splitList('"a,b" <sip:x@y;p=1,2>, <sip:z@w>')).toEqual(['"a,b" <sip:x@y;p=1,2>', '<sip:z@w>']);
  });

  it('parses Via with IPv6 sent-by and rport without value', () => {
    expect(parseVia('SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKx;rport')).toMatchObject({ host: '[2001:db8::1]', port: 5061, rport: '' });
    expect(() => parseVia('SIP/2.0/UDP')).toThrow(SipError);
  });
});

describe('policy view', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/sip-message.schema.json', import.meta.url), 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);

  it('matches schemas/sip-message.schema.json for requests and responses', () => {
    for (const buf of [INVITE, loadTorture('wsinv'), loadTorture('intmeth'), loadTorture('unreason'), loadTorture('unksm2'), loadTorture('inv2543')]) {
      const p = toPolicyMessage(parseMessage(buf, { datagram: true }));
      const ok = validate(JSON.parse(JSON.stringify(p)));
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }
  });

  it('expands compact forms and lower-cases header names', () => {
    const p = toPolicyMessage(parseMessage(INVITE));
    expect(p.headers['call-id']).toEqual(['a84b4c76e66710@pc33.atlanta.example']);
    expect(p.headers['contact']).toHaveLength(2);
    expect(p.headers['alert-info']).toHaveLength(3);
    expect(p.headers['via']).toHaveLength(2);
    expect(p.ruri).toMatchObject({ scheme: 'sip', user: 'bob', host: 'biloxi.example' });
    expect(p.from).toMatchObject({ user: 'alice', host: 'atlanta.example', tag: '1928301774', display: 'Alice "A"' });
  });

  it('leaves absent values out (never null): no To tag, port, status or reason on an initial request', () => {
    const p = toPolicyMessage(parseMessage(INVITE));
    expect(Object.keys(p.to)).not.toContain('tag');
    expect(Object.keys(p.ruri!)).not.toContain('port');
    expect(Object.keys(p)).not.toContain('status');
    expect(Object.keys(p)).not.toContain('reason');
    expect(p.max_forwards).toBe(70);
    // nulls only as values of parameters without value
    const nulls: string[] = [];
    const walk = (v: unknown, path: string) => {
      if (v === null && !/\.(params|header_params)\.[^.]+$/.test(path)) nulls.push(path);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    };
    for (const buf of [INVITE, loadTorture('wsinv'), loadTorture('inv2543'), loadTorture('unreason')]) walk(JSON.parse(policyMessageJson(parseMessage(buf, { datagram: true }))), '$');
    expect(nulls).toEqual([]);
    // an RFC 2543 request without Max-Forwards
    expect(Object.keys(toPolicyMessage(parseMessage(loadTorture('inv2543'), { datagram: true })))).not.toContain('max_forwards');
    // the schema refuses null where a value is optional
    expect(validate({ ...JSON.parse(JSON.stringify(p)), status: null })).toBe(false);
    expect(validate({ ...JSON.parse(JSON.stringify(p)), to: { ...p.to, tag: null } })).toBe(false);
  });

  it('gives responses no ruri, and the CSeq method', () => {
    const req = parseMessage(INVITE);
    const resp = parseMessage(buildResponse(req, 486, 'Busy Here', { toTag: 'abc' }).toBuffer());
    const p = toPolicyMessage(resp);
    expect(p).toMatchObject({ kind: 'response', status: 486, reason: 'Busy Here', method: 'INVITE' });
    expect(Object.keys(p)).not.toContain('ruri');
    expect(p.to.tag).toBe('abc');
    expect(validate(JSON.parse(JSON.stringify(p)))).toBe(true);
    // a response with a Request-URI is not one the schema knows
    expect(validate({ ...JSON.parse(JSON.stringify(p)), ruri: toPolicyMessage(req).ruri })).toBe(false);
  });
});

describe('parse memo and frozen views', () => {
  it('shares the parsed view of a repeated value, frozen so that no message can edit it', () => {
    const a = parseMessage(INVITE);
    const b = parseMessage(INVITE);
    expect(b.from).toBe(a.from); // same text: parsed once
    expect(Object.isFrozen(a.from)).toBe(true);
    expect(Object.isFrozen(a.from.params)).toBe(true);
    expect(Object.isFrozen(a.via[0]!.params)).toBe(true);
    expect(() => {
      (a.from.params as Record<string, string>)['tag'] = 'x';
    }).toThrow(TypeError);
    expect(b.from.params['tag']).toBe('1928301774');
  });

  it('never remembers a failure: the same bad value fails every time', () => {
    expect(() => parseNameAddr('<sip:a@b', 'From')).toThrow(SipError);
    expect(() => parseNameAddr('<sip:a@b', 'From')).toThrow(SipError);
    expect(() => parseUri('sip:bad host', 'URI')).toThrow(SipError);
    expect(() => parseUri('sip:bad host', 'URI')).toThrow(SipError);
  });

  it('re-parses after an edit: a clone shares views until one is touched', () => {
    const m = parseMessage(INVITE);
    const via0 = m.via;
    const c = m.clone();
    expect(c.via).toBe(via0);
    c.prepend('Via', 'SIP/2.0/TLS gw.example:5061;branch=z9hG4bKgw1');
    expect(c.via).toHaveLength(via0.length + 1);
    expect(c.via[0]!.host).toBe('gw.example');
    expect(m.via).toBe(via0);
  });

  it('serializes edits and untouched fields byte for byte (runs of the received buffer)', () => {
    const m = parseMessage(INVITE);
    const out = m.toBuffer();
    expect(out.equals(INVITE.subarray(0, out.length))).toBe(true);
    const c = m.clone();
    c.set('Max-Forwards', '9');
    c.remove('Alert-Info');
    c.append('X-Note', 'café ☕');
    const again = parseMessage(c.toBuffer());
    expect(again.get('max-forwards')).toBe('9');
    expect(again.has('alert-info')).toBe(false);
    expect(again.get('x-note')).toBe('café ☕'); // a field we wrote: UTF-8
    expect(again.body.equals(m.body)).toBe(true);
    expect(again.callId).toBe(m.callId);
  });
});

describe('header values', () => {
  it('are trimmed of whatever String.prototype.trim removes (VT, FF, NBSP as well as SP, HTAB), before UTF-8 decoding', () => {
    const head = 'OPTIONS sip:bob@biloxi.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example;branch=z9hG4bKw1\r\nMax-Forwards: 70\r\n' +
      'To: <sip:bob@biloxi.example>\r\nFrom: <sip:a@a.example>;tag=1\r\nCall-ID: w1\r\nCSeq: 1 OPTIONS\r\n' +
      'X-W: \x0b\x0c a  b \xa0\t\r\nX-E:\t \r\nX-U: caf\xc3\xa9 \r\nContent-Length: 0\r\n\r\n';
    const m = parseMessage(Buffer.from(head, 'latin1'));
    expect(m.get('x-w')).toBe('a  b');
    expect(m.get('x-e')).toBe('');
    expect(m.get('x-u')).toBe('caf\u00e9');
  });

  it('with a bare CR or LF are rejected, on one line or folded', () => {
    for (const bad of ['X-B: a\rb\r\n', 'X-B: a\nb\r\n', 'X-B: a\r\n b\rc\r\n']) {
      const raw = `OPTIONS sip:b@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example;branch=z9hG4bKw2\r\n${bad}Call-ID: w2\r\n\r\n`;
      expect(() => parseMessage(Buffer.from(raw, 'latin1')), JSON.stringify(bad)).toThrow(/Bare CR or LF in header field/);
    }
  });
});

describe('policyMessageJson', () => {
  it('is JSON.stringify(toPolicyMessage(msg)) byte for byte: every valid RFC 4475 message, requests and responses, twice (fragment reuse)', () => {
    const valid = tortureCases().filter((c) => c.expect === 'valid');
    expect(valid.length).toBeGreaterThan(10);
    let n = 0;
    for (let round = 0; round < 2; round++) {
      for (const c of valid) {
        const m = parseMessage(loadTorture(c.name), { datagram: true });
        expect(policyMessageJson(m), c.name).toBe(JSON.stringify(toPolicyMessage(m)));
        n++;
      }
      const req = parseMessage(INVITE);
      expect(policyMessageJson(req)).toBe(JSON.stringify(toPolicyMessage(req)));
      const resp = parseMessage(buildResponse(req, 180, 'Ringing "ü"', { toTag: 'abc' }).toBuffer());
      expect(policyMessageJson(resp)).toBe(JSON.stringify(toPolicyMessage(resp)));
    }
    expect(n).toBe(valid.length * 2);
  });

  it('matches JSON.stringify on header names and values that JSON orders or escapes (repeats, numeric names, quotes, tabs, UTF-8), and on edited messages', () => {
    const base = `OPTIONS sip:bob@biloxi.example SIP/2.0
Via: SIP/2.0/UDP a.example;branch=z9hG4bKj1
X-A: say "hi" \\ there	now
Supported: timer, "q,x"
Max-Forwards: 70
To: <sip:bob@biloxi.example>
From: Ann Lee <sip:ann@a.example;user=phone>;tag=t1;9=x;Tag2="q"
X-A: second
X-U: héllo ☃
Call-ID: j1@a.example
Supported: 100rel
CSeq: 1 OPTIONS
`;
    for (const extra of ['', '7: seven\nX-A: third\n']) {
      const m = parseMessage(crlf(base + extra.replace(/\\n/g, '\n') + 'Content-Length: 0\n\n'));
      expect(policyMessageJson(m)).toBe(JSON.stringify(toPolicyMessage(m)));
      m.set('X-A', 'edited "value"');
      m.append('Supported', 'path');
      expect(policyMessageJson(m)).toBe(JSON.stringify(toPolicyMessage(m)));
    }
  });

  it('carries headers named like Object.prototype members (Constructor, __proto__, toString) as headers', () => {
    const m = parseMessage(
      crlf(`OPTIONS sip:bob@biloxi.example SIP/2.0
Via: SIP/2.0/UDP a.example;branch=z9hG4bKp1
Max-Forwards: 70
To: <sip:bob@biloxi.example>
From: <sip:ann@a.example>;tag=t1
Call-ID: p1@a.example
CSeq: 1 OPTIONS
Constructor: one
__proto__: two
toString: three
Constructor: four
Content-Length: 0

`),
    );
    const json = policyMessageJson(m);
    expect(json).toBe(JSON.stringify(toPolicyMessage(m)));
    const headers = JSON.parse(json).headers as Record<string, string[]>;
    expect(Object.getOwnPropertyDescriptor(headers, 'constructor')?.value).toEqual(['one', 'four']);
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toEqual(['two']);
    expect(Object.getOwnPropertyDescriptor(headers, 'tostring')?.value).toEqual(['three']);
  });
});
