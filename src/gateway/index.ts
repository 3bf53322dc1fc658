// Public API of the proxy core.
export { Gateway, GatewayStartError, restartRequired, type GatewayOptions, type ReloadReport, type ConnectionInfo } from './gateway.js';
export { checkConfig, type CheckResult } from './check.js';
export { loadConfig, parseConfig, validateConfig, ConfigError, packageRoot, DEFAULT_CONFIG_FILE, type GatewayConfig, type LoadedConfig, type ListenConfig } from './config.js';
export { Proxy, inThreadDecider, type Decider, type Decided, type ProxyOptions, type ProxyStats } from './proxy.js';
export { actionFor, type Action, type ForwardPlan, type Subject } from './action.js';
export type { Egress } from './egress.js';
export { Transports } from './transports.js';
export { DnsResolver3263, NextHopError, type Resolver, type Target } from './nexthop.js';
export { ensureDevPki } from './devpki.js';
export type { Flow, ListenerInfo, Transport } from './flow.js';
