// Building messages from others: responses to requests (RFC 3261 §8.2.6), the hop-by-hop ACK for
// a non-2xx final response (§17.1.1.3) and CANCEL (§9.1). Also branch/tag generation.
import { randomBytes } from 'node:crypto';
import { SipMessage, makeField, type HeaderField } from './message.js';
import { MAGIC_COOKIE, formatVia } from './via.js';
import { splitList } from './syntax.js';

// Branches and tags stay unpredictable (an off-path peer must not guess the branch of a client
// transaction and forge its responses), but one CSPRNG call per message cost more than the rest of
// building the Via: random bytes are drawn 4 KB at a time and used once each.
let pool = Buffer.alloc(0);
let poolPos = 0;
function randomSlice(n: number): Buffer {
  if (poolPos + n > pool.length) {
    pool = randomBytes(4096);
    poolPos = 0;
  }
  const b = pool.subarray(poolPos, poolPos + n);
  poolPos += n;
  return b;
}

export function generateBranch(): string {
  return MAGIC_COOKIE + randomSlice(9).toString('base64url');
}

export function generateTag(): string {
  return randomSlice(6).toString('hex');
}

const DEFAULT_REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 400: 'Bad Request', 401: 'Unauthorized',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Request Entity Too Large',
  415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 420: 'Bad Extension', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops', 486: 'Busy Here',
  487: 'Request Terminated', 488: 'Not Acceptable Here', 500: 'Server Internal Error', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
};

export function defaultReason(status: number): string {
  return DEFAULT_REASONS[status] ?? (status < 200 ? 'Session Progress' : status < 300 ? 'OK' : 'Error');
}

function copy(req: SipMessage, lname: string): HeaderField[] {
  return req.headers.filter((h) => h.lname === lname);
}

/**
 * A response to `req`: copies Via (all, in order), From, To (adding toTag when the request's To
 * has no tag and status > 100), Call-ID and CSeq; Content-Length 0. Raw bytes of copied fields
 * are kept, so the response echoes the request's Via values exactly.
 */
export function buildResponse(req: SipMessage, status: number, reason?: string, opts: { toTag?: string; headers?: [string, string][] } = {}): SipMessage {
  const headers: HeaderField[] = [...copy(req, 'via'), ...copy(req, 'from')];
  const to = copy(req, 'to')[0];
  if (to) {
    if (status > 100 && opts.toTag && req.to.params['tag'] === undefined) headers.push(makeField('To', `${to.value};tag=${opts.toTag}`));
    else headers.push(to);
  }
  headers.push(...copy(req, 'call-id'), ...copy(req, 'cseq'));
  for (const [n, v] of opts.headers ?? []) headers.push(makeField(n, v));
  headers.push(makeField('Content-Length', '0'));
  const r = (reason ?? defaultReason(status)).replace(/[\r\n]/g, ' ');
  return new SipMessage({ kind: 'response', status, reason: r, method: req.method, headers });
}

/**
 * The ACK a client transaction sends for a 3xx-6xx answer to `invite` (RFC 3261 §17.1.1.3):
 * same Request-URI, Call-ID, From, top Via and Route set; To from the response; CSeq method ACK.
 */
export function buildAckForNon2xx(invite: SipMessage, response: SipMessage): SipMessage {
  const topVia = invite.via.length ? splitList(invite.fields('via')[0]!.value)[0]! : '';
  const headers: HeaderField[] = [
    makeField('Via', topVia),
    ...copy(invite, 'route'),
    makeField('Max-Forwards', '70'),
    ...copy(invite, 'from'),
    ...copy(response, 'to'),
    ...copy(invite, 'call-id'),
    makeField('CSeq', `${invite.cseq.seq} ACK`),
    makeField('Content-Length', '0'),
  ];
  return new SipMessage({ kind: 'request', method: 'ACK', requestUri: invite.requestUri, headers });
}

/** CANCEL for a pending INVITE (RFC 3261 §9.1): same Request-URI, top Via, From, To, Call-ID, Route; CSeq method CANCEL. */
export function buildCancel(invite: SipMessage, extra: [string, string][] = []): SipMessage {
  const topVia = splitList(invite.fields('via')[0]!.value)[0]!;
  const headers: HeaderField[] = [
    makeField('Via', topVia),
    ...copy(invite, 'route'),
    makeField('Max-Forwards', '70'),
    ...copy(invite, 'from'),
    ...copy(invite, 'to'),
    ...copy(invite, 'call-id'),
    makeField('CSeq', `${invite.cseq.seq} CANCEL`),
    ...extra.map(([n, v]) => makeField(n, v)),
    makeField('Content-Length', '0'),
  ];
  return new SipMessage({ kind: 'request', method: 'CANCEL', requestUri: invite.requestUri, headers });
}

/** Option tags in Proxy-Require that this proxy does not support (non-empty: answer 420 with Unsupported). */
export function proxyRequireUnsupported(req: SipMessage, supported: readonly string[] = []): string[] {
  const sup = new Set(supported.map((s) => s.toLowerCase()));
  return req.getAll('proxy-require').filter((t) => t !== '' && !sup.has(t.toLowerCase()));
}

/**
 * RFC 3261 §18.2.1 + RFC 3581 §4, on a received request (any transport): the top Via gets
 * `received=<source address>` when its sent-by host is not that address or when it asks for
 * `rport`, and an empty `rport` gets the source port. Responses built from the request and the
 * request as forwarded carry the stamped Via. Nothing is allocated when nothing changes (the
 * usual case between proxies: an IP sent-by without rport).
 */
export function stampReceived(req: SipMessage, address: string, port: number): void {
  const top = req.via[0];
  if (!top || !address) return;
  const host = top.host.charCodeAt(0) === 0x5b ? top.host.slice(1, -1) : top.host; // [IPv6]
  const addReceived = top.rport !== null || (host !== address && host.toLowerCase() !== address.toLowerCase());
  const addRport = top.rport === '';
  if (!addReceived && !addRport) return;
  if (addReceived && top.received === address && !addRport) return; // stamped already (a request answered twice)
  const params = { ...top.params };
  if (addReceived) params['received'] = address;
  if (addRport) params['rport'] = String(port);
  req.replaceFirstValue('via', formatVia({ ...top, params }));
}
