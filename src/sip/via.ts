// Via header values (RFC 3261 §20.42, §18.2.1; RFC 3581 rport).
import { badRequest } from './errors.js';
import { parseParams, splitList, formatParams, ParseMemo, freezeView, TOKEN_RE, type Params } from './syntax.js';
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
  return memo.get(value) ?? memo.set(value, freezeView(parseViaText(value)));
}

function parseViaText(value: string): Via {
  const m = SENT_PROTOCOL_RE.exec(value.trim());
  if (!m) throw badRequest('Malformed Via header');
  const [, protocol, version, transport, rest] = m as unknown as [string, string, string, string, string];
  if (!TOKEN_RE.test(protocol) || !TOKEN_RE.test(version) || !TOKEN_RE.test(transport)) throw badRequest('Malformed Via sent-protocol');
  const semi = rest.indexOf(';');
  const sentBy = (semi < 0 ? rest : rest.slice(0, semi)).trim();
  // LWS is allowed around the ':' of sent-by (RFC 3261 §25.1 COLON); IPv6 keeps its brackets.
  const { host, port } = parseHostPort(sentBy.replace(/[ \t]*:[ \t]*(\d+)$/, ':$1'), 'Via sent-by');
  const params = parseParams(semi < 0 ? '' : rest.slice(semi), 'Via');
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
