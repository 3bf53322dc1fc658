// Re-verification of open TLS connections after a reload of the trust state (CAs, CRLs, OCSP
// answers): each peer that was verified is verified again, with the certificates it presented in
// its handshake, against its domain as loaded now. One that no longer verifies (revoked, its CA
// removed, expired since) is handled as its domain's `on_revocation` says:
// - close: the connection is closed (close_notify, then FIN) with a log line naming the peer and
//   the reason;
// - mark: the connection stays; its identity document says verified false with the reason
//   (e.g. CERT_REVOKED), so the policy decides on its next messages. An outbound connection so
//   marked also leaves the pool: new requests to that peer open (and verify) a new connection.
// A re-verification never upgrades a document: a peer that was unverified stays so.
import type { Logger } from 'pino';
import { chainOf, markUnverified, needsCrlFetch, reverifyIdentity, withFetchedCrls, type PeerIdentity, type TlsContextRegistry, type ServerDomain, type ClientDomain } from '../tls/index.js';
import type { StreamFlow } from './flow.js';

export interface ReverifyReport {
  /** verified TLS connections verified again */
  checked: number;
  closed: number;
  marked: number;
  took_ms: number;
}

export interface ReverifyHooks {
  logger: Pick<Logger, 'warn' | 'debug'>;
  /** the identity document of `flow` changed in place (encoded inputs must be rebuilt) */
  changed(flow: StreamFlow): void;
  /** an outbound flow marked unverified: no new requests on it */
  retire(flow: StreamFlow): void;
}

/** Connections verified per slice of the event loop (other traffic runs between slices). */
const SLICE = 64;

export async function reverifyConnections(flows: readonly StreamFlow[], registry: TlsContextRegistry, hooks: ReverifyHooks, only?: (identity: PeerIdentity) => boolean): Promise<ReverifyReport> {
  const t0 = performance.now();
  const report: ReverifyReport = { checked: 0, closed: 0, marked: 0, took_ms: 0 };
  const todo = flows.filter((f) => f.transport === 'tls' && f.identity?.verified === true && !f.closed && (!only || only(f.identity)));
  for (let i = 0; i < todo.length; i += SLICE) {
    if (i > 0) await new Promise((r) => setImmediate(r));
    await Promise.all(todo.slice(i, i + SLICE).map((f) => reverifyOne(f, registry, hooks, report)));
  }
  report.took_ms = Math.round((performance.now() - t0) * 1000) / 1000;
  return report;
}

async function reverifyOne(flow: StreamFlow, registry: TlsContextRegistry, hooks: ReverifyHooks, report: ReverifyReport): Promise<void> {
  const identity = flow.identity as PeerIdentity;
  const inbound = identity.local.role === 'server';
  let domain: ServerDomain | ClientDomain;
  try {
    domain = inbound ? registry.serverDomain(identity.local.domain) : registry.clientDomain(identity.local.domain);
  } catch {
    // its domain is gone from the configuration: nothing vouches for the peer any more
    report.checked++;
    return act(flow, identity, 'TLS_DOMAIN_REMOVED', 'close', hooks, report);
  }
  let again = reverifyIdentity(identity, domain);
  if (!again) return; // not built from a certificate
  // CRLs from distribution points the domain as reloaded has not fetched yet
  if (needsCrlFetch(again, domain)) again = await withFetchedCrls(again, domain).catch(() => again!);
  report.checked++;
  let error = again.verified ? undefined : (again.verify_error ?? 'UNSPECIFIED');
  if (error === undefined && domain.ocsp) {
    // the domain's OCSP state as reloaded: its answers are fetched again (cached per certificate)
    const chain = chainOf(again);
    if (chain && chain.length >= 2 && domain.ocsp.responderFor(chain[0]) !== undefined) {
      const verdict = await domain.ocsp.query(chain[0], chain[1]).catch(() => null);
      if (verdict) error = verdict;
    }
  }
  if (error === undefined || flow.closed) return;
  act(flow, identity, error, domain.onRevocation, hooks, report);
}

function act(flow: StreamFlow, identity: PeerIdentity, error: string, action: 'close' | 'mark', hooks: ReverifyHooks, report: ReverifyReport): void {
  const peer = {
    flow: flow.id,
    domain: identity.local.domain,
    direction: identity.local.role === 'server' ? 'inbound' : 'outbound',
    remote: flow.remote,
    subject: identity.subject?.string,
    serial: identity.serial,
    verify_error: error,
  };
  if (action === 'close') {
    hooks.logger.warn(peer, 'tls: open connection closed: its peer no longer verifies after the reload');
    // out of the pool at once: the close completes only when the peer answers it
    if (identity.local.role === 'client') hooks.retire(flow);
    flow.close({ afterWrites: true }); // TLS close_notify, then FIN
    report.closed++;
    return;
  }
  markUnverified(identity, error);
  hooks.changed(flow);
  if (identity.local.role === 'client') hooks.retire(flow);
  hooks.logger.warn(peer, 'tls: open connection marked unverified: its peer no longer verifies after the reload (the policy decides)');
  report.marked++;
}
