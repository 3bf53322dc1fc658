// A minimal DER reader: enough to walk a certificate, a name or an OCSP response without building an
// object model first. Every read is bounds-checked and throws DerError on malformed input; callers
// turn that into their own error. Only definite lengths (DER) are accepted.

export class DerError extends Error {
  constructor(reason: string) {
    super(`malformed DER: ${reason}`);
    this.name = 'DerError';
  }
}

/** One TLV: `tag` is the identifier octet (class + constructed bit + number, low tag numbers only). */
export interface Tlv {
  tag: number;
  /** Offsets in the underlying buffer. */
  start: number;
  valueStart: number;
  end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads the TLV at `pos`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, pos: number, limit: number = buf.length): Tlv {
  if (pos >= limit) throw new DerError('unexpected end of data');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let p = pos + 1;
  if (p >= limit) throw new DerError('missing length');
  let len = buf[p++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length');
    if (n > 4) throw new DerError('length too large');
    if (p + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
  }
  const end = p + len;
  if (end > limit) throw new DerError(`value runs past its container (tag 0x${tag.toString(16)})`);
  return { tag, start: pos, valueStart: p, end };
}

/** Reads a TLV and checks its tag. */
export function expectTlv(buf: Uint8Array, pos: number, limit: number, tag: number, what: string): Tlv {
  const t = readTlv(buf, pos, limit);
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** The children of a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.valueStart;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

export function value(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.valueStart, t.end);
}

export function whole(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

const oidCache = new Map<string, string>();

/** Dotted form of an OBJECT IDENTIFIER value. */
export function oidString(buf: Uint8Array, t: Tlv): string {
  const key = Buffer.from(buf.buffer, buf.byteOffset + t.valueStart, t.end - t.valueStart).toString('latin1');
  const hit = oidCache.get(key);
  if (hit !== undefined) return hit;
  if (t.end === t.valueStart) throw new DerError('empty OID');
  const parts: number[] = [];
  let n = 0;
  for (let i = t.valueStart; i < t.end; i++) {
    const b = buf[i];
    n = n * 128 + (b & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if (!(b & 0x80)) {
      if (parts.length === 0) {
        const first = n < 40 ? 0 : n < 80 ? 1 : 2;
        parts.push(first, n - first * 40);
      } else parts.push(n);
      n = 0;
    }
  }
  if (buf[t.end - 1] & 0x80) throw new DerError('truncated OID');
  const s = parts.join('.');
  if (oidCache.size < 4096) oidCache.set(key, s);
  return s;
}

/** UTCTime / GeneralizedTime (Z form, optional seconds and fraction) as a Date. */
export function timeValue(buf: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(buf.buffer, buf.byteOffset + t.valueStart, t.end - t.valueStart).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  let rest: string;
  if (t.tag === TAG.UTC_TIME) {
    m = /^(\d\d)(\d{8})(\d\d)?Z$/.exec(s);
    if (!m) throw new DerError(`bad UTCTime "${s}"`);
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy; // RFC 5280 4.1.2.5.1
    rest = m[2] + (m[3] ?? '00');
  } else if (t.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{8})(\d\d)?(?:[.,]\d+)?Z$/.exec(s);
    if (!m) throw new DerError(`bad GeneralizedTime "${s}"`);
    year = Number(m[1]);
    rest = m[2] + (m[3] ?? '00');
  } else throw new DerError(`expected a time, got tag 0x${t.tag.toString(16)}`);
  const d = new Date(Date.UTC(year, Number(rest.slice(0, 2)) - 1, Number(rest.slice(2, 4)), Number(rest.slice(4, 6)), Number(rest.slice(6, 8)), Number(rest.slice(8, 10))));
  if (Number.isNaN(d.getTime())) throw new DerError(`bad time "${s}"`);
  return d;
}

/** Text of a string-typed TLV, or undefined for types that are not strings we decode. */
export function stringValue(buf: Uint8Array, t: Tlv): string | undefined {
  const v = Buffer.from(buf.buffer, buf.byteOffset + t.valueStart, t.end - t.valueStart);
  switch (t.tag) {
    case TAG.UTF8_STRING:
      return v.toString('utf8'); // invalid sequences become U+FFFD, never an exception
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.TELETEX_STRING:
      return v.toString('latin1');
    case TAG.BMP_STRING: {
      let s = '';
      for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode((v[i] << 8) | v[i + 1]);
      return s;
    }
    case TAG.UNIVERSAL_STRING: {
      let s = '';
      for (let i = 0; i + 3 < v.length; i += 4) {
        const cp = ((v[i] << 24) | (v[i + 1] << 16) | (v[i + 2] << 8) | v[i + 3]) >>> 0;
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
      return s;
    }
    default:
      return undefined;
  }
}
