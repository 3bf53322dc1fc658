// Border protection: per-peer request and connection limits, request counts for the policy, and
// the slow-reader guard. Verdicts and counters only: the gateway (src/gateway/border.ts) applies them.
export { PeerLimiter, Verdict, exemptEntryProblem, LIMIT_HIT_KINDS, type LimitHitName, type ConnectionVerdict, type LimitCounters, type PeerLimiterOptions } from './peer-limiter.js';
export { RequestStats, requestStats, requestStatsJson, type Window } from './request-stats.js';
export { WriteGuard, type StallReason, type QueuedWriter } from './write-guard.js';
export { BucketTable, type RateLimit } from './token-bucket.js';
export { RecentCount } from './recent-count.js';
export { HitLog, type LimitName, type LimitAction } from './hit-log.js';
export { DEFAULT_PEER_LIMITS, DEFAULT_WRITE_LIMITS, resolvePeerLimits, type PeerLimits, type PeerLimitsConfig, type WriteLimits } from './config.js';
export { FairQueue, DEFAULT_FAIR_QUEUE, type FairQueueOptions } from './fair-queue.js';
