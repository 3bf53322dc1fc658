// Reads the server name (RFC 6066 SNI) from the first bytes of a TLS connection, before any TLS
// library sees them, so the connection can be handed to the right server domain from its first
// byte (see server.ts for why Node's SNICallback is not enough).
//
// Handles a ClientHello split over several TLS records. Never throws: anything that is not a
// well-formed ClientHello is 'not-hello' and left to OpenSSL to refuse with a proper alert.

export type HelloPeek =
  | { state: 'need-more' }
  | { state: 'not-hello' }
  | { state: 'hello'; sni?: string };

/** Largest ClientHello we wait for (a hello with post-quantum key shares is ~2 KB). */
export const MAX_HELLO_BYTES = 64 * 1024;

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;

export function peekClientHello(buf: Uint8Array): HelloPeek {
  // Reassemble the handshake layer from as many records as are present.
  const hs: number[] = [];
  let p = 0;
  let needed = -1; // total handshake message length once known
  while (p + 5 <= buf.length) {
    if (buf[p] !== RECORD_HANDSHAKE || buf[p + 1] !== 0x03) return { state: 'not-hello' };
    const len = (buf[p + 3] << 8) | buf[p + 4];
    if (len === 0 || len > 16384 + 2048) return { state: 'not-hello' };
    if (p + 5 + len > buf.length) break;
    for (let i = p + 5; i < p + 5 + len; i++) hs.push(buf[i]);
    p += 5 + len;
    if (needed < 0 && hs.length >= 4) {
      if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return { state: 'not-hello' };
      needed = 4 + ((hs[1] << 16) | (hs[2] << 8) | hs[3]);
      if (needed > MAX_HELLO_BYTES) return { state: 'not-hello' };
    }
    if (needed >= 0 && hs.length >= needed) return parseHello(hs.slice(4, needed));
  }
  if (p < buf.length && buf[p] !== RECORD_HANDSHAKE) return { state: 'not-hello' };
  if (buf.length >= MAX_HELLO_BYTES + 5 * 8) return { state: 'not-hello' };
  return { state: 'need-more' };
}

function parseHello(h: number[]): HelloPeek {
  let p = 2 + 32; // client_version, random
  const need = (n: number) => p + n <= h.length;
  if (!need(1)) return { state: 'not-hello' };
  p += 1 + h[p]; // session_id
  if (!need(2)) return { state: 'not-hello' };
  p += 2 + ((h[p] << 8) | h[p + 1]); // cipher_suites
  if (!need(1)) return { state: 'not-hello' };
  p += 1 + h[p]; // compression_methods
  if (p === h.length) return { state: 'hello' }; // no extensions at all
  if (!need(2)) return { state: 'not-hello' };
  const end = p + 2 + ((h[p] << 8) | h[p + 1]);
  p += 2;
  if (end > h.length) return { state: 'not-hello' };
  while (p + 4 <= end) {
    const type = (h[p] << 8) | h[p + 1];
    const len = (h[p + 2] << 8) | h[p + 3];
    p += 4;
    if (p + len > end) return { state: 'not-hello' };
    if (type === EXT_SERVER_NAME) return { state: 'hello', sni: serverName(h.slice(p, p + len)) };
    p += len;
  }
  return { state: 'hello' };
}

/** The host_name entry of a server_name extension; undefined when absent or malformed. */
function serverName(e: number[]): string | undefined {
  if (e.length < 2) return undefined;
  const listEnd = Math.min(e.length, 2 + ((e[0] << 8) | e[1]));
  let p = 2;
  while (p + 3 <= listEnd) {
    const type = e[p];
    const len = (e[p + 1] << 8) | e[p + 2];
    p += 3;
    if (p + len > listEnd) return undefined;
    if (type === 0) {
      const name = String.fromCharCode(...e.slice(p, p + len));
      // A host name is ASCII letters, digits, '-', '.', and (leniently) '_'; anything else is ignored.
      return /^[A-Za-z0-9._-]{1,253}$/.test(name) ? name : undefined;
    }
    p += len;
  }
  return undefined;
}
