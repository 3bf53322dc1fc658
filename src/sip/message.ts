// The SIP message model: raw header fields kept byte for byte, typed views parsed on demand,
// and edit operations that re-serialize only the fields they touch.
import { SipError, badRequest } from './errors.js';
import { canonicalLowerName, displayName, LIST_HEADERS } from './header-names.js';
import { splitList, TOKEN_RE, WORD_RE } from './syntax.js';
import { parseUri, type Uri } from './uri.js';
import { parseNameAddr, parseNameAddrList, type NameAddr } from './address.js';
import { parseViaList, type Via } from './via.js';

export interface HeaderField {
  /** name as written on the wire ("v", "Via", "VIA") or as given when added */
  readonly name: string;
  /** canonical lower-case full name (compact forms expanded): "via" */
  readonly lname: string;
  /** value with line folding replaced by single spaces, trimmed, UTF-8 decoded */
  readonly value: string;
  /** original bytes of the field (without its final CRLF); null for fields written by us */
  readonly raw: Buffer | null;
}

export interface CSeq {
  seq: number;
  method: string;
}

export type ContactValue = '*' | NameAddr[];

export function makeField(name: string, value: string): HeaderField {
  if (!TOKEN_RE.test(name)) throw new TypeError(`invalid header name: ${name}`);
  if (/[\r\n]/.test(value)) throw new TypeError('header value must not contain CR or LF');
  return { name, lname: canonicalLowerName(name), value: value.trim(), raw: null };
}

/**
 * A parsed SIP request or response. Fields are public for reading; use the methods to edit so
 * that cached views stay coherent. Unmodified header fields serialize to their original bytes.
 */
export class SipMessage {
  kind: 'request' | 'response';
  /** request method; for responses the CSeq method */
  method: string;
  /** Request-URI as written (requests only, else '') */
  requestUri: string;
  /** status code (responses only, else 0) */
  status: number;
  /** reason phrase (responses only, else '') */
  reason: string;
  /** start line bytes as received; null once the start line was changed */
  startLineRaw: Buffer | null;
  headers: HeaderField[];
  body: Buffer;
  private cache = new Map<string, unknown>();

  constructor(init: {
    kind: 'request' | 'response';
    method?: string;
    requestUri?: string;
    status?: number;
    reason?: string;
    headers?: HeaderField[];
    body?: Buffer;
    startLineRaw?: Buffer | null;
  }) {
    this.kind = init.kind;
    this.method = init.method ?? '';
    this.requestUri = init.requestUri ?? '';
    this.status = init.status ?? 0;
    this.reason = init.reason ?? '';
    this.headers = init.headers ?? [];
    this.body = init.body ?? Buffer.alloc(0);
    this.startLineRaw = init.startLineRaw ?? null;
  }

  get isRequest(): boolean {
    return this.kind === 'request';
  }

  get startLine(): string {
    return this.kind === 'request'
      ? `${this.method} ${this.requestUri} SIP/2.0`
      : `SIP/2.0 ${this.status} ${this.reason}`;
  }

  // ---- reading ---------------------------------------------------------------------------

  /** All fields with this name (any spelling or compact form). */
  fields(name: string): HeaderField[] {
    const l = canonicalLowerName(name);
    return this.headers.filter((h) => h.lname === l);
  }

  /** Value of the first field with this name. */
  get(name: string): string | undefined {
    const l = canonicalLowerName(name);
    for (const h of this.headers) if (h.lname === l) return h.value;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** All values: list headers (Via, Route, Contact, Alert-Info, ...) split on commas, others one per field. */
  getAll(name: string): string[] {
    const l = canonicalLowerName(name);
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.lname !== l) continue;
      if (LIST_HEADERS.has(l)) for (const v of splitList(h.value)) out.push(v);
      else out.push(h.value);
    }
    return out;
  }

  private cached<T>(key: string, compute: () => T): T {
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const v = compute();
    this.cache.set(key, v);
    return v;
  }

  /** Parsed Request-URI (requests only). */
  get ruri(): Uri {
    if (this.kind !== 'request') throw new TypeError('responses have no Request-URI');
    return this.cached('@ruri', () => parseUri(this.requestUri, 'Request-URI'));
  }

  get via(): Via[] {
    return this.cached('via', () => this.fields('via').flatMap((f) => parseViaList(f.value)));
  }

  get topVia(): Via | undefined {
    return this.via[0];
  }

  get from(): NameAddr {
    return this.cached('from', () => parseNameAddr(this.require('from'), 'From'));
  }

  get to(): NameAddr {
    return this.cached('to', () => parseNameAddr(this.require('to'), 'To'));
  }

  get callId(): string {
    return this.require('call-id');
  }

  get cseq(): CSeq {
    return this.cached('cseq', () => parseCSeq(this.require('cseq')));
  }

  /** Max-Forwards, or null when absent (RFC 2543 peers). */
  get maxForwards(): number | null {
    return this.cached('max-forwards', () => {
      const v = this.get('max-forwards');
      if (v === undefined) return null;
      if (!/^\d{1,10}$/.test(v) || Number(v) > 255) throw badRequest('Invalid Max-Forwards');
      return Number(v);
    });
  }

  get route(): NameAddr[] {
    return this.cached('route', () => this.fields('route').flatMap((f) => parseNameAddrList(f.value, 'Route')));
  }

  get recordRoute(): NameAddr[] {
    return this.cached('record-route', () => this.fields('record-route').flatMap((f) => parseNameAddrList(f.value, 'Record-Route')));
  }

  get contact(): ContactValue {
    return this.cached('contact', () => {
      const fs = this.fields('contact');
      if (fs.length === 1 && fs[0]!.value === '*') return '*' as const;
      return fs.flatMap((f) => {
        if (f.value === '*') throw badRequest('Contact: * mixed with other Contact values');
        return parseNameAddrList(f.value, 'Contact');
      });
    });
  }

  private require(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw badRequest(`Missing ${displayName(name)} header`);
    return v;
  }

  // ---- editing ---------------------------------------------------------------------------

  private touched(lname: string): void {
    this.cache.delete(lname);
  }

  /** Removes every field with this name; returns how many were removed. */
  remove(name: string): number {
    const l = canonicalLowerName(name);
    const before = this.headers.length;
    this.headers = this.headers.filter((h) => h.lname !== l);
    this.touched(l);
    return before - this.headers.length;
  }

  /** Replaces every field with this name by one field (or removes them when value is undefined). */
  set(name: string, value: string | undefined): void {
    const l = canonicalLowerName(name);
    const idx = this.headers.findIndex((h) => h.lname === l);
    this.remove(name);
    if (value === undefined) return;
    const f = makeField(name, value);
    if (idx < 0) this.headers.push(f);
    else this.headers.splice(idx, 0, f);
  }

  /** Adds a field before the first field of the same name (or first in the header when none): Via, Record-Route. */
  prepend(name: string, value: string): void {
    const f = makeField(name, value);
    const idx = this.headers.findIndex((h) => h.lname === f.lname);
    this.headers.splice(idx < 0 ? 0 : idx, 0, f);
    this.touched(f.lname);
  }

  /** Adds a field after the last field of the same name (or at the end when none). */
  append(name: string, value: string): void {
    const f = makeField(name, value);
    let idx = -1;
    this.headers.forEach((h, i) => {
      if (h.lname === f.lname) idx = i;
    });
    this.headers.splice(idx < 0 ? this.headers.length : idx + 1, 0, f);
    this.touched(f.lname);
  }

  /**
   * Removes the first element of a list header (e.g. the top Via of a response, the first Route
   * of a loose-routed request), even when it shares a field with others ("Via: a, b").
   * Returns the removed element, or undefined when there is none.
   */
  shiftValue(name: string): string | undefined {
    const l = canonicalLowerName(name);
    const idx = this.headers.findIndex((h) => h.lname === l);
    if (idx < 0) return undefined;
    const f = this.headers[idx]!;
    const parts = splitList(f.value);
    const first = parts.shift();
    if (parts.length === 0) this.headers.splice(idx, 1);
    else this.headers[idx] = makeField(f.name, parts.join(', '));
    this.touched(l);
    return first;
  }

  /** Replaces the first element of a list header (e.g. to add received/rport to the top Via). */
  replaceFirstValue(name: string, value: string): void {
    const l = canonicalLowerName(name);
    const idx = this.headers.findIndex((h) => h.lname === l);
    if (idx < 0) throw new TypeError(`no ${name} header`);
    const f = this.headers[idx]!;
    const parts = splitList(f.value);
    parts[0] = value;
    this.headers[idx] = makeField(f.name, parts.join(', '));
    this.touched(l);
  }

  setRequestUri(uri: string): void {
    this.requestUri = uri;
    this.startLineRaw = null;
    this.cache.delete('@ruri');
  }

  /** Changes the status line of a response (the raw start line is dropped). */
  setStatus(status: number, reason: string): void {
    this.status = status;
    this.reason = reason.replace(/[\r\n]/g, ' ');
    this.startLineRaw = null;
  }

  setBody(body: Buffer | string, contentType?: string): void {
    this.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (contentType !== undefined) this.set('Content-Type', contentType);
    // Content-Length is fixed up by serialize()
  }

  /** A deep copy suitable for forwarding (raw header bytes are shared; they are never mutated). */
  clone(): SipMessage {
    const m = new SipMessage({
      kind: this.kind,
      method: this.method,
      requestUri: this.requestUri,
      status: this.status,
      reason: this.reason,
      headers: this.headers.slice(),
      body: this.body,
      startLineRaw: this.startLineRaw,
    });
    return m;
  }

  /** Serializes to wire bytes (see serializeMessage). */
  toBuffer(): Buffer {
    return serializeMessage(this);
  }

  toString(): string {
    return this.toBuffer().toString('utf8');
  }
}

export function parseCSeq(v: string): CSeq {
  const m = /^(\d+)[ \t]+([^ \t]+)$/.exec(v.trim());
  if (!m || !TOKEN_RE.test(m[2]!)) throw badRequest('Malformed CSeq header');
  // CSeq sequence numbers MUST be less than 2**31 (RFC 3261 §8.1.1.5).
  if (m[1]!.length > 10 || Number(m[1]) >= 2 ** 31) throw badRequest('CSeq sequence number out of range');
  return { seq: Number(m[1]), method: m[2]! };
}

export function isValidCallId(v: string): boolean {
  const at = v.indexOf('@');
  if (at < 0) return WORD_RE.test(v);
  return WORD_RE.test(v.slice(0, at)) && WORD_RE.test(v.slice(at + 1));
}

const CRLF = Buffer.from('\r\n');

/**
 * Serializes a message. Unmodified fields and the start line are written as received; fields
 * added or changed are written as "Name: value". Content-Length is corrected (or added) when it
 * does not match the body.
 */
export function serializeMessage(msg: SipMessage): Buffer {
  const parts: Buffer[] = [];
  parts.push(msg.startLineRaw ?? Buffer.from(msg.startLine, 'utf8'), CRLF);
  let clSeen = false;
  const bodyLen = msg.body.length;
  for (const h of msg.headers) {
    if (h.lname === 'content-length') {
      if (clSeen) continue; // duplicates were rejected at parse time; never emit two
      clSeen = true;
      if (h.raw && /^\d+$/.test(h.value) && Number(h.value) === bodyLen) parts.push(h.raw, CRLF);
      else parts.push(Buffer.from(`${h.name}: ${bodyLen}`, 'utf8'), CRLF);
      continue;
    }
    parts.push(h.raw ?? Buffer.from(`${h.name}: ${h.value}`, 'utf8'), CRLF);
  }
  if (!clSeen) parts.push(Buffer.from(`Content-Length: ${bodyLen}`), CRLF);
  parts.push(CRLF, msg.body);
  return Buffer.concat(parts);
}

export { SipError };
