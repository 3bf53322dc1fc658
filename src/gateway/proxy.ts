// The stateful proxy (RFC 3261 §16) on src/sip's transactions. Every message, request or
// response, is decided by the policy before anything is forwarded. actionFor() (action.ts) turns
// the decision into reply, drop or a forward plan; this file carries the action out: Alert-Info
// replaced, next hop from the plan's route (expected domain for RFC 5922), outbound certificate
// from its client domain. Anything the policy cannot decide fails closed (the engine answers
// with a reject). The proxy reaches the network only through Egress (egress.ts).
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { TransactionLayer, type ClientTransaction, type ServerTransaction, type TransportHandle } from '../sip/transaction.js';
import { buildCancel, buildResponse, generateBranch, generateTag, proxyRequireUnsupported, stampReceived } from '../sip/build.js';
import { MAGIC_COOKIE } from '../sip/via.js';
import { isSipUri, type SipUri } from '../sip/uri.js';
import type { SipMessage } from '../sip/message.js';
import type { SipError } from '../sip/errors.js';
import type { Decision, EncodedInput } from '../policy/index.js';
import { TlsVerifyError, TlsConfigError } from '../tls/index.js';
import { actionFor, type Action, type ForwardPlan, type Subject } from './action.js';
import type { Egress } from './egress.js';
import type { Flow, FlowHandler, ListenerInfo } from './flow.js';
import { encodePolicyInput } from './input.js';
import { NextHopError, routeUri, type Resolver, type Target } from './nexthop.js';
import type { Leg, TopologyHiding } from './topology-hiding.js';

/** One decision as the proxy uses it. */
export interface Decided {
  decision: Decision;
  eval_ns: number;
  /** set when the decision failed closed (metrics count it by kind) */
  failure?: { kind: string };
}

/**
 * What the proxy needs from the policy. `decide` hands over an EncodedInput (the input's JSON
 * bytes + decision-log fields; `toObject()` gives the document) and calls `done` exactly once:
 * at once (the in-thread engine, see inThreadDecider) or later (an evaluation pool). Messages of
 * one Call-ID must be answered in the order they were handed over: the proxy applies decisions
 * as they come, and a CANCEL or an ACK must not overtake its INVITE.
 */
export interface Decider {
  decide(input: EncodedInput, done: (r: Decided) => void): void;
}

/** A Decider on a synchronous engine (PolicyEngine fits): `done` runs before decide() returns. */
export function inThreadDecider(engine: { decide(input: unknown): Decided }): Decider {
  return { decide: (input, done) => done(engine.decide(input)) };
}

export interface ProxyOptions {
  egress: Egress;
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
  /** topology hiding towards the TLS domains that ask for it (topology-hiding.ts) */
  topologyHiding?: TopologyHiding;
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
  /** the To tag of the 2xx an Accepted INVITE server transaction forwarded (its retransmissions skip the policy) */
  private readonly accepted2xx = new WeakMap<ServerTransaction, string>();
  private readonly handles = new WeakMap<Flow, TransportHandle>();
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

  /** The transactions' handle of a flow: one per flow, so that its transactions can be found when it closes. */
  private handle(flow: Flow): TransportHandle {
    let h = this.handles.get(flow);
    if (!h) this.handles.set(flow, (h = { reliable: flow.reliable, send: (data) => flow.send(data) }));
    return h;
  }

  /** A connection closed: its transactions fail as on a transport error (client side: 503 upstream). */
  onFlowClosed(flow: Flow): void {
    const h = this.handles.get(flow);
    if (!h) return;
    const n = this.layer.transportClosed(h, Object.assign(new Error(`flow ${flow.id} closed`), { code: 'ECONNRESET' }));
    if (n > 0) this.log.info({ flow: flow.id, transport: flow.transport, remote: flow.remote, transactions: n }, 'proxy: connection closed; its transactions failed');
  }

  /**
   * The policy's decision on `msg`, turned into an action (action.ts) and handed to `apply`:
   * the single path from a decision to what happens. `apply` runs at once or later (Decider).
   */
  private decide(flow: Flow, msg: SipMessage, apply: (a: Action) => void): void {
    let input: EncodedInput;
    try {
      input = encodePolicyInput(flow, msg);
    } catch (e) {
      this.log.warn({ err: e, flow: flow.id }, 'proxy: cannot build policy input; failing closed');
      return this.applyGuarded(flow, msg, apply, actionFor(subjectOf(msg), { allow: false, reject: { status: 500, reason: 'Policy Input Error' } }));
    }
    this.opts.policy.decide(input, (r) => {
      if (this.stats.evalNs.length < this.evalSampleLimit) this.stats.evalNs.push(r.eval_ns);
      const action = actionFor(subjectOf(msg), r.decision);
      if (action.type !== 'forward') this.stats.rejected++;
      this.applyGuarded(flow, msg, apply, action);
    });
  }

  /** Runs `apply`; a bug in it drops the message (fail closed), as in onMessage. */
  private applyGuarded(flow: Flow, msg: SipMessage, apply: (a: Action) => void, action: Action): void {
    try {
      apply(action);
    } catch (e) {
      this.log.error({ err: e, flow: flow.id, method: msg.method }, 'proxy: internal error applying a decision; message dropped');
    }
  }

  private onRequest(flow: Flow, req: SipMessage): void {
    this.stats.requests++;
    // RFC 3261 §18.2.1, RFC 3581 §4: received/rport on the top Via before anything copies it, so
    // that our responses and the request we forward carry them (and the policy sees them)
    stampReceived(req, flow.remote.address, flow.remote.port);
    if (req.method === 'ACK') {
      const r = this.layer.receiveRequest(req, this.handle(flow));
      if (r.type === 'ack-absorbed') return; // hop by hop: the ACK of a non-2xx ends here
      // forwarded by its Route set; denied: dropped (an ACK cannot be answered)
      this.decide(flow, req, (a) => {
        if (a.type === 'forward') this.forwardStateless(flow, req, a.plan);
      });
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
    // Known before the decision, so that a CANCEL arriving while it is pending finds the INVITE.
    let ctx: InviteContext | undefined;
    if (req.method === 'INVITE') {
      ctx = { server: tx, cancelled: false };
      this.invites.set(tx.key, ctx);
      this.forgetInviteOnEnd(tx);
    }
    this.decide(flow, req, (a) => {
      if (!isPending(tx) || ctx?.cancelled) return; // answered meanwhile (CANCEL → 487, transport error)
      if (a.type === 'reply') return reply(a.status, a.reason);
      if (a.type === 'forward') this.forwardRequest(flow, req, tx, a.plan, ctx);
    });
  }

  /** An allowed request: checks that need no policy, then the forward plan carried out. */
  private forwardRequest(flow: Flow, req: SipMessage, tx: ServerTransaction, plan: ForwardPlan, ctx: InviteContext | undefined): void {
    const reply = (status: number, reason?: string, headers?: [string, string][]) => {
      this.replyIfPending(tx, status, reason ?? '', headers);
    };
    const unsupported = proxyRequireUnsupported(req);
    if (unsupported.length) return reply(420, 'Bad Extension', [['Unsupported', unsupported.join(', ')]]);

    const fwd = req.clone();
    this.opts.topologyHiding?.inboundRequest(fwd);
    this.popOwnRoutes(fwd);
    if (fwd.route.length === 0 && !plan.route && this.isSelfUri(fwd.ruri)) {
      if (req.method === 'OPTIONS') return this.answerOptions(flow, req, tx);
      return reply(404, 'Not Found');
    }
    fwd.set('Max-Forwards', String((req.maxForwards ?? this.maxForwards) - 1));
    if (plan.alertInfo) {
      fwd.remove('Alert-Info');
      for (const v of plan.alertInfo) fwd.append('Alert-Info', v);
    }
    this.forward(flow, req, fwd, plan, tx, ctx);
  }

  /**
   * Sends `fwd` on. The next hop is found synchronously when it needs no DNS lookup and its
   * connection is up (the steady state: no promise, no microtask per message); otherwise after
   * resolving and connecting.
   */
  private forward(inFlow: Flow, req: SipMessage, fwd: SipMessage, plan: ForwardPlan, tx: ServerTransaction, ctx?: InviteContext): void {
    const failed = (e: unknown) => {
      this.log.error({ err: e }, 'proxy: forwarding failed');
      this.replyIfPending(tx, 500, 'Server Internal Error');
    };
    let now: Outbound | undefined;
    try {
      now = this.outboundNow(fwd, plan);
    } catch (e) {
      return this.nextHopFailed(req, fwd, plan, tx, e);
    }
    if (now) {
      try {
        this.sendForward(inFlow, req, fwd, tx, ctx, now);
      } catch (e) {
        failed(e);
      }
      return;
    }
    this.outbound(fwd, plan).then(
      (out) => this.sendForward(inFlow, req, fwd, tx, ctx, out),
      (e) => this.nextHopFailed(req, fwd, plan, tx, e),
    ).catch(failed);
  }

  private nextHopFailed(req: SipMessage, fwd: SipMessage, plan: ForwardPlan, tx: ServerTransaction, e: unknown): void {
    const [status, reason] = this.failureStatus(e);
    this.log.warn(
      { err: { message: (e as Error).message, code: (e as { code?: string }).code }, call_id: req.callId, method: req.method, route: fwd.getAll('route')[0], decision_route: plan.route, status },
      'proxy: next hop unreachable',
    );
    this.replyIfPending(tx, status, reason);
  }

  private sendForward(inFlow: Flow, req: SipMessage, fwd: SipMessage, tx: ServerTransaction, ctx: InviteContext | undefined, out: Outbound): void {
    // The client transaction's callbacks reach the request through `tx` only: once the call is
    // Accepted the transactions release their messages, and a closure must not keep them alive.
    const reply = (status: number, reason: string) => this.replyIfPending(tx, status, reason);
    if (ctx?.cancelled) return; // 487 already sent
    const listener = this.opts.egress.listenerFor(out.flow.transport, out.clientDomain);
    const inDialog = req.to.params['tag'] !== undefined;
    const inListener = inFlow.listener ?? this.opts.egress.listenerFor(inFlow.transport, inFlow.local.domain);
    const ownRR = this.recordRoute && !inDialog && DIALOG_CREATING.has(req.method) ? this.addRecordRoute(fwd, inFlow, out.flow, listener) : 0;
    fwd.prepend('Via', this.viaValue(out.flow, listener, generateBranch()));
    const leg = this.opts.topologyHiding?.outboundRequest(fwd, inFlow, out.flow, listener, inListener, ownRR);
    const client = this.layer.sendRequest(fwd, this.handle(out.flow), {
      onResponse: (resp) => this.relayResponse(out.flow, resp, tx, leg, inFlow),
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

  /**
   * Relays a response from the client transaction to the server transaction, after the policy.
   * After a 2xx to an INVITE both transactions are Accepted (RFC 6026): further 2xx go upstream
   * through it, since the UAS retransmits its 2xx until the ACK comes and a 2xx lost upstream
   * (UDP beyond the next hop) is only recovered that way. A retransmission of the 2xx already
   * decided (same To tag) is forwarded as that one was, without the policy; another 2xx (a forked
   * dialog) is decided.
   */
  private relayResponse(from: Flow, resp: SipMessage, tx: ServerTransaction, leg?: Leg, to?: Flow): void {
    if (resp.status === 100) return; // hop by hop; our own 100 went out already
    const accepted = tx.state === 'accepted';
    if (accepted && (resp.status < 200 || resp.status >= 300)) return;
    const forward = () => {
      const out = resp.clone();
      out.shiftValue('Via');
      if (leg && to) this.opts.topologyHiding!.outboundResponse(out, leg, to);
      tx.respond(out);
    };
    if (accepted && this.accepted2xx.get(tx) === (resp.to.params['tag'] ?? '')) return forward();
    this.stats.responses++;
    this.decide(from, resp, (a) => {
      // denied: a final response is replaced by ours, a provisional one dropped
      if (a.type === 'reply') return this.replyIfPending(tx, a.status, a.reason);
      if (a.type !== 'forward') return;
      const is2xx = resp.status >= 200 && resp.status < 300;
      if (!isPending(tx) && !(is2xx && tx.state === 'accepted')) return;
      forward();
      if (is2xx && !this.accepted2xx.has(tx)) this.accepted2xx.set(tx, resp.to.params['tag'] ?? '');
      if (resp.status >= 200) this.invites.delete(tx.key); // final: nothing left to CANCEL
    });
  }

  // (a method of its own: a closure made in onRequest would share its context and keep the
  // request alive as long as the transaction lives)
  private forgetInviteOnEnd(tx: ServerTransaction): void {
    const key = tx.key;
    tx.on({
      onTerminated: (_tx, cause) => {
        // the caller's connection failed (closed, or its peer stopped reading): the transaction
        // told its TU (RFC 3261 §17.2.4), and with no one left to answer the branch is cancelled
        if (cause === 'transport-error') this.cancelBranch(this.invites.get(key));
        this.invites.delete(key);
      },
    });
  }

  /** A final response of our own (reason: '' for the default phrase), while the server transaction still waits for one. */
  private replyIfPending(tx: ServerTransaction, status: number, reason: string, headers?: [string, string][]): void {
    if (!isPending(tx)) return;
    tx.respond(buildResponse(tx.request, status, reason || undefined, { toTag: this.toTag, headers }));
    this.invites.delete(tx.key);
  }

  private onCancel(flow: Flow, cancel: SipMessage, tx: ServerTransaction, invite?: ServerTransaction): void {
    this.decide(flow, cancel, (a) => {
      if (a.type === 'reply') return this.replyIfPending(tx, a.status, a.reason);
      if (a.type === 'forward') this.cancelInvite(cancel, tx, invite);
    });
  }

  /** An allowed CANCEL (hop by hop): answered here, the INVITE cancelled downstream or answered 487. */
  private cancelInvite(cancel: SipMessage, tx: ServerTransaction, invite?: ServerTransaction): void {
    const ctx = invite ? this.invites.get(invite.key) : undefined;
    if (!invite || !ctx) {
      tx.respond(buildResponse(cancel, 481, 'Call/Transaction Does Not Exist', { toTag: this.toTag }));
      return;
    }
    tx.respond(buildResponse(cancel, 200, 'OK', { toTag: this.toTag }));
    if (this.cancelBranch(ctx) === 'not-forwarded' && isPending(invite)) invite.respond(buildResponse(invite.request, 487, 'Request Terminated', { toTag: this.toTag }));
  }

  /** Cancels an INVITE's branch downstream, or (not forwarded yet: deciding, resolving, connecting) makes sure it never is. */
  private cancelBranch(ctx: InviteContext | undefined): 'cancelled' | 'not-forwarded' | 'answered' {
    if (!ctx) return 'answered';
    if (!ctx.client) {
      ctx.cancelled = true;
      return 'not-forwarded';
    }
    if (!ctx.forwarded || !ctx.clientFlow || (ctx.client.state !== 'calling' && ctx.client.state !== 'proceeding')) return 'answered';
    try {
      this.layer.sendRequest(buildCancel(ctx.forwarded), this.handle(ctx.clientFlow), { onResponse: () => {} });
    } catch (e) {
      this.log.warn({ err: e }, 'proxy: cannot send CANCEL downstream');
    }
    return 'cancelled';
  }

  /** ACK for a 2xx (end to end): forwarded without a transaction, by its Route set. */
  private forwardStateless(inFlow: Flow, ack: SipMessage, plan: ForwardPlan): void {
    const fwd = ack.clone();
    this.opts.topologyHiding?.inboundRequest(fwd);
    this.popOwnRoutes(fwd);
    if (fwd.route.length === 0 && !plan.route && this.isSelfUri(fwd.ruri)) return;
    const mf = fwd.maxForwards;
    if (mf === 0) return;
    fwd.set('Max-Forwards', String((mf ?? this.maxForwards) - 1));
    const unreachable = (e: unknown) => this.log.warn({ err: { message: (e as Error).message }, call_id: ack.callId }, 'proxy: ACK next hop unreachable; dropped');
    let now: Outbound | undefined;
    try {
      now = this.outboundNow(fwd, plan);
    } catch (e) {
      return unreachable(e);
    }
    if (now) return this.sendAck(inFlow, ack, fwd, now);
    this.outbound(fwd, plan).then((out) => this.sendAck(inFlow, ack, fwd, out), unreachable);
  }

  private sendAck(inFlow: Flow, ack: SipMessage, fwd: SipMessage, out: Outbound): void {
    const listener = this.opts.egress.listenerFor(out.flow.transport, out.clientDomain);
    // Stateless branch (RFC 3261 §16.11): derived from the incoming one, so retransmissions match.
    const inBranch = ack.topVia?.branch ?? ack.callId;
    const branch = MAGIC_COOKIE + 'S' + hash64(`${inBranch}|${inFlow.id}`);
    fwd.prepend('Via', this.viaValue(out.flow, listener, branch));
    this.opts.topologyHiding?.outboundRequest(fwd, inFlow, out.flow, listener, undefined, 0);
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
  private nextHop(fwd: SipMessage, plan: ForwardPlan): { uri: SipUri; expected?: string } {
    const inDialog = fwd.to.params['tag'] !== undefined;
    const top = fwd.route[0];
    let expected = plan.route?.expectedDomain;
    if (plan.route && !(inDialog && top)) return { uri: routeUri(plan.route.uri), expected };
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
  private outboundNow(fwd: SipMessage, plan: ForwardPlan): Outbound | undefined {
    const { uri, expected } = this.nextHop(fwd, plan);
    const targets = this.opts.resolver.resolveNow?.(uri);
    const t = targets?.[0];
    if (!t) return undefined;
    const target: Target = { ...t, expectedDomain: expected ?? t.expectedDomain };
    const clientDomain = target.transport === 'tls' ? plan.clientDomain : undefined;
    const flow = this.opts.egress.connectedFlow(target, clientDomain);
    if (!flow) return undefined;
    return { flow, target, clientDomain: flow.local.domain ?? clientDomain };
  }

  /** The flow a request leaves on, resolving (RFC 3263) and connecting as needed. */
  private async outbound(fwd: SipMessage, plan: ForwardPlan): Promise<Outbound> {
    const { uri, expected } = this.nextHop(fwd, plan);
    const targets = await this.opts.resolver.resolve(uri);
    let lastErr: unknown;
    for (const t of targets) {
      const target: Target = { ...t, expectedDomain: expected ?? t.expectedDomain };
      const clientDomain = target.transport === 'tls' ? plan.clientDomain : undefined;
      try {
        const flow = await this.opts.egress.connect(target, clientDomain);
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

  /**
   * This gateway's Record-Route entry for one leg. A SIPS request (RFC 3261 §16.6 step 4) gets a
   * SIPS URI on its TLS legs (`sips:` means TLS, so no transport parameter); anything else, and a
   * non-TLS leg, a SIP URI naming the transport.
   */
  private rrUri(flow: Flow, listener: ListenerInfo | undefined, sips: boolean): string {
    const hp = listener?.hostport ?? `${flow.local.address}:${flow.local.port}`;
    if (sips && flow.transport === 'tls') return `<sips:${hp};lr>`;
    return `<sip:${hp};transport=${flow.transport};lr>`;
  }

  /** One Record-Route, or two when the legs differ in transport or listener (domain); returns how many. */
  private addRecordRoute(fwd: SipMessage, inFlow: Flow, outFlow: Flow, outListener: ListenerInfo | undefined): number {
    // the request as forwarded: our own Route entries are gone, so the top Route is the next one's
    const top = fwd.route[0];
    const sips = fwd.ruri.scheme === 'sips' || (top !== undefined && top.uri.scheme === 'sips');
    const inbound = this.rrUri(inFlow, inFlow.listener ?? this.opts.egress.listenerFor(inFlow.transport, inFlow.local.domain), sips);
    const outbound = this.rrUri(outFlow, outListener, sips);
    fwd.prepend('Record-Route', inbound);
    if (outbound === inbound) return 1;
    fwd.prepend('Record-Route', outbound);
    return 2;
  }

  private ownHostPort(host: string, port: number | null, transport: string | undefined): boolean {
    const h = host.toLowerCase().replace(/^\[|\]$/g, '');
    const t = transport?.toLowerCase();
    for (const l of this.opts.egress.listeners) {
      const p = port ?? (t === 'tls' ? 5061 : 5060);
      const [ah, ap] = splitHostPort(l.hostport);
      if ((h === l.address || h === ah) && (p === l.port || p === ap)) return true;
      if (this.localNames.has(h) && p === l.port) return true;
    }
    return false;
  }

  /** A Route/Record-Route URI naming this gateway. */
  isOwnRoute(u: SipUri): boolean {
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
      try {
        stampReceived(req, flow.remote.address, flow.remote.port); // a request refused before onRequest
      } catch {
        // an unreadable top Via: echoed as it came
      }
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

function subjectOf(msg: SipMessage): Subject {
  return msg.kind === 'request' ? { kind: 'request', method: msg.method } : { kind: 'response', status: msg.status };
}

/** The server transaction still waits for a final response. */
function isPending(tx: ServerTransaction): boolean {
  return tx.state === 'proceeding' || tx.state === 'trying';
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
