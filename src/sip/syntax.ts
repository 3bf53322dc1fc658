// Low-level RFC 3261 grammar helpers shared by the URI, address, Via and message parsers.
import { badRequest } from './errors.js';

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
export const isToken = (s: string): boolean => TOKEN_RE.test(s);

/** Call-ID word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" /
 *  "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}") */
export const WORD_RE = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+$/;

/** SP or HTAB (the WSP of RFC 3261's LWS). */
export const isWs = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * Splits a header value on commas that are outside quoted strings and angle brackets.
 * Returns the trimmed elements (empty elements are kept so callers can reject them).
 */
export function splitList(value: string): string[] {
  // one element, no quoted string (the usual case): nothing to scan for
  if (value.indexOf(',') < 0 && value.indexOf('"') < 0) return [value.trim()];
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++; // backslash escapes the next char
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (inQuote) throw badRequest('Unterminated quoted string');
  out.push(value.slice(start).trim());
  return out;
}

/** Reads a quoted-string starting at value[pos] === '"'. Returns the unescaped text and the index after the closing quote. */
export function readQuoted(value: string, pos: number): { text: string; end: number } {
  let text = '';
  for (let i = pos + 1; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') {
      if (i + 1 >= value.length) break;
      const n = value.charCodeAt(i + 1);
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
      if (n === 0x0a || n === 0x0d || n > 0x7f) throw badRequest('Invalid quoted-pair in quoted string');
      text += value[i + 1];
      i++;
    } else if (c === '"') {
      return { text, end: i + 1 };
    } else {
      text += c;
    }
  }
  throw badRequest('Unterminated quoted string');
}

export type Params = Record<string, string | null>;

// Parameter dictionaries inherit nothing (no Object.prototype: a parameter named "constructor"
// or "__proto__" is just a parameter), from an empty prototype object rather than from null:
// V8 keeps Object.create(null) objects in dictionary mode, which JSON.stringify and property
// reads handle on slow paths, while objects made from a shared prototype stay fast.
const PARAMS_PROTO: object = Object.freeze(Object.create(null) as object);
/** A new, empty parameter dictionary. */
export const newParams = (): Params => Object.create(PARAMS_PROTO) as Params;

/**
 * Parses `;name[=value]` generic parameters (header params). `s` starts at the first ';' (or is empty).
 * Names are lower-cased; quoted values are unquoted; a name without value maps to null.
 */
const GEN_VALUE_RE = /^[A-Za-z0-9\-.!%*_+`'~[\]:]+$/;

export function parseParams(s: string, what: string): Params {
  if (s === '') return newParams();
  return scanParams(s) ?? parseParamsText(s, what);
}

// Character classes by char code (ASCII only; everything else is outside both).
const TOKEN_CHARS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~") TOKEN_CHARS[c.charCodeAt(0)] = 1;
/** gen-value without quoted-string: token chars plus '[', ']', ':' (host, IPv6 references) */
const GEN_VALUE_CHARS = TOKEN_CHARS.slice();
for (const c of '[]:') GEN_VALUE_CHARS[c.charCodeAt(0)] = 1;
export const isTokenChar = (c: number): boolean => c < 128 && TOKEN_CHARS[c] === 1;
const isGenValueChar = (c: number): boolean => c < 128 && GEN_VALUE_CHARS[c] === 1;

/**
 * The common shape of parameters, scanned without intermediate strings: only SP/HTAB as
 * whitespace, token names, unquoted gen-values. Returns null for anything else (quoted values,
 * other whitespace, errors), which parseParamsText then parses or rejects as it always did: the
 * strings accepted here are parsed by it to the same result.
 */
function scanParams(s: string): Params | null {
  const n = s.length;
  let i = 0;
  while (i < n && isWs(s.charCodeAt(i))) i++;
  const params: Params = newParams();
  while (i < n) {
    if (s.charCodeAt(i) !== 0x3b) return null; // ';'
    i++;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    const ns = i;
    let upper = false;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (!isTokenChar(c)) break;
      if (c >= 0x41 && c <= 0x5a) upper = true;
    }
    const ne = i;
    if (ne === ns) return null;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    let value: string | null = null;
    if (i < n && s.charCodeAt(i) === 0x3d) {
      i++;
      while (i < n && isWs(s.charCodeAt(i))) i++;
      const vs = i;
      while (i < n && isGenValueChar(s.charCodeAt(i))) i++;
      if (i === vs) return null;
      value = s.slice(vs, i);
      while (i < n && isWs(s.charCodeAt(i))) i++;
    }
    const name = s.slice(ns, ne);
    params[upper ? name.toLowerCase() : name] = value;
  }
  return params;
}

/** The general parameter parser, also the reference scanParams is tested against. */
export function parseParamsText(s: string, what: string): Params {
  const params: Params = newParams();
  if (s.indexOf('"') < 0) {
    // no quoted strings, so ';' and '=' are always delimiters
    const parts = s.split(';');
    if (parts[0]!.trim() !== '') throw badRequest(`Malformed parameters in ${what}`);
    for (let k = 1; k < parts.length; k++) {
      const part = parts[k]!;
      const eq = part.indexOf('=');
      const name = (eq < 0 ? part : part.slice(0, eq)).trim();
      if (!TOKEN_RE.test(name)) throw badRequest(`Empty or invalid parameter name in ${what}`);
      let value: string | null = null;
      if (eq >= 0) {
        value = part.slice(eq + 1).trim();
        if (!GEN_VALUE_RE.test(value)) throw badRequest(`Invalid value of parameter ${name} in ${what}`);
      }
      params[name.toLowerCase()] = value;
    }
    return params;
  }
  let i = 0;
  const n = s.length;
  const skipWs = (): void => {
    while (i < n && isWs(s.charCodeAt(i))) i++;
  };
  skipWs();
  while (i < n) {
    if (s[i] !== ';') throw badRequest(`Malformed parameters in ${what}`);
    i++;
    skipWs();
    let j = i;
    while (j < n && s[j] !== '=' && s[j] !== ';' && !isWs(s.charCodeAt(j))) j++;
    const name = s.slice(i, j);
    if (!isToken(name)) throw badRequest(`Empty or invalid parameter name in ${what}`);
    i = j;
    skipWs();
    let value: string | null = null;
    if (s[i] === '=') {
      i++;
      skipWs();
      if (s[i] === '"') {
        const q = readQuoted(s, i);
        value = q.text;
        i = q.end;
      } else {
        j = i;
        while (j < n && s[j] !== ';' && !isWs(s.charCodeAt(j))) j++;
        value = s.slice(i, j);
        // gen-value = token / host / quoted-string (host covers IPv6 references)
        if (!/^[A-Za-z0-9\-.!%*_+`'~[\]:]+$/.test(value)) throw badRequest(`Invalid value of parameter ${name} in ${what}`);
        i = j;
      }
    }
    params[name.toLowerCase()] = value;
    skipWs();
  }
  return params;
}

/** Serializes params back to `;a=b;c`. Values that are not tokens are quoted. */
export function formatParams(params: Params): string {
  let out = '';
  for (const [k, v] of Object.entries(params)) {
    if (v === null) out += `;${k}`;
    else if (/^[A-Za-z0-9\-.!%*_+`'~[\]:]+$/.test(v)) out += `;${k}=${v}`;
    else out += `;${k}="${v.replace(/(["\\])/g, '\\$1')}"`;
  }
  return out;
}

/** Quotes a display name when it is not a sequence of tokens. */
export function formatDisplayName(name: string): string {
  if (/^[A-Za-z0-9\-.!%*_+`'~]+( [A-Za-z0-9\-.!%*_+`'~]+)*$/.test(name)) return name;
  return `"${name.replace(/(["\\])/g, '\\$1')}"`;
}

/** Percent-decodes a URI component; invalid escapes are kept literally. Result is UTF-8 decoded when valid. */
export function unescapeUri(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length + 0 && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * A bounded memo of parse results by their text. SIP repeats the same values from message to
 * message (the From/To/Contact/Route URIs of a dialog, the Via set of a transaction's responses,
 * the peers' Record-Route), so most values parse once. Results are frozen (shared between
 * messages; nothing may edit a parsed view) and only short texts are kept. Failures are never
 * remembered: bad input fails every time.
 *
 * Two generations: a value seen for the first time goes into a small `recent` map (the last
 * `maxRecent` first sightings); seen again while there, it moves to the `repeated` map (at most
 * `max`). Each starts over when full, as a new Map (measured: after Map.prototype.clear the
 * cleared entries still survived young-generation collections). Why two: every new call brings
 * values that may never come back (a request's new branch, tag); in one memo of 4096 they lived
 * for over a thousand messages, outlived the young generation and were copied and promoted
 * (measured on fresh INVITEs: recent = 1024 cost 13.6 µs per parse, 256 cost 9.4). In `recent` they die young,
 * while the values that do repeat (a transaction's responses, its first one usually within
 * milliseconds, come back with its Vias, From and To) are caught there and kept in `repeated`.
 */
export class ParseMemo<T> {
  private repeated = new Map<string, T>();
  private recent = new Map<string, T>();
  constructor(
    private readonly max = 4096,
    private readonly maxKeyLength = 512,
    private readonly maxRecent = 256,
  ) {}

  get(text: string): T | undefined {
    const r = this.repeated.get(text);
    if (r !== undefined) return r;
    const v = this.recent.get(text);
    if (v !== undefined) {
      // `text` is this message's slice: keep a copy of its own (see own)
      if (this.repeated.size >= this.max) this.repeated = new Map();
      this.repeated.set(this.own(text), v);
    }
    return v;
  }

  /**
   * A copy of its own of `text` for a key kept in `repeated`: the probe text is a slice of its
   * message's whole header section, which a long-lived key would keep alive. (Not done for the
   * short-lived `recent` entries: measured, the copy cost more than it saved there.)
   */
  private own(text: string): string {
    // concatenation then slice: V8 flattens the concatenation into a new string of its own
    return text.length > this.maxKeyLength ? text : (' ' + text).slice(1);
  }

  /**
   * The memoized result for `text`, else `parse(text, what)` frozen (freezeView) and remembered.
   * (`what` is passed through rather than bound in a closure: no allocation per lookup.)
   */
  through(text: string, what: string, parse: (text: string, what: string) => T & object): T {
    const hit = this.get(text);
    if (hit !== undefined) return hit;
    return this.set(text, freezeView(parse(text, what)));
  }

  set(text: string, value: T): T {
    if (text.length > this.maxKeyLength) return value;
    if (this.recent.size >= this.maxRecent) this.recent = new Map();
    this.recent.set(text, value);
    return value;
  }
}

/**
 * A frozen view's one mutable slot: a cache of derived text (normalize.ts keeps the view's JSON
 * fragment there). Symbol-keyed, so JSON.stringify, Object.values and equality checks ignore it;
 * cheaper than a WeakMap, whose ephemeron entries every garbage collection has to process.
 */
export const VIEW_CACHE: unique symbol = Symbol('sip.viewCache');
export interface ViewCache {
  json?: string;
}

/** Object.freeze on an object and its plain-object properties (one level: params, headers). */
export function freezeView<T extends object>(o: T): T {
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'object' && v !== null) Object.freeze(v);
  }
  (o as { [VIEW_CACHE]?: ViewCache })[VIEW_CACHE] = {};
  return Object.freeze(o);
}
