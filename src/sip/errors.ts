// Typed errors of the SIP layer. Every rejection of bad input is a SipError carrying the SIP
// status the proxy should answer with (400, 413, 416, 505, 513) and a reason phrase naming the
// problem. Anything else thrown from this layer is a bug.

export class SipError extends Error {
  /** SIP status code to answer with (for responses and unparseable input: what it would be). */
  readonly status: number;
  /** Reason phrase naming the problem, safe to put on the wire (ASCII, no CR/LF). */
  readonly reason: string;
  /** True when the byte stream cannot be resynchronised and the connection must be closed. */
  readonly fatal: boolean;

  constructor(status: number, reason: string, opts: { fatal?: boolean } = {}) {
    super(`${status} ${reason}`);
    this.name = 'SipError';
    this.status = status;
    this.reason = reason.replace(/[^\x20-\x7e]/g, '?');
    this.fatal = opts.fatal ?? false;
  }
}

export const badRequest = (reason: string): SipError => new SipError(400, reason);

export function isSipError(e: unknown): e is SipError {
  return e instanceof SipError;
}
