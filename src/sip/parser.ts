// RFC 3261 message parser: start line, header fields (with folding and compact forms), body by
// Content-Length, then the checks a proxy needs before it may act on a message (RFC 3261 §16.3,
// RFC 4475). All failures are SipErrors.
import { SipError, badRequest } from './errors.js';
import { canonicalLowerName, displayName, SINGLE_HEADERS } from './header-names.js';
import { TOKEN_RE, isWs } from './syntax.js';
import { withLimits, type SipLimits } from './limits.js';
import { ParsedField, SipMessage, isValidCallId, type HeaderField } from './message.js';
import { isSipUri } from './uri.js';

export interface ParseOptions {
  /** UDP semantics: body runs to the datagram end unless Content-Length says less (RFC 3261 §18.3). */
  datagram?: boolean;
  limits?: Partial<SipLimits>;
  /** Request-URI schemes accepted (others: 416). Default sip, sips, tel. */
  uriSchemes?: readonly string[];
  /** Run the semantic checks (required headers, CSeq/method match, ...). Default true. */
  validate?: boolean;
}

const REQUEST_LINE_RE = /^([^ ]+) ([^ ]+) ([^ ]+)$/;
const STATUS_LINE_RE = /^([^ ]+) (\d+)(?: (.*))?$/s;
const HEX_OR_HIGH = /[\x80-\xff]/;
const DEFAULT_SCHEMES = ['sip', 'sips', 'tel'];

/** Index of the CRLFCRLF ending the header section, searching from `from`; -1 when absent. */
export function findHeaderEnd(buf: Buffer, from = 0): number {
  return buf.indexOf('\r\n\r\n', from, 'latin1');
}

/** Number of leading CRLF / CR / LF bytes (keep-alives and stray line ends before a start line). */
export function leadingLineEnds(buf: Buffer, from = 0): number {
  let i = from;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i - from;
}

function decode(s: string): string {
  // `s` holds bytes as latin1 chars; re-decode as UTF-8 only when non-ASCII bytes are present.
  return HEX_OR_HIGH.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

// Header names as written -> canonical lower-case name, for names that passed the token check:
// names repeat from message to message, so each spelling is validated and lower-cased once.
// Bounded, since names on the wire are chosen by the peer.
const nameMemo = new Map<string, string>();

function headerName(name: string): string {
  const m = nameMemo.get(name);
  if (m !== undefined) return m;
  if (!TOKEN_RE.test(name)) throw badRequest('Invalid header field name');
  const l = canonicalLowerName(name);
  if (nameMemo.size >= 2048) nameMemo.clear();
  nameMemo.set(name, l);
  return l;
}


/** What String.prototype.trim removes, among latin1 chars: TAB..CR, SP, NBSP. */
const isTrimmed = (c: number): boolean => (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0;

/** s.slice(from, to).trim() without the untrimmed slice. */
function trimmedSlice(s: string, from: number, to: number): string {
  let a = from;
  let b = to;
  while (a < b && isTrimmed(s.charCodeAt(a))) a++;
  while (b > a && isTrimmed(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/**
 * Parses the start line and header section `buf[start, headerEnd)` (headerEnd = index of the
 * final CRLFCRLF). Returns the message without body and its declared Content-Length (or null).
 * One pass over the header text: no regex per line, no Buffer per field (raw bytes are a range
 * of `buf`, sliced only when asked for).
 */
export function parseHead(buf: Buffer, start: number, headerEnd: number, limits: SipLimits): { msg: SipMessage; contentLength: number | null } {
  if (headerEnd - start > limits.maxHeaderBytes) throw new SipError(513, 'Message Too Large (header section)');
  const head = buf.toString('latin1', start, headerEnd);
  const len = head.length;
  // bytes >= 0x80 anywhere: values are re-decoded as UTF-8 (most messages are pure ASCII)
  const high = HEX_OR_HIGH.test(head);
  let nl = head.indexOf('\r\n');
  if (nl < 0) nl = len;
  const startLine = head.slice(0, nl);
  if (/[\r\n\x00]/.test(startLine)) throw badRequest('Invalid characters in start line');
  const msg = parseStartLine(startLine, buf.subarray(start, start + nl));

  const headers: HeaderField[] = [];
  let contentLength: number | null = null;
  let cls: string[] | undefined;
  let pos = nl + 2;
  while (pos < len) {
    let lineEnd = head.indexOf('\r\n', pos);
    if (lineEnd < 0) lineEnd = len;
    if (lineEnd === pos) throw badRequest('Empty header line');
    if (isWs(head.charCodeAt(pos))) throw badRequest('Continuation line without a header field');
    const colon = head.indexOf(':', pos);
    if (colon < 0 || colon > lineEnd) throw badRequest('Header line without colon');
    let ne = colon;
    while (ne > pos && isWs(head.charCodeAt(ne - 1))) ne--;
    const name = head.slice(pos, ne);
    const lname = headerName(name);
    let end = lineEnd;
    let next = lineEnd + 2;
    let value: string;
    if (next >= len || !isWs(head.charCodeAt(next))) {
      // one line (the usual case): the checks below on the line itself, one slice for the value
      const cr = head.indexOf('\r', colon + 1);
      const lf = head.indexOf('\n', colon + 1);
      if ((cr >= 0 && cr < lineEnd) || (lf >= 0 && lf < lineEnd)) throw badRequest('Bare CR or LF in header field');
      if (end - pos > limits.maxHeaderLineBytes) throw badRequest('Header field too long');
      value = trimmedSlice(head, colon + 1, lineEnd);
      if (high) value = decode(value);
      headers.push(new ParsedField(name, lname, value, buf, start + pos, start + end));
      if (headers.length > limits.maxHeaderCount) throw badRequest('Too Many Header Fields');
      if (lname === 'content-length') (cls ??= []).push(value);
      pos = next;
      continue;
    }
    value = head.slice(colon + 1, lineEnd);
    // folded continuation lines (RFC 3261 §7.3.1): joined with one space
    while (next < len && isWs(head.charCodeAt(next))) {
      let e = head.indexOf('\r\n', next);
      if (e < 0) e = len;
      value = value.replace(/[ \t]+$/, '') + ' ' + head.slice(next, e).replace(/^[ \t]+/, '');
      end = e;
      next = e + 2;
    }
    if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) throw badRequest('Bare CR or LF in header field');
    if (end - pos > limits.maxHeaderLineBytes) throw badRequest('Header field too long');
    value = value.trim();
    if (high) value = decode(value);
    headers.push(new ParsedField(name, lname, value, buf, start + pos, start + end));
    if (headers.length > limits.maxHeaderCount) throw badRequest('Too Many Header Fields');
    if (lname === 'content-length') (cls ??= []).push(value);
    pos = next;
  }
  msg.headers = headers;
  // Content-Length: must be digits, all occurrences must agree (RFC 4475 §3.1.2.3, §3.3.9).
  if (cls) {
    for (const v of cls) {
      if (!/^\d+$/.test(v)) throw badRequest('Invalid Content-Length');
      if (contentLength !== null) throw badRequest('Multiple Content-Length headers');
      contentLength = v.length > 10 ? Number.MAX_SAFE_INTEGER : Number(v);
    }
  }
  if (contentLength !== null && contentLength > limits.maxBodyBytes) {
    throw new SipError(413, 'Request Entity Too Large', { fatal: true });
  }
  return { msg, contentLength };
}

function parseStartLine(line: string, raw: Buffer): SipMessage {
  if (line.startsWith('SIP/') || line.startsWith('sip/')) {
    const m = STATUS_LINE_RE.exec(line);
    if (!m) throw badRequest('Malformed status line');
    checkVersion(m[1]!);
    if (m[2]!.length !== 3) throw badRequest('Invalid status code');
    const status = Number(m[2]);
    if (status < 100 || status > 699) throw badRequest('Invalid status code');
    const reason = decode(m[3] ?? '');
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(reason)) throw badRequest('Invalid characters in reason phrase');
    return new SipMessage({ kind: 'response', status, reason, startLineRaw: raw });
  }
  const m = REQUEST_LINE_RE.exec(line);
  if (!m) throw badRequest('Malformed request line');
  const [, method, uri, version] = m as unknown as [string, string, string, string];
  if (!TOKEN_RE.test(method)) throw badRequest('Invalid method token');
  if (uri.startsWith('<')) throw badRequest('Request-URI enclosed in <>');
  if (!/^SIP\/\d+\.\d+$/i.test(version)) throw badRequest('Malformed request line (SIP-Version)');
  checkVersion(version.slice(4));
  return new SipMessage({ kind: 'request', method, requestUri: uri, startLineRaw: raw });
}

function checkVersion(v: string): void {
  const ver = v.toUpperCase().startsWith('SIP/') ? v.slice(4) : v;
  if (!/^\d+\.\d+$/.test(ver)) throw badRequest('Malformed SIP-Version');
  if (ver !== '2.0') throw new SipError(505, 'Version Not Supported');
}

const REQUIRED = ['via', 'from', 'to', 'call-id', 'cseq'];

/** A bit per header validateMessage counts (0: any other header). */
function headerBit(lname: string): number {
  switch (lname) {
    case 'to': return 1;
    case 'from': return 2;
    case 'call-id': return 4;
    case 'cseq': return 8;
    case 'max-forwards': return 16;
    case 'content-length': return 32;
    case 'content-type': return 64;
    case 'expires': return 128;
    case 'date': return 256;
    case 'via': return 512;
    default: return 0;
  }
}
const SINGLE_MASK = 511;
// every single-valued header needs its bit (a header added to SINGLE_HEADERS must be added here)
for (const n of SINGLE_HEADERS) if (!(headerBit(n) & SINGLE_MASK)) throw new Error(`parser: no bit for single-valued header ${n}`);

const DATE_RE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * The checks a proxy makes before trusting a parsed message (RFC 3261 §8.2, §16.3; RFC 4475).
 * Parses the structured headers eagerly so that any syntax error surfaces here.
 */
export function validateMessage(msg: SipMessage, uriSchemes: readonly string[] = DEFAULT_SCHEMES): void {
  // one pass: which single-valued headers repeat, which required ones are present (bit sets;
  // errors name the first in SINGLE_HEADERS / REQUIRED order, as before)
  let seen = 0;
  let dup = 0;
  for (const h of msg.headers) {
    const b = headerBit(h.lname);
    if (b === 0) continue;
    if (seen & b & SINGLE_MASK) dup |= b;
    seen |= b;
  }
  if (dup !== 0) {
    for (const name of SINGLE_HEADERS) if (dup & headerBit(name)) throw badRequest(`Multiple ${displayName(name)} headers`);
  }
  for (const name of REQUIRED) {
    if (!(seen & headerBit(name))) throw badRequest(`Missing required header ${displayName(name)}`);
  }
  if (msg.via.length === 0) throw badRequest('Missing required header Via');
  const from = msg.from;
  const to = msg.to;
  void from;
  void to;
  if (!isValidCallId(msg.callId)) throw badRequest('Invalid Call-ID');
  const cseq = msg.cseq;
  void msg.maxForwards;
  void msg.route;
  void msg.recordRoute;
  void msg.contact;
  const date = msg.get('date');
  if (date !== undefined && !DATE_RE.test(date)) throw badRequest('Invalid Date header');
  const expires = msg.get('expires');
  if (expires !== undefined && !/^\d{1,10}$/.test(expires)) throw badRequest('Invalid Expires header');
  if (msg.kind === 'request') {
    if (cseq.method !== msg.method) throw badRequest('CSeq method does not match request method');
    const scheme = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(msg.requestUri)?.[1]?.toLowerCase();
    if (scheme && !uriSchemes.includes(scheme)) throw new SipError(416, 'Unsupported URI Scheme');
    const ruri = msg.ruri;
    if (isSipUri(ruri) && Object.keys(ruri.headers).length > 0) throw badRequest('Request-URI must not contain headers');
  } else {
    msg.method = cseq.method;
  }
}

/**
 * Parses one complete message from `buf` (a UDP datagram, or a frame cut by the stream framer).
 * Leading CRLFs are skipped. Throws SipError on bad input.
 */
export function parseMessage(buf: Buffer, opts: ParseOptions = {}): SipMessage {
  const limits = withLimits(opts.limits);
  if (buf.length > limits.maxMessageBytes) throw new SipError(513, 'Message Too Large');
  const start = leadingLineEnds(buf);
  const headerEnd = findHeaderEnd(buf, start);
  if (headerEnd < 0) throw badRequest('Incomplete header section');
  const { msg, contentLength } = parseHead(buf, start, headerEnd, limits);
  const bodyStart = headerEnd + 4;
  const available = buf.length - bodyStart;
  if (contentLength === null) {
    // UDP: the body is the rest of the datagram. Stream frames always come with their length.
    msg.body = opts.datagram ? buf.subarray(bodyStart) : buf.subarray(bodyStart);
  } else if (contentLength > available) {
    throw badRequest('Content-Length larger than message');
  } else {
    // extra octets after the declared body are discarded (RFC 3261 §18.3, RFC 4475 §3.1.1.8)
    msg.body = buf.subarray(bodyStart, bodyStart + contentLength);
  }
  if (opts.validate !== false) validateMessage(msg, opts.uriSchemes ?? DEFAULT_SCHEMES);
  return msg;
}

/** Like parseMessage, but returns the SipError instead of throwing (never throws). */
export function tryParseMessage(buf: Buffer, opts: ParseOptions = {}): { ok: true; msg: SipMessage } | { ok: false; error: SipError } {
  try {
    return { ok: true, msg: parseMessage(buf, opts) };
  } catch (e) {
    if (e instanceof SipError) return { ok: false, error: e };
    // A non-SipError is a parser bug; still fail closed with a 400 rather than crash the process.
    return { ok: false, error: badRequest('Unparseable message') };
  }
}
