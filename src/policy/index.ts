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
export { policyOptionsFromConfig, type PolicyConfigExtras, type PolicyConfigOptions } from './config.js';
export { decisionChanges, CHANGE_KINDS, type ChangeKind } from './decision-diff.js';
export { signaturesFile, verifyBundleFiles, hashBundleFile, SignatureError, type VerificationConfig, type SigningOptions } from './bundle-sign.js';
export type { DownloadOptions } from './poller.js';
export { EncodedInput, spliceJson, nextDecisionId, type DecisionLogFields, type DecisionLogPeer } from './encoded-input.js';
