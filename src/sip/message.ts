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

/** A field as parsed: its raw bytes are a range of the received buffer, sliced only on demand. */
export class ParsedField implements HeaderField {
  constructor(
    readonly name: string,
    readonly lname: string,
    readonly value: string,
    /** the buffer the message was parsed from, and the field's range in it */
    readonly src: Buffer,
    readonly rawStart: number,
    readonly rawEnd: number,
  ) {}

  get raw(): Buffer {
    return this.src.subarray(this.rawStart, this.rawEnd);
  }
}

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
  /** typed views parsed on demand (undefined: not parsed yet); reset by the edits that touch them */
  private views = new Views();

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

  /** Parsed Request-URI (requests only). */
  get ruri(): Uri {
    if (this.kind !== 'request') throw new TypeError('responses have no Request-URI');
    return (this.views.ruri ??= parseUri(this.requestUri, 'Request-URI'));
  }

  get via(): Via[] {
    let v = this.views.via;
    if (v === undefined) {
      v = [];
      for (const h of this.headers) if (h.lname === 'via') for (const x of parseViaList(h.value)) v.push(x);
      this.views.via = v;
    }
    return v;
  }

  get topVia(): Via | undefined {
    return this.via[0];
  }

  get from(): NameAddr {
    return (this.views.from ??= parseNameAddr(this.require('from'), 'From'));
  }

  get to(): NameAddr {
    return (this.views.to ??= parseNameAddr(this.require('to'), 'To'));
  }

  get callId(): string {
    return this.require('call-id');
  }

  get cseq(): CSeq {
    return (this.views.cseq ??= parseCSeq(this.require('cseq')));
  }

  /** Max-Forwards, or null when absent (RFC 2543 peers). */
  get maxForwards(): number | null {
    let mf = this.views.maxForwards;
    if (mf === undefined) {
      const v = this.get('max-forwards');
      if (v === undefined) mf = null;
      else {
        if (!/^\d{1,10}$/.test(v) || Number(v) > 255) throw badRequest('Invalid Max-Forwards');
        mf = Number(v);
      }
      this.views.maxForwards = mf;
    }
    return mf;
  }

  private nameAddrs(lname: string, what: string): NameAddr[] {
    const out: NameAddr[] = [];
    for (const h of this.headers) if (h.lname === lname) for (const a of parseNameAddrList(h.value, what)) out.push(a);
    return out;
  }

  get route(): NameAddr[] {
    return (this.views.route ??= this.nameAddrs('route', 'Route'));
  }

  get recordRoute(): NameAddr[] {
    return (this.views.recordRoute ??= this.nameAddrs('record-route', 'Record-Route'));
  }

  get contact(): ContactValue {
    let c = this.views.contact;
    if (c === undefined) {
      const fs = this.fields('contact');
      if (fs.length === 1 && fs[0]!.value === '*') c = '*';
      else {
        for (const f of fs) if (f.value === '*') throw badRequest('Contact: * mixed with other Contact values');
        c = this.nameAddrs('contact', 'Contact');
      }
      this.views.contact = c;
    }
    return c;
  }

  private require(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw badRequest(`Missing ${displayName(name)} header`);
    return v;
  }

  // ---- editing ---------------------------------------------------------------------------

  private touched(lname: string): void {
    this.views.reset(lname);
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
    this.views.ruri = undefined;
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
    // the parsed views are immutable: the copy shares them until an edit resets one
    m.views = this.views.copy();
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

/** The typed views of a message, parsed on demand. */
class Views {
  ruri: Uri | undefined = undefined;
  via: Via[] | undefined = undefined;
  from: NameAddr | undefined = undefined;
  to: NameAddr | undefined = undefined;
  cseq: CSeq | undefined = undefined;
  maxForwards: number | null | undefined = undefined;
  route: NameAddr[] | undefined = undefined;
  recordRoute: NameAddr[] | undefined = undefined;
  contact: ContactValue | undefined = undefined;

  reset(lname: string): void {
    switch (lname) {
      case 'via': this.via = undefined; break;
      case 'from': this.from = undefined; break;
      case 'to': this.to = undefined; break;
      case 'cseq': this.cseq = undefined; break;
      case 'max-forwards': this.maxForwards = undefined; break;
      case 'route': this.route = undefined; break;
      case 'record-route': this.recordRoute = undefined; break;
      case 'contact': this.contact = undefined; break;
    }
  }

  copy(): Views {
    const v = new Views();
    v.ruri = this.ruri;
    v.via = this.via;
    v.from = this.from;
    v.to = this.to;
    v.cseq = this.cseq;
    v.maxForwards = this.maxForwards;
    v.route = this.route;
    v.recordRoute = this.recordRoute;
    v.contact = this.contact;
    return v;
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

/**
 * Serializes a message. Unmodified fields and the start line are written as received; fields
 * added or changed are written as "Name: value". Content-Length is corrected (or added) when it
 * does not match the body. One allocation: parsed fields are copied from the received buffer.
 */
export function serializeMessage(msg: SipMessage): Buffer {
  // Pieces, each written followed by CRLF: strings (UTF-8), Buffers, and runs of the received
  // buffer (consecutive unmodified fields merge into one run: one copy for most of the header).
  const pieces: Array<Run | Buffer | string> = [];
  let size = 0;
  let last: Run | undefined;
  const addField = (f: ParsedField) => {
    if (last !== undefined && last.src === f.src && last.end + 2 === f.rawStart) {
      size += f.rawEnd - last.end;
      last.end = f.rawEnd;
      return;
    }
    last = new Run(f.src, f.rawStart, f.rawEnd);
    pieces.push(last);
    size += f.rawEnd - f.rawStart + 2;
  };
  const add = (p: Buffer | string) => {
    last = undefined;
    pieces.push(p);
    size += (typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length) + 2;
  };
  add(msg.startLineRaw ?? msg.startLine);
  let clSeen = false;
  const bodyLen = msg.body.length;
  for (const h of msg.headers) {
    if (h.lname === 'content-length') {
      if (clSeen) continue; // duplicates were rejected at parse time; never emit two
      clSeen = true;
      if (h.raw && /^\d+$/.test(h.value) && Number(h.value) === bodyLen) {
        if (h instanceof ParsedField) addField(h);
        else add(h.raw);
      } else add(`${h.name}: ${bodyLen}`);
      continue;
    }
    if (h instanceof ParsedField) addField(h);
    else add(h.raw ?? `${h.name}: ${h.value}`);
  }
  if (!clSeen) add(`Content-Length: ${bodyLen}`);
  const out = Buffer.allocUnsafe(size + 2 + bodyLen);
  let pos = 0;
  for (const p of pieces) {
    if (p instanceof Run) pos += p.src.copy(out, pos, p.start, p.end);
    else if (typeof p === 'string') pos += out.write(p, pos, 'utf8');
    else pos += p.copy(out, pos);
    out[pos++] = 0x0d;
    out[pos++] = 0x0a;
  }
  out[pos++] = 0x0d;
  out[pos++] = 0x0a;
  msg.body.copy(out, pos);
  return out;
}

class Run {
  constructor(
    readonly src: Buffer,
    readonly start: number,
    public end: number,
  ) {}
}

export { SipError };
