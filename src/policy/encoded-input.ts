// A policy input handed to the engine as the JSON bytes the SDK evaluates (its `evaluate` takes an
// ArrayBuffer of JSON), plus the few fields the decision log needs. Callers build the bytes from
// parts they encoded once: the gateway keeps the JSON of a connection's constant part (direction,
// transport, addresses, the ~3 KB identity document) and writes only the message per evaluation.
// The bytes must be exactly what JSON.stringify of the input object gives (tests compare them).
import { randomBytes } from 'node:crypto';

/** Decision-log fields constant for a connection; the engine caches a pino child logger on it. */
export interface DecisionLogPeer {
  peer: { subject?: string; issuer?: string; verified: boolean; presented: boolean; address?: string };
  local_domain?: string;
  /** @internal engine cache: child logger with these fields bound, the logger and mask plan it came from */
  cache?: { base: unknown; plan?: unknown; child: unknown };
}

/** Decision-log fields of one message. */
export interface DecisionLogFields {
  direction?: string;
  method?: string;
  status?: number;
  request_uri?: string;
  call_id?: string;
  from: DecisionLogPeer;
}

export class EncodedInput {
  constructor(
    /** UTF-8 JSON of the whole input document, exactly this length */
    readonly bytes: ArrayBuffer,
    readonly log: DecisionLogFields,
  ) {}

  /** The input document as an object (decision-log input logging). */
  toObject(): unknown {
    return JSON.parse(Buffer.from(this.bytes).toString('utf8'));
  }
}

/** Writes `head` + `json` (a string, UTF-8 encoded here) + `tail` into one exact-size ArrayBuffer. */
export function spliceJson(head: Uint8Array, json: string, tail: Uint8Array): ArrayBuffer {
  const n = Buffer.byteLength(json, 'utf8');
  const ab = new ArrayBuffer(head.length + n + tail.length);
  const b = Buffer.from(ab);
  b.set(head, 0);
  b.write(json, head.length, n, 'utf8');
  b.set(tail, head.length + n);
  return ab;
}

// Decision IDs: a random per-process prefix and a sequence number. Unique within the process by
// the counter and across processes/restarts by 64 random bits; far cheaper than a UUID per message.
const idPrefix = randomBytes(8).toString('hex') + '-';
let idSeq = 0;
export function nextDecisionId(): string {
  return idPrefix + (idSeq++).toString(36);
}
