// Public API of the TLS edge (see README.md in this folder).
export { TlsContextRegistry, type ReloadResult, type RegistryOptions } from './registry.js';
export { createTlsServer, type TlsServerOptions } from './server.js';
export { connectTls, TlsVerifyError, type ConnectTlsOptions, type TlsConnection } from './client.js';
export {
  buildIdentity,
  identityFromChain,
  verifyPresented,
  reverifyIdentity,
  chainOf,
  presentedOf,
  opensslOverride,
  markUnverified,
  needsCrlFetch,
  withFetchedCrls,
  type PeerIdentity,
  type IdentityDomain,
  type IdentityOptions,
  type PresentedChain,
} from './identity.js';
export {
  loadServerDomain,
  loadClientDomain,
  TlsConfigError,
  type ServerDomainConfig,
  type ClientDomainConfig,
  type TlsDomainsConfig,
  type ServerDomain,
  type ClientDomain,
  type TrustEvent,
  type Background,
} from './domains.js';
export { OcspStapler, refreshAt, type StaplerOptions } from './stapling.js';
export { CrlFetcher, StaleCrls, cdpUrls, type CrlFetchConfig, type CrlStaleAction } from './crl-fetch.js';
export { matchSipDomain, sipUriDomain, type DomainMatch, type MatchedBy } from './rfc5922.js';
export { parseCnMap, loadCnMap, CnMapError, type CnMap } from './cnmap.js';
export { certInfo, CertParseError, type CertInfo, type NameInfo, type SanInfo, type CertSummary } from './certinfo.js';
export { CrlIndex, CrlError } from './crl.js';
export { inspectCertificate, certificatesOf, InspectError, type InspectOptions } from './inspect.js';
export { readPkcs12, writePkcs12, Pkcs12Error, type Pkcs12Contents } from './pkcs12.js';
export { verifyChain, TrustStore, parseCertificate, CertModelError, type VerifyOptions, type VerifyResult, type VerifyEvent, type CertModel } from './verify/index.js';
