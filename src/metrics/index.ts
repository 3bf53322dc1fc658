// Public surface of the metrics (Prometheus, prom-client).
export { GatewayMetrics, type MetricsSources, type ConnectionSample, type LimitHitSample, type Outcome } from './metrics.js';
export { observedDecider, countingResolver } from './hooks.js';
