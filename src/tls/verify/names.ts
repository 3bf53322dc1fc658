// X.509 Names as OpenSSL compares them (crypto/x509/x_name.c): every attribute value of a string
// type is converted to UTF-8, trimmed, inner whitespace runs collapsed to one space and ASCII
// lower-cased; the RDN SETs are then DER-encoded one after the other (no outer SEQUENCE). Two names
// are equal when these canonical encodings are equal (X509_NAME_cmp), and a directoryName name
// constraint matches when its canonical encoding is a prefix of the subject's (nc_dn).
import { children, oidString, readTlv, TAG, type Tlv } from '../der.js';
import { tlv } from './der-write.js';

export interface NameEntry {
  oid: string;
  /** The value's tag and content octets as found in the certificate. */
  tag: number;
  value: Uint8Array;
  /** Index of the RDN (SET) the entry belongs to. */
  set: number;
}

export interface Name {
  /** The Name's DER (SEQUENCE OF RDN). */
  der: Uint8Array;
  entries: NameEntry[];
  /** Canonical encoding (latin1 string of its bytes: cheap to compare and to use as a key). */
  canon: string;
}

export class NameSyntaxError extends Error {}

// ASN1_MASK_CANON: the string types OpenSSL canonicalizes; any other value is compared as it is.
const CANON_TAGS = new Set([TAG.UTF8_STRING, TAG.BMP_STRING, TAG.UNIVERSAL_STRING, TAG.PRINTABLE_STRING, TAG.TELETEX_STRING, TAG.IA5_STRING, 0x1a /* VisibleString */]);

/** Parses a Name TLV (throws on malformed input). */
export function parseName(buf: Uint8Array, t: Tlv): Name {
  if (t.tag !== TAG.SEQUENCE) throw new NameSyntaxError('Name is not a SEQUENCE');
  const entries: NameEntry[] = [];
  let set = 0;
  for (const rdn of children(buf, t)) {
    if (rdn.tag !== TAG.SET) throw new NameSyntaxError('RDN is not a SET');
    const atvs = children(buf, rdn);
    if (atvs.length === 0) throw new NameSyntaxError('empty RDN');
    for (const atv of atvs) {
      if (atv.tag !== TAG.SEQUENCE) throw new NameSyntaxError('AttributeTypeAndValue is not a SEQUENCE');
      const parts = children(buf, atv);
      if (parts.length !== 2 || parts[0].tag !== TAG.OID) throw new NameSyntaxError('bad AttributeTypeAndValue');
      entries.push({ oid: oidString(buf, parts[0]), tag: parts[1].tag, value: buf.slice(parts[1].valueStart, parts[1].end), set });
    }
    set++;
  }
  const der = buf.slice(t.start, t.end);
  return { der, entries, canon: canonicalEncoding(entries) };
}

/** Parses a Name from its own DER. */
export function nameFromDer(der: Uint8Array): Name {
  return parseName(der, readTlv(der, 0));
}

/** X509_NAME_cmp(a, b) == 0. */
export function sameName(a: Name, b: Name): boolean {
  return a.canon === b.canon;
}

function canonicalEncoding(entries: NameEntry[]): string {
  const sets: Uint8Array[][] = [];
  for (const e of entries) {
    const value = CANON_TAGS.has(e.tag as never) ? tlv(TAG.UTF8_STRING, canonString(e.tag, e.value)) : tlv(e.tag, e.value);
    (sets[e.set] ??= []).push(tlv(TAG.SEQUENCE, oidTlv(e.oid), value));
  }
  let out = '';
  for (const members of sets) {
    if (!members) continue;
    // DER SET OF: members sorted by their encodings
    members.sort(compareBytes);
    out += latin1(tlv(TAG.SET, ...members));
  }
  return out;
}

/** asn1_string_canon: to UTF-8, trim, collapse whitespace runs, lower-case ASCII. */
function canonString(tag: number, v: Uint8Array): Uint8Array {
  const utf8 = toUtf8(tag, v);
  const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
  let from = 0;
  let to = utf8.length;
  while (from < to && isSpace(utf8[from])) from++;
  while (to > from && isSpace(utf8[to - 1])) to--;
  const out: number[] = [];
  for (let i = from; i < to; ) {
    const c = utf8[i];
    if (c >= 0x80) {
      out.push(c);
      i++;
    } else if (isSpace(c)) {
      out.push(0x20);
      while (i < to && isSpace(utf8[i])) i++;
    } else {
      out.push(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
      i++;
    }
  }
  return Uint8Array.from(out);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** ASN1_STRING_to_UTF8 for the canonical string types; invalid content throws (OpenSSL refuses such names). */
export function toUtf8(tag: number, v: Uint8Array): Uint8Array {
  switch (tag) {
    case TAG.UTF8_STRING:
      try {
        strictUtf8.decode(v);
      } catch {
        throw new NameSyntaxError('invalid UTF-8 in a name');
      }
      return v;
    case TAG.BMP_STRING: {
      if (v.length % 2) throw new NameSyntaxError('odd BMPString length');
      let s = '';
      for (let i = 0; i < v.length; i += 2) {
        const cp = (v[i] << 8) | v[i + 1];
        if (cp >= 0xd800 && cp <= 0xdfff) throw new NameSyntaxError('surrogate in a BMPString');
        s += String.fromCharCode(cp);
      }
      return new Uint8Array(Buffer.from(s, 'utf8'));
    }
    case TAG.UNIVERSAL_STRING: {
      if (v.length % 4) throw new NameSyntaxError('bad UniversalString length');
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = ((v[i] << 24) | (v[i + 1] << 16) | (v[i + 2] << 8) | v[i + 3]) >>> 0;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new NameSyntaxError('bad code point in a UniversalString');
        s += String.fromCodePoint(cp);
      }
      return new Uint8Array(Buffer.from(s, 'utf8'));
    }
    default:
      // PrintableString, IA5String, VisibleString, TeletexString: one character per octet
      return new Uint8Array(Buffer.from(Buffer.from(v).toString('latin1'), 'utf8'));
  }
}

function oidTlv(oid: string): Uint8Array {
  const arcs = oid.split('.').map(Number);
  const body: number[] = [];
  const push = (n: number) => {
    const bytes = [n & 0x7f];
    for (n = Math.floor(n / 128); n > 0; n = Math.floor(n / 128)) bytes.unshift((n & 0x7f) | 0x80);
    body.push(...bytes);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.OID, Uint8Array.from(body));
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
