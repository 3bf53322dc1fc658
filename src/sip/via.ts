// Via header values (RFC 3261 §20.42, §18.2.1; RFC 3581 rport).
import { badRequest } from './errors.js';
import { parseParams, splitList, formatParams, ParseMemo, isTokenChar, isWs, TOKEN_RE, type Params } from './syntax.js';
import { parseHostPort } from './uri.js';

/** RFC 3261 branch magic cookie */
export const MAGIC_COOKIE = 'z9hG4bK';

export interface Via {
  protocol: string; // "SIP"
  version: string; // "2.0"
  /** upper-cased transport token: UDP, TCP, TLS, SCTP, WS, WSS or an unknown token */
  transport: string;
  host: string;
  port: number | null;
  params: Params;
  branch: string | null;
  received: string | null;
  /** rport: null when absent, '' when present without value, else the value */
  rport: string | null;
}

const SENT_PROTOCOL_RE = /^([^\s/]+)[ \t]*\/[ \t]*([^\s/]+)[ \t]*\/[ \t]*([^\s/;]+)[ \t]+(.*)$/s;

const memo = new ParseMemo<Via>();

/** Parses one Via value (frozen; may be shared with other messages carrying the same text). */
export function parseVia(value: string): Via {
  return memo.through(value, 'Via', parseViaText);
}

function parseViaText(value: string): Via {
  return scanVia(value) ?? parseViaRegex(value);
}


/** Interned spellings of the usual sent-protocol parts (no string per Via for them). */
function part(value: string, start: number, end: number): string {
  switch (end - start) {
    case 3:
      if (value.startsWith('SIP', start)) return 'SIP';
      if (value.startsWith('2.0', start)) return '2.0';
      if (value.startsWith('UDP', start)) return 'UDP';
      if (value.startsWith('TCP', start)) return 'TCP';
      if (value.startsWith('TLS', start)) return 'TLS';
      if (value.startsWith('WSS', start)) return 'WSS';
      break;
    case 2:
      if (value.startsWith('WS', start)) return 'WS';
      break;
  }
  return value.slice(start, end);
}

/**
 * The common shape of a Via, scanned without regexes: `token/token/token` SP... `host[:port]`
 * with no whitespace in it, then parameters. Returns null for anything else (leading or trailing
 * whitespace, LWS around '/' or ':', other characters), which parseViaRegex then parses or
 * rejects as it always did; what this accepts, that parses to the same Via.
 */
function scanVia(value: string): Via | null {
  const n = value.length;
  // ends in printable ASCII: nothing for trim() to remove
  const last = n === 0 ? 0 : value.charCodeAt(n - 1);
  if (last <= 0x20 || last >= 0x7f) return null;
  let i = 0;
  while (i < n && isTokenChar(value.charCodeAt(i))) i++;
  const p1 = i;
  if (p1 === 0 || value.charCodeAt(i) !== 0x2f) return null; // '/'
  i++;
  while (i < n && isTokenChar(value.charCodeAt(i))) i++;
  const p2 = i;
  if (p2 === p1 + 1 || value.charCodeAt(i) !== 0x2f) return null;
  i++;
  while (i < n && isTokenChar(value.charCodeAt(i))) i++;
  const p3 = i;
  if (p3 === p2 + 1 || i >= n || !isWs(value.charCodeAt(i))) return null;
  while (i < n && isWs(value.charCodeAt(i))) i++;
  const hs = i;
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x3b) break; // ';'
    if (c <= 0x20 || c >= 0x7f) return null; // whitespace of any kind (trim() would strip it)

  }
  if (i === hs) return null;
  const { host, port } = parseHostPort(value.slice(hs, i), 'Via sent-by');
  const params = parseParams(i < n ? value.slice(i) : '', 'Via');
  const protocol = part(value, 0, p1);
  const transport = part(value, p2 + 1, p3);
  return finishVia(protocol, part(value, p1 + 1, p2), transport, host, port, params);
}

/** The general Via parser (regexes), also the reference the scanner is tested against. */
export function parseViaRegex(value: string): Via {
  const m = SENT_PROTOCOL_RE.exec(value.trim());
  if (!m) throw badRequest('Malformed Via header');
  const [, protocol, version, transport, rest] = m as unknown as [string, string, string, string, string];
  if (!TOKEN_RE.test(protocol) || !TOKEN_RE.test(version) || !TOKEN_RE.test(transport)) throw badRequest('Malformed Via sent-protocol');
  const semi = rest.indexOf(';');
  const sentBy = (semi < 0 ? rest : rest.slice(0, semi)).trim();
  // LWS is allowed around the ':' of sent-by (RFC 3261 §25.1 COLON); IPv6 keeps its brackets.
  const { host, port } = parseHostPort(sentBy.replace(/[ \t]*:[ \t]*(\d+)$/, ':$1'), 'Via sent-by');
  const params = parseParams(semi < 0 ? '' : rest.slice(semi), 'Via');
  return finishVia(protocol, version, transport, host, port, params);
}

function finishVia(protocol: string, version: string, transport: string, host: string, port: number | null, params: Params): Via {
  const branch = params['branch'];
  if (branch === '' ) throw badRequest('Empty Via branch');
  const ttl = params['ttl'];
  if (ttl !== undefined && (ttl === null || !/^\d{1,3}$/.test(ttl) || Number(ttl) > 255)) throw badRequest('Invalid Via ttl');
  const rport = params['rport'];
  if (rport !== undefined && rport !== null && !/^\d{1,5}$/.test(rport)) throw badRequest('Invalid Via rport');
  return {
    protocol: protocol.toUpperCase(),
    version,
    transport: transport.toUpperCase(),
    host,
    port,
    params,
    branch: branch ?? null,
    received: params['received'] ?? null,
    rport: rport === undefined ? null : (rport ?? ''),
  };
}

export function parseViaList(value: string): Via[] {
  return splitList(value).map((el) => {
    if (el === '') throw badRequest('Empty element in Via list');
    return parseVia(el);
  });
}

export function formatVia(v: Pick<Via, 'transport' | 'host' | 'port' | 'params'> & { protocol?: string; version?: string }): string {
  return `${v.protocol ?? 'SIP'}/${v.version ?? '2.0'}/${v.transport} ${v.host}${v.port !== null ? `:${v.port}` : ''}${formatParams(v.params)}`;
}

/** True when the branch is an RFC 3261 branch (magic cookie followed by at least one char). */
export function isRfc3261Branch(branch: string | null | undefined): branch is string {
  return !!branch && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE);
}
