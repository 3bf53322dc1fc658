// Header name canonicalisation: compact forms (RFC 3261 §7.3.3 and later RFCs) and the
// conventional spelling used when this layer writes a header itself.

/** compact form -> full lower-case name */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'accept-contact', // RFC 3841
  b: 'referred-by', // RFC 3892
  c: 'content-type',
  d: 'request-disposition', // RFC 3841
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact', // RFC 3841
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info', // RFC 4474
  o: 'event', // RFC 6665
  r: 'refer-to', // RFC 3515
  s: 'subject',
  t: 'to',
  u: 'allow-events', // RFC 6665
  v: 'via',
  x: 'session-expires', // RFC 4028
  y: 'identity', // RFC 4474
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
};

// Spellings seen -> canonical name: header names repeat from message to message, so the lower-casing
// and compact-form lookup run once per spelling. Bounded (names on the wire are attacker-chosen).
const lowerMemo = new Map<string, string>();

/** Lower-case full name of a header as written ("v", "Via", "VIA" -> "via"). */
export function canonicalLowerName(name: string): string {
  const m = lowerMemo.get(name);
  if (m !== undefined) return m;
  const l = name.toLowerCase();
  const c = (l.length === 1 && COMPACT_FORMS[l]) || l;
  if (lowerMemo.size >= 2048) lowerMemo.clear();
  lowerMemo.set(name, c);
  return c;
}

/** Conventional spelling of a lower-case header name ("record-route" -> "Record-Route"). */
export function displayName(lower: string): string {
  const l = canonicalLowerName(lower);
  return CANONICAL[l] ?? l.replace(/(^|-)([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase());
}

/**
 * Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1), so that
 * "H: a, b" equals "H: a" + "H: b". Values of other headers are never split.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'alert-info', 'call-info', 'error-info', 'allow', 'supported',
  'require', 'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language', 'content-encoding',
  'content-language', 'in-reply-to', 'allow-events', 'path', 'service-route', 'p-asserted-identity',
  'p-preferred-identity', 'accept-contact', 'reject-contact', 'request-disposition', 'security-client',
  'security-server', 'security-verify', 'reason', 'history-info', 'privacy', 'p-associated-uri',
]);

/** Headers that must appear at most once (RFC 3261 §7.3, table 2): duplicates are a 400. */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set([
  'to', 'from', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type', 'expires', 'date',
]);
