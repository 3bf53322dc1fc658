// Public API of the TLS edge (see README.md in this folder).
export { TlsContextRegistry, type ReloadResult, type RegistryOptions } from './registry.js';
export { createTlsServer, type TlsServerOptions } from './server.js';
export { connectTls, TlsVerifyError, type ConnectTlsOptions, type TlsConnection } from './client.js';
export { buildIdentity, identityFromChain, type PeerIdentity, type IdentityDomain, type IdentityOptions } from './identity.js';
export {
  loadServerDomain,
  loadClientDomain,
  TlsConfigError,
  type ServerDomainConfig,
  type ClientDomainConfig,
  type TlsDomainsConfig,
  type ServerDomain,
  type ClientDomain,
} from './domains.js';
export { matchSipDomain, sipUriDomain, type DomainMatch, type MatchedBy } from './rfc5922.js';
export { parseCnMap, loadCnMap, CnMapError, type CnMap } from './cnmap.js';
export { certInfo, CertParseError, type CertInfo, type NameInfo, type SanInfo, type CertSummary } from './certinfo.js';
export { CrlIndex, CrlError } from './crl.js';
export { inspectCertificate, type InspectOptions } from './inspect.js';
