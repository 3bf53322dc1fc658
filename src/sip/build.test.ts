import { describe, expect, it } from 'vitest';
import { parseMessage, stampReceived, buildResponse, buildCancel, parseAlertInfo, proxyRequireUnsupported, generateBranch, isRfc3261Branch } from './index.js';
import { loadTorture } from './fixtures/torture.js';

const req = (via: string): ReturnType<typeof parseMessage> =>
  parseMessage(Buffer.from(`OPTIONS sip:b@biloxi.example SIP/2.0\r\nVia: ${via}\r\nTo: <sip:b@biloxi.example>\r\nFrom: <sip:a@atlanta.example>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`));

describe('builders and helpers', () => {
  it('stamps received and rport on the top Via (RFC 3261 §18.2.1, RFC 3581)', () => {
    const m = req('SIP/2.0/UDP pc33.atlanta.example;branch=z9hG4bK1;rport, SIP/2.0/UDP p2.example;branch=z9hG4bK0');
    stampReceived(m, '192.0.2.7', 40000);
    expect(m.via[0]).toMatchObject({ received: '192.0.2.7', rport: '40000', branch: 'z9hG4bK1' });
    expect(m.via).toHaveLength(2);
    const same = req('SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1');
    stampReceived(same, '192.0.2.7', 5060);
    expect(same.via[0]!.received).toBeNull();
  });

  it('builds responses that echo the request Via bytes and add a To tag', () => {
    const inv = parseMessage(loadTorture('wsinv'), { datagram: true });
    const r = buildResponse(inv, 403, 'Certificate Not Trusted', { toTag: 'zz' });
    const p = parseMessage(r.toBuffer());
    expect(p.status).toBe(403);
    expect(p.reason).toBe('Certificate Not Trusted');
    expect(p.via).toHaveLength(3);
    expect(p.to.params['tag']).toBe('1918181833n'); // already tagged: kept
    expect(r.toString()).toContain('Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n');
  });

  it('builds CANCEL with the INVITE top Via only', () => {
    const inv = parseMessage(loadTorture('wsinv'), { datagram: true });
    const c = parseMessage(buildCancel(inv).toBuffer());
    expect(c.method).toBe('CANCEL');
    expect(c.via).toHaveLength(1);
    expect(c.via[0]!.branch).toBe('390skdjuw');
    expect(c.cseq).toEqual({ seq: 9, method: 'CANCEL' });
    expect(c.route).toHaveLength(1);
  });

  it('parses Alert-Info in URI and token form', () => {
    expect(parseAlertInfo('<http://www.notused.com>;info=alert-internal')).toEqual({ uri: 'http://www.notused.com', token: null, params: { info: 'alert-internal' } });
    expect(parseAlertInfo('Bellcore-dr4')).toMatchObject({ uri: null, token: 'Bellcore-dr4' });
    expect(() => parseAlertInfo('<http://x')).toThrow();
  });

  it('lists unsupported Proxy-Require option tags (the proxy answers 420)', () => {
    const m = parseMessage(loadTorture('bext01'), { datagram: true });
    expect(proxyRequireUnsupported(m)).toEqual(['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
    expect(proxyRequireUnsupported(m, ['noproxiessupportthis', 'nordoanyproxiessupportthis'])).toEqual([]);
  });

  it('generates RFC 3261 branches', () => {
    const b = generateBranch();
    expect(isRfc3261Branch(b)).toBe(true);
    expect(generateBranch()).not.toBe(b);
    // drawn from a pooled CSPRNG: distinct across several pool refills, 12 base64url chars each
    const many = Array.from({ length: 3000 }, generateBranch);
    expect(new Set(many).size).toBe(3000);
    for (const x of many) expect(x).toMatch(/^z9hG4bK[A-Za-z0-9_-]{12}$/);
  });
});
