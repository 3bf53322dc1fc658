// The records the evaluation pool and its workers exchange through their rings (ring.ts). All
// numbers are int32 words at the record's 8-byte aligned payload offset `o` (word index o >> 2),
// followed by byte fields in the order listed; a double is at a multiple of 8.
//
// request (event loop → worker)
//   0 kind (EVAL | CONTROL)   1 seq   2 policy generation   3 tail slot (-1: none)   4 flags
//   5 response status (-1 for a request)
//   6..13 lengths of: head, message, tail, chindings, method, request_uri, call_id, direction
//   then those bytes (tail and chindings only with F_SLOT: they fill the slot, kept by the worker)
// A CONTROL record says: take the next message from the control port (receiveMessageOnPort).
//
// result (worker → event loop)
//   0 seq   1 outcome (0 ok, else FAILURE_KINDS index + 1)
//   2..5 lengths of: decision JSON, decision-log line, decision_id, failure message
//   at byte 24: eval_ns (double)   then those bytes
import type { FailureKind } from '../decision.js';

export const EVAL = 1;
export const CONTROL = 2;

/** the record carries the slot's tail and chindings: the worker keeps them under the slot number */
export const F_SLOT = 1;
/** the worker writes the decision-log line (plain pino: see decision-log lineTarget) */
export const F_LINE = 2;

export const REQ_WORDS = 14;
export const REQ_BYTES = REQ_WORDS * 4 + 8; // fields start 8-aligned
export const RES_BYTES = 32;

export const FAILURE_KINDS: readonly FailureKind[] = ['no_policy', 'undefined', 'error', 'invalid', 'timeout'];

/** The worker's busy word: seq being evaluated (0 = idle) and since when (ms after the pool's epoch). */
export const BUSY_SEQ = 0;
export const BUSY_SINCE = 1;

/** pino's prefix of an info line (decision-log plainLine requires exactly this) */
export const LINE_HEAD = '{"level":30';

/** Control messages (over the control MessagePort). */
export type Control =
  | { type: 'load'; gen: number; module: WebAssembly.Module; data: unknown; entrypoint: string; revision: string; source: string; budgetNs: number; failClosedJson: string }
  | { type: 'drop'; gen: number }
  | { type: 'ping' }
  | { type: 'stop' };

export type ControlReply = { type: 'loaded'; gen: number } | { type: 'load-failed'; gen: number; error: string } | { type: 'pong' };
