// Response decisions the policy declared constant per connection. Five of a call's six messages
// through a proxy are often responses (180, 200, the 200 to BYE...), and a border policy usually
// decides them by who sent them, not by what they say. When the policy says so in its data,
//
//   bastion:
//     response_decision: per_connection    # default: per_message
//
// the gateway evaluates the first response on a connection (per direction) and applies that
// decision to later responses on it under the same policy revision, logging each with
// `reused_from` (the decision it repeats) and eval_ns 0. Never silently: without the declaration
// every response is evaluated; and with it, every VERIFY_EVERY-th reuse is evaluated anyway and
// compared, so that a declaration the policy does not live up to is caught (the engine then
// evaluates every response and logs an error).
import type { Decision } from './decision.js';
import type { EncodedInput, InputScope } from './encoded-input.js';

export type ResponseDecisionScope = 'per_message' | 'per_connection';

/** Reads the declaration from the policy's data; throws on a value it does not know. */
export function responseDecisionScope(data: unknown): ResponseDecisionScope {
  const b = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['bastion'] : undefined;
  const v = typeof b === 'object' && b !== null ? (b as Record<string, unknown>)['response_decision'] : undefined;
  if (v === undefined || v === 'per_message') return 'per_message';
  if (v === 'per_connection') return 'per_connection';
  throw new Error(`data.bastion.response_decision: must be "per_message" or "per_connection", not ${JSON.stringify(v)}`);
}

/** Every this many reuses on a connection, the response is evaluated again and compared. */
export const VERIFY_EVERY = 64;

interface Kept {
  token: object;
  decision_id: string;
  decision: Decision;
  json: string;
  uses: number;
}

type PerDirection = Partial<Record<string, Kept>>;

export class ResponseDecisions {
  private readonly kept = new WeakMap<InputScope, PerDirection>();

  /** The decision to reuse for this response under `token` (a policy snapshot), or undefined: evaluate it. */
  lookup(input: EncodedInput, token: object): Kept | undefined {
    const k = this.kept.get(input.scope!)?.[input.log.direction ?? ''];
    if (!k || k.token !== token) return undefined;
    if (++k.uses % VERIFY_EVERY === 0) return undefined; // evaluated again: keep() compares
    return k;
  }

  /**
   * Remembers an evaluated response decision. Returns the earlier decision when it differs from
   * this one under the same token: the declaration does not hold.
   */
  keep(input: EncodedInput, token: object, decision_id: string, decision: Decision, json: string): Kept | undefined {
    const scope = input.scope!;
    let d = this.kept.get(scope);
    if (!d) this.kept.set(scope, (d = {}));
    const dir = input.log.direction ?? '';
    const k = d[dir];
    if (k && k.token === token) {
      if (k.json !== json) return { ...k };
      return undefined;
    }
    d[dir] = { token, decision_id, decision, json, uses: 0 };
    return undefined;
  }
}
