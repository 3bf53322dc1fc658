// name-addr / addr-spec values (From, To, Contact, Route, Record-Route, Refer-To, ...): RFC 3261 §20.10, §25.
import { badRequest } from './errors.js';
import { parseParams, readQuoted, splitList, formatParams, formatDisplayName, ParseMemo, isTokenChar, TOKEN_RE, type Params } from './syntax.js';
import { parseUri, type Uri } from './uri.js';

export interface NameAddr {
  /** unquoted, unescaped display name; null when absent */
  display: string | null;
  uri: Uri;
  /** header parameters (after the URI / closing '>'): lower-cased names */
  params: Params;
  /** true when the URI was written in angle brackets */
  angle: boolean;
}

const WS_RE = /[ \t]/;

const memo = new ParseMemo<NameAddr>();

/** Parses one name-addr or addr-spec with trailing header parameters (frozen; may be shared). */
export function parseNameAddr(value: string, what: string): NameAddr {
  return memo.through(value, what, parseNameAddrText);
}

/**
 * The usual unquoted display name, `v[0, end)` = tokens separated by single spaces, with
 * trailing spaces: returned without them (what the general path makes of it). Null for
 * anything else (tabs, runs of spaces, other characters), left to the general path.
 */
function plainDisplayName(v: string, end: number): string | null {
  let e = end;
  while (e > 0 && v.charCodeAt(e - 1) === 0x20) e--;
  for (let k = 0; k < e; k++) {
    const c = v.charCodeAt(k);
    if (c === 0x20) {
      if (k === 0 || v.charCodeAt(k - 1) === 0x20) return null;
    } else if (!isTokenChar(c)) return null;
  }
  return e === 0 ? '' : v.slice(0, e);
}

function parseNameAddrText(value: string, what: string): NameAddr {
  const v = value.trim();
  if (v === '') throw badRequest(`Empty ${what} header value`);
  let display: string | null = null;
  let i = 0;
  if (v[0] === '"') {
    const q = readQuoted(v, 0);
    display = q.text;
    i = q.end;
    while (WS_RE.test(v[i] ?? '')) i++;
    if (v[i] !== '<') throw badRequest(`Missing <URI> after display name in ${what}`);
  } else {
    const lt = v.indexOf('<');
    // A '<' before any ';' starts a bracketed URI; the text before it is a display name of tokens.
    const semi = v.indexOf(';');
    if (lt >= 0 && (semi < 0 || lt < semi)) {
      const plain = plainDisplayName(v, lt);
      if (plain !== null) {
        if (plain !== '') display = plain;
      } else {
        const d = v.slice(0, lt).trim();
        if (d !== '') {
          for (const t of d.split(/[ \t]+/)) if (!TOKEN_RE.test(t)) throw badRequest(`Invalid display name in ${what}`);
          display = d.replace(/[ \t]+/g, ' ');
        }
      }
      i = lt;
    } else {
      // addr-spec: no brackets, parameters after ';' belong to the header.
      const uriText = (semi < 0 ? v : v.slice(0, semi)).trim();
      if (/[ \t]/.test(uriText)) throw badRequest(`Invalid URI (whitespace) in ${what}`);
      // RFC 3261 §20: a URI with ',', '?' or ';' must be in angle brackets.
      if (/[?,]/.test(uriText)) throw badRequest(`URI with '?' or ',' not enclosed in <> in ${what}`);
      const uri = parseUri(uriText, what);
      const params = parseParams(semi < 0 ? '' : v.slice(semi), what);
      return { display: null, uri, params, angle: false };
    }
  }
  // v[i] === '<'
  const gt = v.indexOf('>', i);
  if (gt < 0) throw badRequest(`Unterminated <URI> in ${what}`);
  const uriText = v.slice(i + 1, gt);
  if (uriText !== uriText.trim()) throw badRequest(`Whitespace inside <URI> in ${what}`);
  const uri = parseUri(uriText, what);
  const params = parseParams(v.slice(gt + 1), what);
  return { display, uri, params, angle: true };
}

/** Parses a comma-separated list of name-addrs (Contact, Route, Record-Route, ...). */
export function parseNameAddrList(value: string, what: string): NameAddr[] {
  return splitList(value).map((el) => {
    if (el === '') throw badRequest(`Empty element in ${what} list`);
    return parseNameAddr(el, what);
  });
}

/** Writes a name-addr in canonical form (always with angle brackets). */
export function formatNameAddr(a: { display?: string | null; uri: string | Uri; params?: Params }): string {
  const uri = typeof a.uri === 'string' ? a.uri : a.uri.raw;
  const d = a.display ? `${formatDisplayName(a.display)} ` : '';
  return `${d}<${uri}>${a.params ? formatParams(a.params) : ''}`;
}

export interface AlertInfo {
  /** the URI inside <...>, or null for token-style values such as "Bellcore-dr4" */
  uri: string | null;
  /** the value as written, for token-style values */
  token: string | null;
  params: Params;
}

/**
 * One Alert-Info element: `<absoluteURI> *(;param)` (RFC 3261 §20.4). Token-style values used by
 * some phones ("Bellcore-dr4") are accepted as tokens.
 */
export function parseAlertInfo(value: string): AlertInfo {
  const v = value.trim();
  if (v.startsWith('<')) {
    const gt = v.indexOf('>');
    if (gt < 0) throw badRequest('Unterminated <URI> in Alert-Info');
    const uri = v.slice(1, gt);
    if (!/^[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>"]+$/.test(uri)) throw badRequest('Invalid URI in Alert-Info');
    return { uri, token: null, params: parseParams(v.slice(gt + 1), 'Alert-Info') };
  }
  const semi = v.indexOf(';');
  const token = (semi < 0 ? v : v.slice(0, semi)).trim();
  if (!TOKEN_RE.test(token)) throw badRequest('Invalid Alert-Info value');
  return { uri: null, token, params: parseParams(semi < 0 ? '' : v.slice(semi), 'Alert-Info') };
}
