// Framing of SIP over stream transports (TCP/TLS: Content-Length, RFC 3261 §18.3) with RFC 5626
// CRLF keep-alives, and of UDP datagrams. Bad input becomes events carrying a SipError; an error
// marked fatal means the byte stream cannot be resynchronised and the connection must be closed.
import { SipError, badRequest } from './errors.js';
import { withLimits, type SipLimits } from './limits.js';
import { findHeaderEnd, parseMessage, type ParseOptions } from './parser.js';
import type { SipMessage } from './message.js';

export type FrameEvent =
  /** a complete, valid message */
  | { type: 'message'; msg: SipMessage; raw: Buffer }
  /**
   * a framed message that failed to parse or validate (not fatal: the stream goes on), or a
   * framing failure (fatal: close the connection). `partial` is a best-effort lenient parse the
   * proxy may use to answer requests with error.status.
   */
  | { type: 'error'; error: SipError; raw?: Buffer; partial?: SipMessage }
  /** RFC 5626 ping (CRLFCRLF): answer with a single CRLF (pong) */
  | { type: 'ping' }
  /** RFC 5626 pong (single CRLF) */
  | { type: 'pong' };

export interface FramerOptions {
  limits?: Partial<SipLimits>;
  uriSchemes?: readonly string[];
  /** clock for the slowloris guard (tests); default Date.now */
  now?: () => number;
}

const CL_LINE_RE = /^(?:content-length|l)[ \t]*:[ \t]*(.*)$/i;

/**
 * Scans a header block for its Content-Length without a full parse (framing must not depend on
 * semantics). Only lines starting with c/C/l/L are looked at closely.
 */
function scanContentLength(head: string): number | null | 'invalid' {
  let found: number | null = null;
  let pos = head.indexOf('\r\n');
  const len = head.length;
  while (pos >= 0 && pos < len) {
    const start = pos + 2;
    let end = head.indexOf('\r\n', start);
    if (end < 0) end = len;
    pos = end;
    const c = head.charCodeAt(start) | 0x20;
    if (c !== 0x63 && c !== 0x6c) continue; // 'c' or 'l'
    const m = CL_LINE_RE.exec(head.slice(start, end));
    if (!m) continue;
    let v = m[1]!;
    // folded continuation lines belong to this value
    while (end < len) {
      const n = head.charCodeAt(end + 2);
      if (n !== 0x20 && n !== 0x09) break;
      let e = head.indexOf('\r\n', end + 2);
      if (e < 0) e = len;
      v += ' ' + head.slice(end + 2, e);
      end = e;
    }
    pos = end;
    v = v.trim();
    if (!/^\d{1,10}$/.test(v)) return 'invalid';
    const n = Number(v);
    if (found !== null && found !== n) return 'invalid';
    found = n;
  }
  return found;
}

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly limits: SipLimits;
  private readonly parseOpts: ParseOptions;
  private readonly now: () => number;
  private loneCrlf = false;
  private closed = false;
  /** when the first byte of the current incomplete message arrived (null when none is pending) */
  partialSince: number | null = null;
  /** when the last byte arrived */
  lastActivity: number;

  constructor(opts: FramerOptions = {}) {
    this.limits = withLimits(opts.limits);
    this.parseOpts = { limits: this.limits, uriSchemes: opts.uriSchemes };
    this.now = opts.now ?? Date.now;
    this.lastActivity = this.now();
  }

  /** bytes buffered for an incomplete message */
  get pending(): number {
    return this.buf.length;
  }

  /** Feeds bytes; returns the events they complete. After a fatal error the framer ignores input. */
  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.closed) return events;
    this.lastActivity = this.now();
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const ev = this.next();
      if (!ev) break;
      events.push(ev);
      if (ev.type === 'error' && ev.error.fatal) {
        this.closed = true;
        this.buf = Buffer.alloc(0);
        break;
      }
    }
    this.partialSince = this.buf.length === 0 ? null : (this.partialSince ?? this.now());
    return events;
  }

  private next(): FrameEvent | null {
    const b = this.buf;
    if (b.length === 0) return null;
    // Keep-alives between messages.
    if (b[0] === 0x0d || b[0] === 0x0a) {
      if (b.length >= 4 && b[0] === 0x0d && b[1] === 0x0a && b[2] === 0x0d && b[3] === 0x0a) {
        this.buf = b.subarray(4);
        this.loneCrlf = false;
        return { type: 'ping' };
      }
      if (b.length >= 2 && b[0] === 0x0d && b[1] === 0x0a) {
        this.buf = b.subarray(2);
        if (this.loneCrlf) {
          // this CRLF completes a ping whose first half arrived alone (reported as a pong)
          this.loneCrlf = false;
          return { type: 'ping' };
        }
        // A CRLF with nothing after it yet is a pong, unless the next read completes a ping.
        this.loneCrlf = b.length === 2;
        return { type: 'pong' };
      }
      if (b.length === 1 && b[0] === 0x0d) return null; // wait for the LF
      return this.fatal(badRequest('Stray line end between messages'));
    }
    if (this.loneCrlf) this.loneCrlf = false;
    const headerEnd = findHeaderEnd(b);
    if (headerEnd < 0) {
      if (b.length > this.limits.maxHeaderBytes) return this.fatal(new SipError(513, 'Message Too Large (header section)', { fatal: true }));
      return null;
    }
    if (headerEnd > this.limits.maxHeaderBytes) return this.fatal(new SipError(513, 'Message Too Large (header section)', { fatal: true }));
    const cl = scanContentLength(b.toString('latin1', 0, headerEnd));
    if (cl === 'invalid') return this.fatal(new SipError(400, 'Invalid Content-Length on stream', { fatal: true }));
    // RFC 3261 §18.3 requires Content-Length on streams; a missing one is read as 0.
    const bodyLen = cl ?? 0;
    if (bodyLen > this.limits.maxBodyBytes) return this.fatal(new SipError(413, 'Request Entity Too Large', { fatal: true }));
    const total = headerEnd + 4 + bodyLen;
    if (total > this.limits.maxMessageBytes) return this.fatal(new SipError(513, 'Message Too Large', { fatal: true }));
    if (b.length < total) return null;
    const raw = b.subarray(0, total);
    this.buf = b.subarray(total);
    this.partialSince = null;
    try {
      return { type: 'message', msg: parseMessage(raw, this.parseOpts), raw };
    } catch (e) {
      const error = e instanceof SipError ? e : badRequest('Unparseable message');
      return { type: 'error', error, raw, partial: lenientParse(raw, this.parseOpts) };
    }
  }

  private fatal(error: SipError): FrameEvent {
    const err = error.fatal ? error : new SipError(error.status, error.reason, { fatal: true });
    return { type: 'error', error: err };
  }

  /**
   * Slowloris guard hook: call periodically (or use startStreamGuard). Returns which timeout has
   * expired: 'partial' when an incomplete message has been pending too long, 'idle' when nothing
   * arrived for too long, else null.
   */
  checkTimeouts(opts: { partialMessageTimeoutMs?: number; idleTimeoutMs?: number }, now = this.now()): 'partial' | 'idle' | null {
    if (opts.partialMessageTimeoutMs !== undefined && this.partialSince !== null && now - this.partialSince >= opts.partialMessageTimeoutMs) return 'partial';
    if (opts.idleTimeoutMs !== undefined && now - this.lastActivity >= opts.idleTimeoutMs) return 'idle';
    return null;
  }
}

function lenientParse(raw: Buffer, opts: ParseOptions): SipMessage | undefined {
  try {
    return parseMessage(raw, { ...opts, validate: false });
  } catch {
    return undefined;
  }
}

/**
 * Runs framer.checkTimeouts every `intervalMs` (unref'd timer) and calls onTimeout once when a
 * timeout expires (the caller closes the connection). Returns a stop function.
 */
export function startStreamGuard(
  framer: StreamFramer,
  opts: { partialMessageTimeoutMs?: number; idleTimeoutMs?: number; intervalMs?: number },
  onTimeout: (kind: 'partial' | 'idle') => void,
): () => void {
  const interval = opts.intervalMs ?? Math.max(100, Math.min(opts.partialMessageTimeoutMs ?? 1000, opts.idleTimeoutMs ?? 1000) / 4);
  const t = setInterval(() => {
    const kind = framer.checkTimeouts(opts);
    if (kind) {
      clearInterval(t);
      onTimeout(kind);
    }
  }, interval);
  t.unref();
  return () => clearInterval(t);
}

export type DatagramResult =
  | { type: 'message'; msg: SipMessage }
  | { type: 'keepalive' }
  | { type: 'error'; error: SipError; partial?: SipMessage };

/** Parses one UDP datagram. CRLF-only datagrams are keep-alives. Never throws. */
export function parseDatagram(buf: Buffer, opts: { limits?: Partial<SipLimits>; uriSchemes?: readonly string[] } = {}): DatagramResult {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  if (i === buf.length) return { type: 'keepalive' };
  const popts: ParseOptions = { datagram: true, limits: opts.limits, uriSchemes: opts.uriSchemes };
  try {
    return { type: 'message', msg: parseMessage(buf, popts) };
  } catch (e) {
    const error = e instanceof SipError ? e : badRequest('Unparseable message');
    return { type: 'error', error, partial: error.status === 513 ? undefined : lenientParse(buf, popts) };
  }
}

/** The pong to send for a ping on a stream (RFC 5626 §4.4.1). */
export const PONG = Buffer.from('\r\n');
/** A keep-alive ping for streams. */
export const PING = Buffer.from('\r\n\r\n');
