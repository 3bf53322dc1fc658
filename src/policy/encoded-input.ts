// A policy input handed to the engine as JSON parts, plus the few fields the decision log needs.
// Callers build the parts from pieces they encoded once: the gateway keeps the JSON of a
// connection's constant end (the ~3 KB identity document: the `tail`) on an InputScope, writes a
// small `head` (direction, transport, addresses) and serializes the message only when an
// evaluation needs it (a reused response decision never does). The whole document is
// head + message + tail, exactly what JSON.stringify of the input object gives (tests compare).
import { randomBytes } from 'node:crypto';
import type { InputParts } from './evaluator.js';

/** Decision-log fields constant for a connection; the engine caches a pino child logger on it. */
export interface DecisionLogPeer {
  peer: { subject?: string; issuer?: string; verified: boolean; presented: boolean; address?: string };
  local_domain?: string;
  /** @internal engine cache: child logger with these fields bound, the logger and mask plan it came from */
  cache?: { base: unknown; plan?: unknown; child: unknown };
}

/**
 * What is constant for a connection: the input's end and the decision-log peer. The evaluation
 * layer keys its per-connection state on this object (the resident tail, reused response
 * decisions, an evaluation worker's copy of the tail), so one connection has one scope.
 */
export interface InputScope {
  /** `,"identity":{…}}`, or `}` when there is no identity */
  readonly tail: Uint8Array;
  readonly peer: DecisionLogPeer;
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

const EMPTY = new Uint8Array(0);

export class EncodedInput implements InputParts {
  /** `{"direction":…,"message":` (parts), or the whole document (bytes) */
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
  readonly scope: InputScope | undefined;
  private text: string | undefined;
  private make: (() => string) | undefined;
  private whole: ArrayBuffer | undefined;

  /** The whole input document as UTF-8 JSON bytes. */
  constructor(bytes: ArrayBuffer, log: DecisionLogFields);
  constructor(bytes: ArrayBuffer | undefined, log: DecisionLogFields, parts: { head: Uint8Array; message: string | (() => string); scope: InputScope });
  constructor(
    bytes: ArrayBuffer | undefined,
    readonly log: DecisionLogFields,
    parts?: { head: Uint8Array; message: string | (() => string); scope: InputScope },
  ) {
    if (parts) {
      this.head = parts.head;
      this.tail = parts.scope.tail;
      this.scope = parts.scope;
      if (typeof parts.message === 'string') this.text = parts.message;
      else this.make = parts.message;
    } else {
      this.whole = bytes;
      this.head = new Uint8Array(bytes!);
      this.tail = EMPTY;
      this.scope = undefined;
      this.text = '';
    }
  }

  /** An input of parts: `head` + the message's JSON (computed on first use) + the scope's tail. */
  static parts(head: Uint8Array, message: string | (() => string), scope: InputScope, log: DecisionLogFields): EncodedInput {
    return new EncodedInput(undefined, log, { head, message, scope });
  }

  /** The message's JSON text ('' when the input was given whole). */
  get message(): string {
    if (this.text === undefined) {
      this.text = this.make!();
      this.make = undefined;
    }
    return this.text;
  }

  /** UTF-8 JSON of the whole input document. */
  get bytes(): ArrayBuffer {
    return (this.whole ??= spliceJson(this.head, this.message, this.tail));
  }

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
// (Each evaluation worker has its own prefix: module state is per thread.)
const idPrefix = randomBytes(8).toString('hex') + '-';
let idSeq = 0;
export function nextDecisionId(): string {
  return idPrefix + (idSeq++).toString(36);
}
