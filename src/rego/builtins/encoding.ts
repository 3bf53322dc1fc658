// Go-compatible encodings used by several builtins: strict base64 with Go's error texts, PEM
// block reading (encoding/pem), and encoding/json output (sorted keys, HTML-safe escapes).

export class Base64Error extends Error {}

/** base64.StdEncoding / URLEncoding DecodeString with Go's `illegal base64 data at input byte N`. */
export function decodeBase64Strict(s: string, url: boolean): Buffer {
  // Go ignores \r and \n
  const clean = s.includes('\n') || s.includes('\r') ? s.replace(/[\r\n]/g, '') : s;
  const fast = url ? /^[A-Za-z0-9_-]*={0,2}$/ : /^[A-Za-z0-9+/]*={0,2}$/;
  if (clean.length % 4 === 0 && fast.test(clean)) {
    return Buffer.from(clean, url ? 'base64url' : 'base64');
  }
  const alphabet = url ? /[A-Za-z0-9_-]/ : /[A-Za-z0-9+/]/;
  let i = 0;
  for (; i < clean.length; i++) {
    if (!alphabet.test(clean[i])) break;
  }
  const dataLen = i;
  let pad = 0;
  while (i < clean.length && clean[i] === '=') {
    pad++;
    i++;
  }
  const bad = (pos: number) => new Base64Error(`illegal base64 data at input byte ${pos}`);
  if (i < clean.length) throw bad(i);
  const rem = dataLen % 4;
  if (rem === 1) throw bad(dataLen);
  if (pad > 0) {
    if ((dataLen + pad) % 4 !== 0 || rem === 0 || (rem === 2 && pad !== 2) || (rem === 3 && pad !== 1)) throw bad(dataLen);
  } else if (rem !== 0) throw bad(dataLen);
  return Buffer.from(clean.slice(0, dataLen), url ? 'base64url' : 'base64');
}

/** OPA's base64url.decode: adds missing padding (RFC 7515 appendix C), then decodes strictly. */
export function decodeBase64UrlLenient(s: string): Buffer {
  let t = s;
  if (!t.endsWith('=')) {
    switch (t.length % 4) {
      case 2:
        t += '==';
        break;
      case 3:
        t += '=';
        break;
      case 1:
        throw new Base64Error(`illegal base64url string: ${s}`);
    }
  }
  return decodeBase64Strict(t, true);
}

export interface PemBlock {
  type: string;
  der: Buffer;
  rest: string;
}

/** encoding/pem.Decode: the first block and what follows it; undefined when there is none. */
export function pemDecode(text: string): PemBlock | undefined {
  const m = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----(?:\r?\n)?/.exec(text);
  if (!m) return undefined;
  const lines = m[2].split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.some((l) => l.includes(':'))) return undefined; // headers: not used by certificates
  const body = lines.join('');
  try {
    return { type: m[1], der: decodeBase64Strict(body, false), rest: text.slice((m.index ?? 0) + m[0].length) };
  } catch {
    return undefined;
  }
}

/** encoding/json.Marshal of a JSON value: map keys sorted, <, >, & and U+2028/9 escaped. */
export function goJSON(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') {
    return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goJSON).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${goJSON(k)}:${goJSON(o[k])}`)
    .join(',')}}`;
}
