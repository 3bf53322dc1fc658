// Topology hiding per TLS domain (`topology_hiding: true` on a server or client domain): what the
// gateway sends to a peer of that domain carries none of the other side's addresses in Via,
// Record-Route and Contact, and in-dialog requests and responses still route both ways.
//
// Design: stateless, encoded in the URIs the hidden side routes back to us (no dialog state).
//   - Via: a request sent to the hidden side carries only the gateway's Via. The ones it replaced
//     are kept with the client transaction (which the proxy holds anyway) and put back on the
//     responses. An ACK for a 2xx has no response: its Vias are simply replaced.
//   - Record-Route: the hidden side sees one Record-Route, the gateway's listener facing it, with
//     a `bth` parameter: the other side's Record-Route entries (the route on from the gateway,
//     in the order a request from the hidden side needs them), encrypted. When the hidden side
//     sends an in-dialog request, that Route entry comes back to us and is decoded into the
//     Route set towards the other side. Responses from the hidden side get the entries back
//     (from the transaction) before they go to the other side, so its route set is the full one.
//   - Contact: the other side's Contact becomes `sip:<gateway listener>;bth=<its URI, encrypted>`;
//     the hidden side's in-dialog requests carry it as Request-URI, decoded back into the real
//     target. A target refresh (re-INVITE, UPDATE) re-encodes the new Contact.
// The tokens are AES-256-GCM (random 96-bit nonce, 128-bit tag) under a key of the process (or
// from `proxy.topology_hiding_key_file`, so that dialogs outlive a restart and gateways sharing
// the file can route each other's dialogs). A forged or altered token does not decode: the
// request is then routed as if the parameter were not there. Encodings and decodings are cached
// (bounded), since a dialog repeats the same tokens.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { isSipUri, type SipUri } from '../sip/uri.js';
import { parseNameAddr, formatNameAddr } from '../sip/address.js';
import type { SipMessage } from '../sip/message.js';
import type { Flow, ListenerInfo } from './flow.js';

const PARAM = 'bth';

export interface TopologyHidingOptions {
  /** server domains whose (inbound) peers must not see the other side */
  serverDomains: Iterable<string>;
  /** client domains whose (outbound) peers must not see the other side */
  clientDomains: Iterable<string>;
  /** secret the token key is derived from; random (for this process only) when absent */
  secret?: Buffer;
  /** a Record-Route/Route URI naming this gateway */
  isOwn: (u: SipUri) => boolean;
}

/** What a request sent to a hidden side had, for the responses going back. */
export interface HiddenRequest {
  /** the Vias below the gateway's, as they were */
  vias: string[];
  /** the Record-Route entries as they were (the gateway's first, then the other side's) */
  recordRoutes: string[];
}

/** What the proxy knows of a request it forwards, for hiding in both directions. */
export interface Leg {
  /** set when the request was hidden (sent to a hidden side) */
  hidden?: HiddenRequest;
  /** set when the responses go to a hidden side: the listener facing it (for Contact) */
  back?: ListenerInfo;
}

/** Token kinds: a Route list or a Contact URI (so that one is never taken for the other). */
type Kind = 'R' | 'C';

export class TopologyHiding {
  private readonly server: Set<string>;
  private readonly client: Set<string>;
  private readonly key: Buffer;
  private readonly isOwn: (u: SipUri) => boolean;
  private readonly encoded = new BoundedCache<string, string>(10_000);
  private readonly decoded = new BoundedCache<string, string[] | null>(10_000);

  constructor(opts: TopologyHidingOptions) {
    this.server = new Set(opts.serverDomains);
    this.client = new Set(opts.clientDomains);
    this.isOwn = opts.isOwn;
    this.key = opts.secret ? createHash('sha256').update('sip-bastion topology hiding v1\0').update(opts.secret).digest() : randomBytes(32);
  }

  /** A flow whose peer must not see the other side: inbound on a hidden server domain, outbound on a hidden client domain. */
  hides(flow: Flow): boolean {
    const d = flow.local.domain;
    if (d === undefined || flow.transport !== 'tls') return false;
    return flow.listener ? this.server.has(d) : this.client.has(d);
  }

  // ---- requests ----------------------------------------------------------------------------

  /**
   * A request the gateway is about to send on `out` (its Via and Record-Route already added;
   * `ownRecordRoutes` is how many Record-Route entries it added on top; `inListener` is the
   * gateway's listener facing the request's sender). When `out` is hidden: only the gateway's
   * Via, one Record-Route (facing `out`, the other side's entries encoded in it), Contacts
   * encoded. Returns what the responses need, or undefined when they need nothing.
   */
  outboundRequest(fwd: SipMessage, inFlow: Flow, out: Flow, outListener: ListenerInfo | undefined, inListener: ListenerInfo | undefined, ownRecordRoutes: number): Leg | undefined {
    const back = this.hides(inFlow) ? (inListener ?? inFlow.listener) : undefined;
    if (!this.hides(out)) return back ? { back } : undefined;
    const vias = fwd.getAll('via');
    fwd.set('Via', vias[0]!);
    const rr = fwd.getAll('record-route');
    // the request's own entries after the gateway's (an in-dialog request's entries change no
    // route set, RFC 3261 §12.2: dropped)
    if (rr.length > 0) fwd.set('Record-Route', ownRecordRoutes > 0 ? this.withToken(rr[0]!, rr.slice(ownRecordRoutes)) : undefined);
    this.encodeContacts(fwd, out, outListener);
    return { hidden: { vias: vias.slice(1), recordRoutes: rr }, ...(back ? { back } : {}) };
  }

  /**
   * A request from a peer, before the gateway routes it: a Route entry of ours carrying a token
   * becomes the other side's route set, a Request-URI of ours carrying a token the real target.
   * Returns true when something was decoded.
   */
  inboundRequest(fwd: SipMessage): boolean {
    let changed = false;
    const top = fwd.route[0];
    if (top && isSipUri(top.uri)) {
      const token = top.uri.params[PARAM];
      const routes = token ? this.decode(token, 'R') : null;
      if (routes) {
        fwd.shiftValue('Route');
        for (let i = routes.length - 1; i >= 0; i--) fwd.prepend('Route', routes[i]!);
        changed = true;
      }
    }
    const ruri = fwd.ruri;
    if (isSipUri(ruri)) {
      const token = ruri.params[PARAM];
      const target = token ? this.decode(token, 'C') : null;
      if (target) {
        fwd.setRequestUri(target[0]!);
        changed = true;
      }
    }
    return changed;
  }

  // ---- responses ---------------------------------------------------------------------------

  /**
   * A response on its way back (the gateway's Via already removed), to `to`: what the request
   * lost on its way to a hidden side is put back (Vias, Record-Route); when `to` is hidden,
   * the other side's Record-Route entries and Contact are encoded.
   */
  outboundResponse(resp: SipMessage, leg: Leg, to: Flow): void {
    if (leg.hidden) {
      for (let i = leg.hidden.vias.length - 1; i >= 0; i--) resp.prepend('Via', leg.hidden.vias[i]!);
      const rr = resp.getAll('record-route');
      // [hidden side ..., the gateway's entry with its token]: the token's entries back in its place
      const at = rr.findIndex((v) => this.uriOf(v)?.params[PARAM] !== undefined && this.isOwn(this.uriOf(v)!));
      if (at >= 0) this.setRecordRoutes(resp, [...rr.slice(0, at), ...leg.hidden.recordRoutes]);
    }
    if (leg.back) {
      const rr = resp.getAll('record-route');
      // [other side ..., the gateway's entries ..., hidden side ...]: the last of the gateway's faces `to`
      const first = rr.findIndex((v) => this.ownEntry(v));
      let last = first;
      while (last >= 0 && last + 1 < rr.length && this.ownEntry(rr[last + 1]!)) last++;
      if (first >= 0) {
        // a request from `to` (the UAC) needs the other side's entries nearest first: reversed
        this.setRecordRoutes(resp, [this.withToken(rr[last]!, rr.slice(0, first).reverse()), ...rr.slice(last + 1)]);
      } else if (rr.length > 0) {
        // no entry of ours (a response within a dialog): the other side's entries change no route set
        resp.set('Record-Route', undefined);
      }
      this.encodeContacts(resp, to, leg.back);
    }
  }

  // ---- encoding ----------------------------------------------------------------------------

  /** Replaces a list header's values, where its first field was. */
  private setAll(msg: SipMessage, name: string, values: string[]): void {
    msg.set(name, values[0]);
    for (let i = 1; i < values.length; i++) msg.append(name, values[i]!);
  }

  private setRecordRoutes(msg: SipMessage, values: string[]): void {
    this.setAll(msg, 'Record-Route', values);
  }

  /** A Record-Route value of ours with the token of `routes` in its URI. */
  private withToken(value: string, routes: string[]): string {
    const a = parseNameAddr(value, 'Record-Route');
    const uri = `${a.uri.raw};${PARAM}=${this.encode('R', routes)}`;
    return formatNameAddr({ display: a.display, uri, params: a.params });
  }

  private uriOf(value: string): SipUri | undefined {
    try {
      const u = parseNameAddr(value, 'Record-Route').uri;
      return isSipUri(u) ? u : undefined;
    } catch {
      return undefined;
    }
  }

  private ownEntry(value: string): boolean {
    const u = this.uriOf(value);
    return u !== undefined && this.isOwn(u);
  }

  /** Each Contact URI becomes the gateway's listener facing `flow`, with the URI encoded in it. */
  private encodeContacts(msg: SipMessage, flow: Flow, listener: ListenerInfo | undefined): void {
    const contacts = msg.contact;
    if (contacts === '*' || contacts.length === 0) return;
    const hp = listener?.hostport ?? `${flow.local.address}:${flow.local.port}`;
    const values = contacts.map((c) => {
      const secure = isSipUri(c.uri) && c.uri.scheme === 'sips';
      const uri = `${secure ? 'sips' : 'sip'}:${hp}${secure ? '' : `;transport=${flow.transport}`};${PARAM}=${this.encode('C', [c.uri.raw])}`;
      return formatNameAddr({ display: c.display, uri, params: c.params });
    });
    this.setAll(msg, 'Contact', values);
  }

  /** AES-256-GCM of the kind and the values (newline-separated), base64url: nonce ‖ ciphertext ‖ tag. */
  encode(kind: Kind, values: string[]): string {
    const plain = kind + values.join('\n');
    const hit = this.encoded.get(plain);
    if (hit !== undefined) return hit;
    const nonce = nonce96();
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    const token = Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64url');
    this.encoded.set(plain, token);
    return token;
  }

  /** The values of a token of ours of this kind; null when it is not one (forged, altered, other key, other kind). */
  decode(token: string, kind: Kind): string[] | null {
    const hit = this.decoded.get(token);
    if (hit !== undefined) return hit && hit[0] === kind ? hit.slice(1) : null;
    let out: string[] | null = null;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length >= 28 && raw.length <= 4096) {
      try {
        const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
        d.setAuthTag(raw.subarray(raw.length - 16));
        const plain = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
        // cached as [kind, ...values]
        out = [plain.slice(0, 1), ...(plain.length > 1 ? plain.slice(1).split('\n') : [])];
      } catch {
        out = null;
      }
    }
    this.decoded.set(token, out);
    return out && out[0] === kind ? out.slice(1) : null;
  }
}

// Random 96-bit GCM nonces, drawn 4 KB at a time: one CSPRNG call per token cost more than the
// encryption (random nonces stay safe far beyond the tokens a key will ever see: 2^32).
let pool = Buffer.alloc(0);
let poolAt = 0;
function nonce96(): Buffer {
  if (poolAt + 12 > pool.length) {
    pool = randomBytes(4092);
    poolAt = 0;
  }
  const n = pool.subarray(poolAt, poolAt + 12);
  poolAt += 12;
  return n;
}

/** A Map that forgets its oldest half when full. */
class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    return this.map.get(k);
  }
  set(k: K, v: V): void {
    if (this.map.size >= this.max) {
      let n = this.max / 2;
      for (const key of this.map.keys()) {
        this.map.delete(key);
        if (--n <= 0) break;
      }
    }
    this.map.set(k, v);
  }
}
