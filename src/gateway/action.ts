// The one place where a policy decision becomes what the proxy does with a message. Pure: no
// sockets, no transactions, no clock, so the security mapping is tested on its own
// (action.test.ts) and every path of the proxy (requests, ACK, CANCEL, responses) goes through it.
//
//   request (not ACK)  deny → reply with the decision's status and reason
//                      allow → forward: Alert-Info replaced when the decision names one, next hop
//                              from the decision's route, outbound certificate from client_domain
//   ACK                deny → drop (an ACK is never answered)   allow → forward
//   CANCEL             deny → reply                              allow → forward (the proxy answers
//                                                                 200 and cancels downstream)
//   response           deny, final → reply: our own final response replaces it upstream
//                      deny, provisional → drop                  allow → forward (relay upstream)
import type { Decision } from '../policy/index.js';
import { defaultReason } from '../sip/build.js';

/** What the decision is about: only what the mapping depends on. */
export type Subject = { kind: 'request'; method: string } | { kind: 'response'; status: number };

/** How an allowed message leaves. Header edits are only ever made on requests. */
export interface ForwardPlan {
  /** replaces every Alert-Info that arrived (S5: no one outside can forge the tag) */
  alertInfo?: readonly string[];
  /** the policy's next hop, and the domain the next hop must prove (RFC 5922) */
  route?: { uri: string; expectedDomain?: string };
  /** the client domain (certificate) to present on a TLS next hop */
  clientDomain?: string;
}

export type Action =
  | { type: 'forward'; plan: ForwardPlan }
  | { type: 'reply'; status: number; reason: string }
  | { type: 'drop' };

/** A valid deny always carries reject (normalizeDecision); 403 is for hand-made decisions. */
const DEFAULT_REJECT_STATUS = 403;

export function actionFor(subject: Subject, d: Decision): Action {
  if (!d.allow) {
    if (subject.kind === 'request' ? subject.method === 'ACK' : subject.status < 200) return { type: 'drop' };
    const status = d.reject?.status ?? DEFAULT_REJECT_STATUS;
    return { type: 'reply', status, reason: d.reject?.reason ?? defaultReason(status) };
  }
  if (subject.kind === 'response') return { type: 'forward', plan: {} };
  const plan: ForwardPlan = {};
  if (d.alert_info) plan.alertInfo = d.alert_info;
  if (d.route) plan.route = d.route.expected_domain === undefined ? { uri: d.route.uri } : { uri: d.route.uri, expectedDomain: d.route.expected_domain };
  if (d.client_domain !== undefined) plan.clientDomain = d.client_domain;
  return { type: 'forward', plan };
}
