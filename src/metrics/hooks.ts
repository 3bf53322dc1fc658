// Wrappers that count what passes through the gateway's seams without changing it: the Decider
// (every decision) and the RFC 3263 resolver (every lookup).
import type { Decider } from '../gateway/proxy.js';
import type { Resolver } from '../gateway/nexthop.js';
import type { GatewayMetrics } from './metrics.js';

/** A Decider counting every decision (outcome, status, failure kind, latency) on its way back. */
export function observedDecider(inner: Decider, metrics: GatewayMetrics): Decider {
  return {
    decide(input, done) {
      const f = input.log;
      inner.decide(input, (r) => {
        try {
          metrics.decision(
            { direction: f.direction, kind: f.status === undefined ? 'request' : 'response', method: f.method },
            { allow: r.decision.allow, status: r.decision.reject?.status, failure: r.failure?.kind, evalNs: r.eval_ns },
          );
        } catch {
          // counting must never change a decision
        }
        done(r);
      });
    },
  };
}

/** A Resolver counting the lookups that needed DNS (an IP next hop needs none). */
export function countingResolver(inner: Resolver, metrics: GatewayMetrics): Resolver {
  return {
    resolveNow: inner.resolveNow?.bind(inner),
    async resolve(uri) {
      if (inner.resolveNow?.(uri)) return inner.resolve(uri);
      try {
        const r = await inner.resolve(uri);
        metrics.dnsLookup(true);
        return r;
      } catch (e) {
        metrics.dnsLookup(false);
        throw e;
      }
    },
  };
}
