// Size and count limits applied while parsing and framing. Defaults suit a border proxy.

export interface SipLimits {
  /** whole message (start line + headers + body); above it: 513 Message Too Large */
  maxMessageBytes: number;
  /** header section (start line + headers); above it: 513 Message Too Large */
  maxHeaderBytes: number;
  /** body (Content-Length); above it: 413 Request Entity Too Large */
  maxBodyBytes: number;
  /** number of header fields (after unfolding); above it: 400 Too Many Header Fields */
  maxHeaderCount: number;
  /** one header field including its folded continuation lines; above it: 400 */
  maxHeaderLineBytes: number;
}

export const DEFAULT_LIMITS: Readonly<SipLimits> = Object.freeze({
  maxMessageBytes: 65535,
  maxHeaderBytes: 16384,
  maxBodyBytes: 60000,
  maxHeaderCount: 128,
  maxHeaderLineBytes: 8192,
});

export function withLimits(partial?: Partial<SipLimits>): SipLimits {
  return { ...DEFAULT_LIMITS, ...(partial ?? {}) };
}
