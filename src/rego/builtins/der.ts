// A minimal DER reader: enough ASN.1 to lay out certificates, CSRs and keys as Go marshals them.

export interface Node {
  tag: number; // full identifier octet (class | constructed | number), low-tag-number form only
  start: number; // offset of the identifier octet
  headerLen: number;
  len: number;
  buf: Buffer;
}

export function read(buf: Buffer, start = 0): Node {
  if (start + 2 > buf.length) throw new Error('asn1: syntax error: data truncated');
  const tag = buf[start];
  if ((tag & 0x1f) === 0x1f) throw new Error('asn1: structure error: high-tag-number form not supported');
  let len = buf[start + 1];
  let headerLen = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('asn1: structure error: length too large');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + 2 + i];
    headerLen += n;
  }
  if (start + headerLen + len > buf.length) throw new Error('asn1: syntax error: data truncated');
  return { tag, start, headerLen, len, buf };
}

export const raw = (n: Node): Buffer => n.buf.subarray(n.start, n.start + n.headerLen + n.len);
export const content = (n: Node): Buffer => n.buf.subarray(n.start + n.headerLen, n.start + n.headerLen + n.len);

export function children(n: Node): Node[] {
  const out: Node[] = [];
  const end = n.start + n.headerLen + n.len;
  let p = n.start + n.headerLen;
  while (p < end) {
    const c = read(n.buf, p);
    out.push(c);
    p = c.start + c.headerLen + c.len;
  }
  return out;
}

/** The top-level element, rejecting trailing data as Go's asn1.Unmarshal does. */
export function parseTop(buf: Buffer): Node {
  const n = read(buf, 0);
  if (n.headerLen + n.len !== buf.length) throw new Error('x509: trailing data');
  return n;
}

export function oid(n: Node): number[] {
  const b = content(n);
  const out: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      if (out.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        out.push(first, v - first * 40);
      } else out.push(v);
      v = 0;
    }
  }
  return out;
}

export function bigint(n: Node): bigint {
  const b = content(n);
  if (b.length === 0) return 0n;
  let v = BigInt(`0x${b.toString('hex')}`);
  if (b[0] & 0x80) v -= 1n << BigInt(b.length * 8);
  return v;
}

export function int(n: Node): number {
  return Number(bigint(n));
}

export function str(n: Node): string {
  const b = content(n);
  switch (n.tag) {
    case 0x1e: {
      // BMPString: UTF-16BE
      const sw = Buffer.from(b);
      sw.swap16();
      return sw.toString('utf16le');
    }
    case 0x0c:
      return b.toString('utf8');
    default:
      return b.toString('latin1');
  }
}

/** UTCTime / GeneralizedTime → Date. */
export function time(n: Node): Date {
  const s = content(n).toString('latin1');
  const m = n.tag === 0x17 ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s) : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/.exec(s);
  if (!m) throw new Error('asn1: time did not parse');
  let year = Number(m[1]);
  if (n.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  const d = new Date(0);
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6] ?? 0), 0);
  return d;
}

export function bitString(n: Node): { bytes: Buffer; unused: number } {
  const b = content(n);
  return { unused: b[0], bytes: b.subarray(1) };
}
