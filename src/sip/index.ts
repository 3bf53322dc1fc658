// Public API of the SIP layer (see README.md in this folder).
export { SipError, isSipError, badRequest } from './errors.js';
export { DEFAULT_LIMITS, withLimits, type SipLimits } from './limits.js';
export { SipMessage, makeField, serializeMessage, parseCSeq, type HeaderField, type CSeq, type ContactValue } from './message.js';
export { parseMessage, tryParseMessage, validateMessage, type ParseOptions } from './parser.js';
export { StreamFramer, startStreamGuard, parseDatagram, PING, PONG, type FrameEvent, type FramerOptions, type DatagramResult } from './framing.js';
export { parseUri, parseHost, parseHostPort, formatSipUri, isSipUri, isTelUri, type Uri, type SipUri, type TelUri, type OtherUri } from './uri.js';
export { parseNameAddr, parseNameAddrList, formatNameAddr, parseAlertInfo, type NameAddr, type AlertInfo } from './address.js';
export { parseVia, parseViaList, formatVia, isRfc3261Branch, MAGIC_COOKIE, type Via } from './via.js';
export { splitList, parseParams, formatParams, unescapeUri, isToken, type Params } from './syntax.js';
export { COMPACT_FORMS, LIST_HEADERS, SINGLE_HEADERS, canonicalLowerName, displayName } from './header-names.js';
export { toPolicyMessage, policyMessageJson, policyUri, policyAddress, policyVia, type PolicyMessage, type PolicyUri, type PolicyAddress, type PolicyVia } from './normalize.js';
export {
  buildResponse, buildAckForNon2xx, buildCancel, generateBranch, generateTag, defaultReason, proxyRequireUnsupported, stampReceived,
} from './build.js';
export {
  TransactionLayer, ClientTransaction, ServerTransaction, DEFAULT_TIMERS, serverKey, clientKey,
  type TimerConfig, type Clock, type TransportHandle, type ClientHandlers, type ServerHandlers, type TransactionLayerOptions,
  type ServerReceiveResult, type ClientReceiveResult, type ClientState, type ServerState, type TerminationCause,
} from './transaction.js';
export { SipResolver, ResolveError, orderSrv, type ResolvedTarget, type SipResolverOptions, type SipTransport } from './resolver.js';
