// The stateful proxy (RFC 3261 §16) on src/sip's transactions. Every message, request or
// response, is decided by the policy before anything is forwarded; the decision is applied:
// reject → response with its status and reason; alert_info → replaces every incoming Alert-Info;
// route → next hop (expected_domain for RFC 5922); client_domain → outbound certificate.
// Anything the policy cannot decide fails closed (the engine answers with a reject).
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { TransactionLayer, type ClientTransaction, type ServerTransaction, type TransportHandle } from '../sip/transaction.js';
import { buildCancel, buildResponse, generateBranch, generateTag, proxyRequireUnsupported } from '../sip/build.js';
import { MAGIC_COOKIE } from '../sip/via.js';
import { isSipUri, type SipUri } from '../sip/uri.js';
import type { SipMessage } from '../sip/message.js';
import type { SipError } from '../sip/errors.js';
import type { Decision } from '../policy/index.js';
import { TlsVerifyError, TlsConfigError } from '../tls/index.js';
import type { Flow, FlowHandler, ListenerInfo } from './flow.js';
import { encodePolicyInput } from './input.js';
import { NextHopError, routeUri, type Resolver, type Target } from './nexthop.js';
import type { Transports } from './transports.js';

/**
 * What the proxy needs from the policy engine (PolicyEngine fits). The proxy hands over an
 * EncodedInput (the input's JSON bytes + decision-log fields); `toObject()` gives the document.
 */
export interface Decider {
  decide(input: unknown): { decision: Decision; decision_id: string; eval_ns: number };
}

export interface ProxyOptions {
  transports: Transports;
  policy: Decider;
  resolver: Resolver;
  logger: Logger;
  layer?: TransactionLayer;
  /** host names meaning this gateway (besides its listening addresses) */
  localNames?: string[];
  maxForwards?: number;
  recordRoute?: boolean;
  /** request methods let through to the policy (others: 405); ACK and CANCEL always pass */
  methods?: readonly string[];
}

/** Counters for tests, the bench and operators. */
export interface ProxyStats {
  requests: number;
  responses: number;
  rejected: number;
  badInput: number;
  /** requests answered 405 (method not in proxy.methods) */
  methodNotAllowed: number;
  forwarded: number;
  evalNs: number[];
}

interface InviteContext {
  server: ServerTransaction;
  forwarded?: SipMessage;
  client?: ClientTransaction;
  clientFlow?: Flow;
  cancelled: boolean;
}

interface Outbound {
  flow: Flow;
  target: Target;
  clientDomain?: string;
}

/** The methods let through to the policy unless the config names others (proxy.methods). */
export const DEFAULT_METHODS: readonly string[] = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'UPDATE', 'INFO', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE'];
/** Requests that create dialogs: the gateway record-routes them. */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

export class Proxy implements FlowHandler {
  readonly layer: TransactionLayer;
  readonly stats: ProxyStats = { requests: 0, responses: 0, rejected: 0, badInput: 0, methodNotAllowed: 0, forwarded: 0, evalNs: [] };
  /** keep the last N evaluation times (bench: decision latency percentiles) */
  evalSampleLimit = 100_000;
  private readonly invites = new Map<string, InviteContext>();
  private readonly log: Logger;
  private readonly localNames: Set<string>;
  private readonly maxForwards: number;
  private readonly recordRoute: boolean;
  private readonly toTag = generateTag();
  private readonly methods: Set<string>;
  private readonly allow: string;

  constructor(private readonly opts: ProxyOptions) {
    this.layer = opts.layer ?? new TransactionLayer();
    this.log = opts.logger;
    this.localNames = new Set((opts.localNames ?? []).map((n) => n.toLowerCase()));
    this.maxForwards = opts.maxForwards ?? 70;
    this.recordRoute = opts.recordRoute ?? true;
    this.methods = new Set([...(opts.methods ?? DEFAULT_METHODS), 'ACK', 'CANCEL']);
    this.allow = [...this.methods].join(', ');
  }

  // ---- entry points (FlowHandler) --------------------------------------------------------

  onMessage(flow: Flow, msg: SipMessage): void {
    try {
      if (msg.kind === 'request') this.onRequest(flow, msg);
      else this.onResponse(flow, msg);
    } catch (e) {
      // A bug must never take the gateway down; the message is dropped (fail closed).
      this.log.error({ err: e, flow: flow.id, method: msg.method }, 'proxy: internal error; message dropped');
      if (msg.kind === 'request' && msg.method !== 'ACK') this.sendStateless(flow, msg, 500, 'Server Internal Error');
    }
  }

  onBadInput(flow: Flow, error: SipError, partial?: SipMessage): void {
    this.stats.badInput++;
    this.log.warn(
      { flow: flow.id, transport: flow.transport, remote: flow.remote, status: error.status, reason: error.reason, fatal: error.fatal },
      'sip: bad input refused',
    );
    // Answer a request we can address (never an ACK); it never reaches the policy.
    if (partial && partial.kind === 'request' && partial.method !== 'ACK') {
      if (this.sendStateless(flow, partial, error.status, error.reason)) return;
    }
    // Unanswerable on a stream (no usable Via): close it rather than let the peer wonder.
    if (flow.reliable && !(partial && partial.kind === 'response')) flow.close();
  }

  // ---- requests --------------------------------------------------------------------------

  private handle(flow: Flow): TransportHandle {
    return { reliable: flow.reliable, send: (data) => flow.send(data) };
  }

  private decide(flow: Flow, msg: SipMessage): Decision {
    let input: unknown;
    try {
      input = encodePolicyInput(flow, msg);
    } catch (e) {
      this.log.warn({ err: e, flow: flow.id }, 'proxy: cannot build policy input; failing closed');
      return { allow: false, reject: { status: 500, reason: 'Policy Input Error' } };
    }
    const r = this.opts.policy.decide(input);
    if (this.stats.evalNs.length < this.evalSampleLimit) this.stats.evalNs.push(r.eval_ns);
    return r.decision;
  }

  private onRequest(flow: Flow, req: SipMessage): void {
    this.stats.requests++;
    if (req.method === 'ACK') {
      const r = this.layer.receiveRequest(req, this.handle(flow));
      if (r.type === 'ack-absorbed') return; // hop by hop: the ACK of a non-2xx ends here
      const d = this.decide(flow, req);
      if (!d.allow) {
        this.stats.rejected++;
        return; // an ACK cannot be answered
      }
      this.forwardStateless(flow, req, d);
      return;
    }
    const r = this.layer.receiveRequest(req, this.handle(flow));
    if (r.type === 'retransmission') return;
    if (r.type === 'cancel') {
      this.onCancel(flow, req, r.tx, r.invite);
      return;
    }
    if (r.type !== 'request') return;
    const tx = r.tx;
    const reply = (status: number, reason?: string, headers?: [string, string][]) => {
      tx.respond(buildResponse(req, status, reason, { toTag: this.toTag, headers }));
    };

    if (!this.methods.has(req.method)) {
      // a border refuses what it was not told to carry; the policy never sees it
      this.stats.methodNotAllowed++;
      this.log.warn({ flow: flow.id, transport: flow.transport, remote: flow.remote, method: req.method, call_id: req.callId }, 'sip: method not allowed; answered 405');
      return reply(405, 'Method Not Allowed', [['Allow', this.allow]]);
    }
    const mf = req.maxForwards;
    if (mf === 0) {
      if (req.method === 'OPTIONS' && this.isSelfRequest(req)) return this.answerOptions(flow, req, tx);
      return reply(483, 'Too Many Hops');
    }
    const d = this.decide(flow, req);
    if (!d.allow) {
      this.stats.rejected++;
      return reply(d.reject?.status ?? 403, d.reject?.reason ?? 'Forbidden');
    }
    const unsupported = proxyRequireUnsupported(req);
    if (unsupported.length) return reply(420, 'Bad Extension', [['Unsupported', unsupported.join(', ')]]);

    const fwd = req.clone();
    this.popOwnRoutes(fwd);
    if (fwd.route.length === 0 && !d.route && this.isSelfUri(fwd.ruri)) {
      if (req.method === 'OPTIONS') return this.answerOptions(flow, req, tx);
      return reply(404, 'Not Found');
    }
    fwd.set('Max-Forwards', String((mf ?? this.maxForwards) - 1));
    if (d.alert_info) {
      fwd.remove('Alert-Info');
      for (const v of d.alert_info) fwd.append('Alert-Info', v);
    }

    let ctx: InviteContext | undefined;
    if (req.method === 'INVITE') {
      ctx = { server: tx, cancelled: false };
      this.invites.set(tx.key, ctx);
      this.forgetInviteOnEnd(tx);
    }
    this.forward(flow, req, fwd, d, tx, ctx);
  }

  /**
   * Sends `fwd` on. The next hop is found synchronously when it needs no DNS lookup and its
   * connection is up (the steady state: no promise, no microtask per message); otherwise after
   * resolving and connecting.
   */
  private forward(inFlow: Flow, req: SipMessage, fwd: SipMessage, d: Decision, tx: ServerTransaction, ctx?: InviteContext): void {
    const failed = (e: unknown) => {
      this.log.error({ err: e }, 'proxy: forwarding failed');
      if (tx.state === 'proceeding' || tx.state === 'trying') tx.respond(buildResponse(req, 500, 'Server Internal Error', { toTag: this.toTag }));
    };
    let now: Outbound | undefined;
    try {
      now = this.outboundNow(fwd, d);
    } catch (e) {
      return this.nextHopFailed(req, fwd, d, tx, e);
    }
    if (now) {
      try {
        this.sendForward(inFlow, req, fwd, tx, ctx, now);
      } catch (e) {
        failed(e);
      }
      return;
    }
    this.outbound(fwd, d).then(
      (out) => this.sendForward(inFlow, req, fwd, tx, ctx, out),
      (e) => this.nextHopFailed(req, fwd, d, tx, e),
    ).catch(failed);
  }

  private nextHopFailed(req: SipMessage, fwd: SipMessage, d: Decision, tx: ServerTransaction, e: unknown): void {
    const [status, reason] = this.failureStatus(e);
    this.log.warn(
      { err: { message: (e as Error).message, code: (e as { code?: string }).code }, call_id: req.callId, method: req.method, route: fwd.getAll('route')[0], decision_route: d.route, status },
      'proxy: next hop unreachable',
    );
    if (tx.state === 'proceeding' || tx.state === 'trying') tx.respond(buildResponse(req, status, reason, { toTag: this.toTag }));
  }

  private sendForward(inFlow: Flow, req: SipMessage, fwd: SipMessage, tx: ServerTransaction, ctx: InviteContext | undefined, out: Outbound): void {
    // The client transaction's callbacks reach the request through `tx` only: once the call is
    // Accepted the transactions release their messages, and a closure must not keep them alive.
    const reply = (status: number, reason: string) => this.replyIfPending(tx, status, reason);
    if (ctx?.cancelled) return; // 487 already sent
    const listener = this.opts.transports.listenerFor(out.flow.transport, out.clientDomain);
    const inDialog = req.to.params['tag'] !== undefined;
    if (this.recordRoute && !inDialog && DIALOG_CREATING.has(req.method)) this.addRecordRoute(fwd, inFlow, out.flow, listener);
    fwd.prepend('Via', this.viaValue(out.flow, listener, generateBranch()));
    const client = this.layer.sendRequest(fwd, this.handle(out.flow), {
      onResponse: (resp) => this.relayResponse(out.flow, resp, tx),
      onTimeout: () => reply(408, 'Request Timeout'),
      onTransportError: () => reply(503, 'Service Unavailable'),
    });
    this.stats.forwarded++;
    if (ctx) {
      ctx.forwarded = fwd;
      ctx.client = client;
      ctx.clientFlow = out.flow;
    }
  }

  /** Relays a response from the client transaction to the server transaction, after the policy. */
  private relayResponse(from: Flow, resp: SipMessage, tx: ServerTransaction): void {
    if (resp.status === 100) return; // hop by hop; our own 100 went out already
    this.stats.responses++;
    const d = this.decide(from, resp);
    if (!d.allow) {
      this.stats.rejected++;
      if (resp.status >= 200) this.replyIfPending(tx, d.reject?.status ?? 403, d.reject?.reason ?? 'Forbidden');
      return;
    }
    const out = resp.clone();
    out.shiftValue('Via');
    tx.respond(out);
    if (resp.status >= 200) this.invites.delete(tx.key); // final: nothing left to CANCEL
  }

  // (a method of its own: a closure made in onRequest would share its context and keep the
  // request alive as long as the transaction lives)
  private forgetInviteOnEnd(tx: ServerTransaction): void {
    const key = tx.key;
    tx.on({ onTerminated: () => this.invites.delete(key) });
  }

  /** A final response of our own, while the server transaction still waits for one. */
  private replyIfPending(tx: ServerTransaction, status: number, reason: string): void {
    if (tx.state !== 'proceeding' && tx.state !== 'trying') return;
    tx.respond(buildResponse(tx.request, status, reason, { toTag: this.toTag }));
    this.invites.delete(tx.key);
  }

  private onCancel(flow: Flow, cancel: SipMessage, tx: ServerTransaction, invite?: ServerTransaction): void {
    const d = this.decide(flow, cancel);
    if (!d.allow) {
      this.stats.rejected++;
      tx.respond(buildResponse(cancel, d.reject?.status ?? 403, d.reject?.reason ?? 'Forbidden', { toTag: this.toTag }));
      return;
    }
    const ctx = invite ? this.invites.get(invite.key) : undefined;
    if (!invite || !ctx) {
      tx.respond(buildResponse(cancel, 481, 'Call/Transaction Does Not Exist', { toTag: this.toTag }));
      return;
    }
    tx.respond(buildResponse(cancel, 200, 'OK', { toTag: this.toTag }));
    if (ctx.client && ctx.forwarded && ctx.clientFlow && (ctx.client.state === 'calling' || ctx.client.state === 'proceeding')) {
      const c = buildCancel(ctx.forwarded);
      try {
        this.layer.sendRequest(c, this.handle(ctx.clientFlow), { onResponse: () => {} });
      } catch (e) {
        this.log.warn({ err: e }, 'proxy: cannot send CANCEL downstream');
      }
    } else if (!ctx.client) {
      ctx.cancelled = true;
      if (invite.state === 'proceeding') invite.respond(buildResponse(invite.request, 487, 'Request Terminated', { toTag: this.toTag }));
    }
  }

  /** ACK for a 2xx (end to end): forwarded without a transaction, by its Route set. */
  private forwardStateless(inFlow: Flow, ack: SipMessage, d: Decision): void {
    const fwd = ack.clone();
    this.popOwnRoutes(fwd);
    if (fwd.route.length === 0 && !d.route && this.isSelfUri(fwd.ruri)) return;
    const mf = fwd.maxForwards;
    if (mf === 0) return;
    fwd.set('Max-Forwards', String((mf ?? this.maxForwards) - 1));
    const unreachable = (e: unknown) => this.log.warn({ err: { message: (e as Error).message }, call_id: ack.callId }, 'proxy: ACK next hop unreachable; dropped');
    let now: Outbound | undefined;
    try {
      now = this.outboundNow(fwd, d);
    } catch (e) {
      return unreachable(e);
    }
    if (now) return this.sendAck(inFlow, ack, fwd, now);
    this.outbound(fwd, d).then((out) => this.sendAck(inFlow, ack, fwd, out), unreachable);
  }

  private sendAck(inFlow: Flow, ack: SipMessage, fwd: SipMessage, out: Outbound): void {
    const listener = this.opts.transports.listenerFor(out.flow.transport, out.clientDomain);
    // Stateless branch (RFC 3261 §16.11): derived from the incoming one, so retransmissions match.
    const inBranch = ack.topVia?.branch ?? ack.callId;
    const branch = MAGIC_COOKIE + 'S' + hash64(`${inBranch}|${inFlow.id}`);
    fwd.prepend('Via', this.viaValue(out.flow, listener, branch));
    try {
      out.flow.send(fwd.toBuffer());
      this.stats.forwarded++;
    } catch (e) {
      this.log.warn({ err: { message: (e as Error).message } }, 'proxy: ACK could not be sent');
    }
  }

  // ---- next hop ----------------------------------------------------------------------------

  /**
   * Where a request goes. Initial requests: the policy's route, else the Route set, else the
   * Request-URI (RFC 3263). In-dialog requests with a Route set follow it; the policy's route
   * then only names the domain the next hop must prove (S4: Request-URI is an address).
   */
  private nextHop(fwd: SipMessage, d: Decision): { uri: SipUri; expected?: string } {
    const inDialog = fwd.to.params['tag'] !== undefined;
    const top = fwd.route[0];
    let expected = d.route?.expected_domain;
    if (d.route && !(inDialog && top)) return { uri: routeUri(d.route.uri), expected };
    if (top) {
      if (!isSipUri(top.uri)) throw new NextHopError(416, 'Unsupported URI Scheme in Route');
      if (!expected && !isIP(top.uri.host.replace(/^\[|\]$/g, ''))) expected = top.uri.host;
      return { uri: top.uri, expected };
    }
    const ruri = fwd.ruri;
    if (!isSipUri(ruri)) throw new NextHopError(416, 'Unsupported URI Scheme');
    return { uri: ruri, expected };
  }

  /** The outbound flow without waiting: IP next hop whose pooled connection is up; else undefined. */
  private outboundNow(fwd: SipMessage, d: Decision): Outbound | undefined {
    const { uri, expected } = this.nextHop(fwd, d);
    const targets = this.opts.resolver.resolveNow?.(uri);
    const t = targets?.[0];
    if (!t) return undefined;
    const target: Target = { ...t, expectedDomain: expected ?? t.expectedDomain };
    const clientDomain = target.transport === 'tls' ? d.client_domain : undefined;
    const flow = this.opts.transports.connectedFlow(target, clientDomain);
    if (!flow) return undefined;
    return { flow, target, clientDomain: flow.local.domain ?? clientDomain };
  }

  /** The flow a request leaves on, resolving (RFC 3263) and connecting as needed. */
  private async outbound(fwd: SipMessage, d: Decision): Promise<Outbound> {
    const { uri, expected } = this.nextHop(fwd, d);
    const targets = await this.opts.resolver.resolve(uri);
    let lastErr: unknown;
    for (const t of targets) {
      const target: Target = { ...t, expectedDomain: expected ?? t.expectedDomain };
      const clientDomain = target.transport === 'tls' ? d.client_domain : undefined;
      try {
        const flow = await this.opts.transports.connect(target, clientDomain);
        return { flow, target, clientDomain: flow.local.domain ?? clientDomain };
      } catch (e) {
        lastErr = e;
        if (e instanceof TlsConfigError) break; // a policy naming an unknown client domain: no retry
      }
    }
    throw lastErr ?? new NextHopError(404, 'Next Hop Not Found');
  }

  private failureStatus(e: unknown): [number, string] {
    if (e instanceof NextHopError) return [e.status, e.reason];
    if (e instanceof TlsVerifyError) return [502, 'Next Hop Not Trusted'];
    if (e instanceof TlsConfigError) return [500, 'Client Domain Not Configured'];
    return [503, 'Service Unavailable'];
  }

  // ---- Via, Record-Route, Route ------------------------------------------------------------

  private viaValue(flow: Flow, listener: ListenerInfo | undefined, branch: string): string {
    const hp = listener?.hostport ?? `${flow.local.address}:${flow.local.port}`;
    return `SIP/2.0/${flow.transport.toUpperCase()} ${hp};branch=${branch}`;
  }

  private rrUri(flow: Flow, listener: ListenerInfo | undefined): string {
    const hp = listener?.hostport ?? `${flow.local.address}:${flow.local.port}`;
    return `<sip:${hp};transport=${flow.transport};lr>`;
  }

  /** One Record-Route, or two when the legs differ in transport or listener (domain). */
  private addRecordRoute(fwd: SipMessage, inFlow: Flow, outFlow: Flow, outListener: ListenerInfo | undefined): void {
    const inbound = this.rrUri(inFlow, inFlow.listener ?? this.opts.transports.listenerFor(inFlow.transport, inFlow.local.domain));
    const outbound = this.rrUri(outFlow, outListener);
    fwd.prepend('Record-Route', inbound);
    if (outbound !== inbound) fwd.prepend('Record-Route', outbound);
  }

  private ownHostPort(host: string, port: number | null, transport: string | undefined): boolean {
    const h = host.toLowerCase().replace(/^\[|\]$/g, '');
    const t = transport?.toLowerCase();
    for (const l of this.opts.transports.listeners) {
      const p = port ?? (t === 'tls' ? 5061 : 5060);
      const [ah, ap] = splitHostPort(l.hostport);
      if ((h === l.address || h === ah) && (p === l.port || p === ap)) return true;
      if (this.localNames.has(h) && p === l.port) return true;
    }
    return false;
  }

  private isOwnRoute(u: SipUri): boolean {
    return this.ownHostPort(u.host, u.port, u.scheme === 'sips' ? 'tls' : (u.params['transport'] ?? undefined));
  }

  /** Removes the Route entries that name this gateway (one, or two after a double Record-Route). */
  private popOwnRoutes(fwd: SipMessage): void {
    for (let i = 0; i < 2; i++) {
      const top = fwd.route[0];
      if (!top || !isSipUri(top.uri) || !this.isOwnRoute(top.uri)) return;
      fwd.shiftValue('Route');
    }
  }

  private isSelfUri(u: import('../sip/uri.js').Uri): boolean {
    if (!isSipUri(u)) return false;
    if (u.port === null && this.localNames.has(u.host)) return true;
    return this.ownHostPort(u.host, u.port, u.scheme === 'sips' ? 'tls' : (u.params['transport'] ?? undefined));
  }

  private isSelfRequest(req: SipMessage): boolean {
    return req.route.length === 0 && this.isSelfUri(req.ruri);
  }

  private answerOptions(_flow: Flow, req: SipMessage, tx: ServerTransaction): void {
    tx.respond(
      buildResponse(req, 200, 'OK', {
        toTag: this.toTag,
        headers: [
          ['Allow', this.allow],
          ['Accept', 'application/sdp'],
          ['Supported', ''],
          ['Server', 'sip-bastion'],
        ].filter(([, v]) => v !== '') as [string, string][],
      }),
    );
  }

  // ---- responses ---------------------------------------------------------------------------

  private onResponse(flow: Flow, resp: SipMessage): void {
    const r = this.layer.receiveResponse(resp);
    if (r.type === 'stray') {
      this.log.debug({ flow: flow.id, status: resp.status, call_id: resp.callId }, 'proxy: stray response dropped');
    }
  }

  /** A response without a transaction (bad input, internal errors). */
  private sendStateless(flow: Flow, req: SipMessage, status: number, reason: string): boolean {
    try {
      if (req.fields('via').length === 0) return false;
      flow.send(buildResponse(req, status, reason, { toTag: this.toTag }).toBuffer());
      return true;
    } catch {
      return false; // unanswerable (bad Via, closed flow): the log line is all
    }
  }

  shutdown(): void {
    this.layer.shutdown();
    this.invites.clear();
  }
}

/**
 * 64 bits of FNV-1a (two 32-bit lanes with different offsets) as 16 hex digits: a deterministic,
 * collision-resistant-enough tag for stateless branches (not a security boundary: the branch
 * only has to be unique per transaction and equal for retransmissions).
 */
function hash64(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

function splitHostPort(hp: string): [string, number | null] {
  const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(hp);
  if (!m) return [hp, null];
  return [m[1]!.toLowerCase(), m[2] ? Number(m[2]) : null];
}
