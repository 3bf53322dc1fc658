// Public surface of the policy layer (used by the gateway and the CLI).
export { PolicyEngine, PolicyLoadError, formatRegoError } from './engine.js';
export type { PolicyEngineOptions, PolicySource, PolicyInfo, LoadResult, DecisionResult } from './engine.js';
export type { Decision, FailClosedOptions, FailureKind } from './decision.js';
export { checkDecision, failClosedDecision, normalizeDecision } from './decision.js';
export type { DecisionLogOptions, DecisionLogRecord } from './decision-log.js';
export { maskInput } from './decision-log.js';
export { readBundle, writeBundle, BundleError } from './bundle.js';
export type { Bundle, BundleManifest, WasmResolver } from './bundle.js';
export { loadPaths } from './loader.js';
export { EncodedInput, spliceJson, nextDecisionId, type DecisionLogFields, type DecisionLogPeer, type InputScope } from './encoded-input.js';
export { EvalPool, PoolStartError, type EvalPoolOptions, type EvalPoolStats } from './pool/pool.js';
export type { PolicyArtifact, PolicyReplica } from './engine.js';
export { responseDecisionScope, type ResponseDecisionScope } from './response-reuse.js';
