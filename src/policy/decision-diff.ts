// What changed between two decisions for the same message, by kind: the vocabulary of
// `bastion policy replay` and of the shadow policy's disagreement log lines.
import { isDeepStrictEqual } from 'node:util';
import type { Decision } from './decision.js';

export type ChangeKind = 'allow_to_reject' | 'reject_to_allow' | 'reject_changed' | 'alert_info_changed' | 'route_changed' | 'client_domain_changed' | 'log_changed';

export const CHANGE_KINDS: readonly ChangeKind[] = ['allow_to_reject', 'reject_to_allow', 'reject_changed', 'alert_info_changed', 'route_changed', 'client_domain_changed', 'log_changed'];

/** The kinds of change from `before` to `after` (empty when they decide the same). */
export function decisionChanges(before: Decision, after: Decision): ChangeKind[] {
  if (before.allow && !after.allow) return ['allow_to_reject'];
  if (!before.allow && after.allow) return ['reject_to_allow'];
  const out: ChangeKind[] = [];
  if (!before.allow) {
    if (!isDeepStrictEqual(before.reject, after.reject)) out.push('reject_changed');
  } else {
    if (!isDeepStrictEqual(before.alert_info, after.alert_info)) out.push('alert_info_changed');
    if (!isDeepStrictEqual(before.route, after.route)) out.push('route_changed');
    if (before.client_domain !== after.client_domain) out.push('client_domain_changed');
  }
  if (!isDeepStrictEqual(before.log, after.log)) out.push('log_changed');
  return out;
}
