// SIP/SIPS/tel URI parsing (RFC 3261 §19.1, §25; RFC 3966 for tel). Other schemes are kept as
// opaque absolute URIs so that To/From/Contact with unusual schemes still parse (RFC 4475 §3.3.4).
import { isIP } from 'node:net';
import { badRequest } from './errors.js';
import { ParseMemo, newParams, type Params } from './syntax.js';

export interface SipUri {
  scheme: 'sip' | 'sips';
  /** user part as written (still percent-escaped), null when absent */
  user: string | null;
  password: string | null;
  /** lower-cased host; IPv6 references keep their brackets */
  host: string;
  port: number | null;
  /** uri-parameters: lower-cased names, values as written (escaped), null for flags like lr */
  params: Params;
  /** URI headers (?a=b&c=d), names and values as written */
  headers: Record<string, string>;
  raw: string;
}

export interface TelUri {
  scheme: 'tel';
  /** the telephone-subscriber number (global +digits or local) */
  number: string;
  params: Params;
  raw: string;
}

export interface OtherUri {
  scheme: string;
  opaque: string;
  raw: string;
}

export type Uri = SipUri | TelUri | OtherUri;

export const isSipUri = (u: Uri): u is SipUri => u.scheme === 'sip' || u.scheme === 'sips';
export const isTelUri = (u: Uri): u is TelUri => u.scheme === 'tel';

const USER_RE = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
const USER_PLAIN_RE = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]+$/;
const PASSWORD_RE = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$/;
const PARAMCHARS_RE = /^(?:[A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-Fa-f]{2})+$/;
const PARAMCHARS_PLAIN_RE = /^[A-Za-z0-9\-_.!~*'()[\]/:&+$]+$/;
const paramchars = (v: string): boolean => (v.indexOf('%') < 0 ? PARAMCHARS_PLAIN_RE : PARAMCHARS_RE).test(v);
const HNAME_RE = /^(?:[A-Za-z0-9\-_.!~*'()[\]/?:+$]|%[0-9A-Fa-f]{2})+$/;
const HVALUE_RE = /^(?:[A-Za-z0-9\-_.!~*'()[\]/?:+$]|%[0-9A-Fa-f]{2})*$/;
// labels of alphanum and '-', not starting or ending with '-' (no nested quantifiers: linear time)
const HOSTNAME_RE = /^(?!-)[A-Za-z0-9-]+(?<!-)(?:\.(?!-)[A-Za-z0-9-]+(?<!-))*\.?$/;

/** hostname = *( domainlabel "." ) toplabel [ "." ], toplabel starting with a letter */
function isHostname(h: string): boolean {
  if (!HOSTNAME_RE.test(h)) return false;
  const end = h.endsWith('.') ? h.length - 1 : h.length;
  const top = h.lastIndexOf('.', end - 1) + 1;
  return h.charCodeAt(top) > 0x39; // a letter (digits are 0x30-0x39, '-' excluded above)
}
const IPV4_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+\-.]*$/;

/** Validates a host (hostname, IPv4address or IPv6reference) and returns it lower-cased. */
export function parseHost(host: string, what = 'URI'): string {
  if (host.startsWith('[')) {
    if (!host.endsWith(']') || isIP(host.slice(1, -1)) !== 6) throw badRequest(`Invalid IPv6 reference in ${what}`);
    return host.toLowerCase();
  }
  if (IPV4_RE.test(host)) {
    if (isIP(host) !== 4) throw badRequest(`Invalid IPv4 address in ${what}`);
    return host;
  }
  if (!isHostname(host)) throw badRequest(`Invalid host in ${what}`);
  return host.toLowerCase();
}

/** Splits "host[:port]" (host may be an IPv6 reference). */
export function parseHostPort(hp: string, what: string): { host: string; port: number | null } {
  let host = hp;
  let portStr: string | null = null;
  if (hp.startsWith('[')) {
    const close = hp.indexOf(']');
    if (close < 0) throw badRequest(`Invalid IPv6 reference in ${what}`);
    host = hp.slice(0, close + 1);
    const rest = hp.slice(close + 1);
    if (rest !== '') {
      if (rest[0] !== ':') throw badRequest(`Invalid host in ${what}`);
      portStr = rest.slice(1);
    }
  } else {
    const colon = hp.indexOf(':');
    if (colon >= 0) {
      host = hp.slice(0, colon);
      portStr = hp.slice(colon + 1);
    }
  }
  let port: number | null = null;
  if (portStr !== null) {
    if (!/^\d{1,5}$/.test(portStr) || Number(portStr) > 65535) throw badRequest(`Invalid port in ${what}`);
    port = Number(portStr);
  }
  return { host: parseHost(host, what), port };
}

function parseUriParams(s: string, what: string): Params {
  const params: Params = newParams();
  if (s === '') return params;
  for (const part of s.split(';')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? null : part.slice(eq + 1);
    if (!paramchars(name)) throw badRequest(`Invalid URI parameter in ${what}`);
    if (value !== null && !paramchars(value)) throw badRequest(`Invalid URI parameter value in ${what}`);
    params[name.toLowerCase()] = value;
  }
  return params;
}

const uriMemo = new ParseMemo<Uri>();

/**
 * Parses any URI. `what` names the place for error reasons (e.g. "Request-URI", "To"). The
 * result is frozen and may be shared with other messages carrying the same text.
 */
export function parseUri(raw: string, what = 'URI'): Uri {
  return uriMemo.through(raw, what, parseUriText);
}

function parseUriText(raw: string, what: string): Uri {
  const colon = raw.indexOf(':');
  if (colon <= 0) throw badRequest(`Invalid ${what}: no scheme`);
  const schemeRaw = raw.slice(0, colon);
  if (!SCHEME_RE.test(schemeRaw)) throw badRequest(`Invalid ${what}: bad scheme`);
  const scheme = schemeRaw.toLowerCase();
  const rest = raw.slice(colon + 1);
  if (/[\x00-\x20\x7f<>"]/.test(rest) || rest === '') throw badRequest(`Invalid characters in ${what}`);
  if (scheme === 'sip' || scheme === 'sips') return parseSip(scheme, rest, raw, what);
  if (scheme === 'tel') return parseTel(rest, raw, what);
  return { scheme, opaque: rest, raw };
}

function parseSip(scheme: 'sip' | 'sips', rest: string, raw: string, what: string): SipUri {
  let user: string | null = null;
  let password: string | null = null;
  const at = rest.indexOf('@');
  let hostPart = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    // The password separator is the first ':' (user-unreserved has no ':').
    const c = userinfo.indexOf(':');
    user = c < 0 ? userinfo : userinfo.slice(0, c);
    password = c < 0 ? null : userinfo.slice(c + 1);
    if (!(user.indexOf('%') < 0 ? USER_PLAIN_RE : USER_RE).test(user)) throw badRequest(`Invalid user part in ${what}`);
    if (password !== null && !PASSWORD_RE.test(password)) throw badRequest(`Invalid password in ${what}`);
  }
  let headersStr = '';
  const q = hostPart.indexOf('?');
  if (q >= 0) {
    headersStr = hostPart.slice(q + 1);
    hostPart = hostPart.slice(0, q);
  }
  const semi = hostPart.indexOf(';');
  const hp = semi < 0 ? hostPart : hostPart.slice(0, semi);
  const { host, port } = parseHostPort(hp, what);
  const params = parseUriParams(semi < 0 ? '' : hostPart.slice(semi + 1), what);
  const headers: Record<string, string> = {};
  if (q >= 0) {
    for (const h of headersStr.split('&')) {
      const eq = h.indexOf('=');
      if (eq <= 0) throw badRequest(`Invalid URI header in ${what}`);
      const n = h.slice(0, eq);
      const v = h.slice(eq + 1);
      if (!HNAME_RE.test(n) || !HVALUE_RE.test(v)) throw badRequest(`Invalid URI header in ${what}`);
      headers[n] = v;
    }
  }
  return { scheme, user, password, host, port, params, headers, raw };
}

function parseTel(rest: string, raw: string, what: string): TelUri {
  const semi = rest.indexOf(';');
  const number = semi < 0 ? rest : rest.slice(0, semi);
  if (!/^(\+[0-9\-.()]*[0-9][0-9\-.()]*|[0-9A-Fa-f*#\-.()]*[0-9A-Fa-f*#][0-9A-Fa-f*#\-.()]*)$/.test(number)) {
    throw badRequest(`Invalid telephone number in ${what}`);
  }
  return { scheme: 'tel', number, params: parseUriParams(semi < 0 ? '' : rest.slice(semi + 1), what), raw };
}

/** Builds the text of a SIP URI from its parts (used when a URI is modified). */
export function formatSipUri(u: Omit<SipUri, 'raw'>): string {
  let s = `${u.scheme}:`;
  if (u.user !== null) s += u.user + (u.password !== null ? `:${u.password}` : '') + '@';
  s += u.host;
  if (u.port !== null) s += `:${u.port}`;
  for (const [k, v] of Object.entries(u.params)) s += v === null ? `;${k}` : `;${k}=${v}`;
  const hs = Object.entries(u.headers);
  if (hs.length) s += '?' + hs.map(([k, v]) => `${k}=${v}`).join('&');
  return s;
}
