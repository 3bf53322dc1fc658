// The normalized, JSON-ready view of a message that goes into the policy input
// (schemas/sip-message.schema.json). Everything here is derived from a validated SipMessage.
// An optional value that the message does not carry (a To tag, a port, a Max-Forwards, the
// status of a request) is left out, never null: `not input.message.to.tag` then holds for an
// initial request, as Rego policies expect. `null` appears only as the value of a parameter
// written without a value (`;lr`), and an `rport` without value is "".
import { LIST_HEADERS } from './header-names.js';
import { splitList, unescapeUri, VIEW_CACHE, type Params, type ViewCache } from './syntax.js';
import { isSipUri, isTelUri, type Uri } from './uri.js';
import type { NameAddr } from './address.js';
import type { Via } from './via.js';
import type { HeaderField, SipMessage } from './message.js';

export interface PolicyUri {
  uri: string;
  scheme: string;
  /** unescaped user part (tel: the number); absent when the URI has none */
  user?: string;
  /** absent for tel: and other schemes */
  host?: string;
  port?: number;
  params: Record<string, string | null>;
}

export interface PolicyAddress extends PolicyUri {
  display?: string;
  tag?: string;
  header_params: Record<string, string | null>;
}

export interface PolicyVia {
  transport: string;
  host: string;
  port?: number;
  branch?: string;
  received?: string;
  /** "" when present without value */
  rport?: string;
  params: Record<string, string | null>;
}

export interface PolicyMessage {
  kind: 'request' | 'response';
  method: string;
  /** responses only */
  status?: number;
  reason?: string;
  /** requests only */
  ruri?: PolicyUri;
  from: PolicyAddress;
  to: PolicyAddress;
  call_id: string;
  cseq: { seq: number; method: string };
  max_forwards?: number;
  via: PolicyVia[];
  route: PolicyAddress[];
  record_route: PolicyAddress[];
  /** '*' for "Contact: *" */
  contact: PolicyAddress[] | '*';
  headers: Record<string, string[]>;
  body_length: number;
}

// Parameter objects are shared with the (immutable) parsed views rather than copied: copying
// null-prototype dictionaries dominated the cost of this function.
const plain = (p: Params): Record<string, string | null> => p;

export function policyUri(u: Uri): PolicyUri {
  if (isSipUri(u)) {
    const p: PolicyUri = { uri: u.raw, scheme: u.scheme } as PolicyUri;
    if (u.user !== null) p.user = unescapeUri(u.user);
    p.host = u.host;
    if (u.port !== null) p.port = u.port;
    p.params = plain(u.params);
    return p;
  }
  if (isTelUri(u)) return { uri: u.raw, scheme: 'tel', user: u.number, params: plain(u.params) };
  return { uri: u.raw, scheme: u.scheme, params: {} };
}

/**
 * The address's own fields (after its URI's), absent ones left out. A `;tag` without value is ""
 * (present, as the proxy counts it: the request is in a dialog).
 */
function addressOwn(a: NameAddr): Pick<PolicyAddress, 'display' | 'tag' | 'header_params'> {
  const raw = a.params['tag'];
  const header_params = plain(a.params);
  if (raw === undefined) return a.display === null ? { header_params } : { display: a.display, header_params };
  const tag = raw ?? '';
  return a.display === null ? { tag, header_params } : { display: a.display, tag, header_params };
}

export function policyAddress(a: NameAddr): PolicyAddress {
  // the URI's fields, then the address's own in addressOwn's order (policyMessageJson relies on it)
  const p = policyUri(a.uri) as PolicyAddress;
  if (a.display !== null) p.display = a.display;
  const tag = a.params['tag'];
  if (tag !== undefined) p.tag = tag ?? '';
  p.header_params = plain(a.params);
  return p;
}

export function policyVia(v: Via): PolicyVia {
  const p = { transport: v.transport, host: v.host } as PolicyVia;
  if (v.port !== null) p.port = v.port;
  if (v.branch !== null) p.branch = v.branch;
  if (v.received !== null) p.received = v.received;
  if (v.rport !== null) p.rport = v.rport;
  p.params = plain(v.params);
  return p;
}

/** Builds the policy view. The message must have passed validateMessage (parseMessage does that). */
function policyHeaders(msg: SipMessage): Record<string, string[]> {
  // no prototype: a peer's "Constructor:" or "__proto__:" header is a header like any other
  const headers = Object.create(null) as Record<string, string[]>;
  for (const h of msg.headers) {
    const vals = LIST_HEADERS.has(h.lname) ? splitList(h.value) : [h.value];
    (headers[h.lname] ??= []).push(...vals);
  }
  return headers;
}

export function toPolicyMessage(msg: SipMessage): PolicyMessage {
  const headers = policyHeaders(msg);
  const contact = msg.contact;
  const m = { kind: msg.kind, method: msg.kind === 'request' ? msg.method : msg.cseq.method } as PolicyMessage;
  if (msg.kind === 'response') {
    m.status = msg.status;
    m.reason = msg.reason;
  } else m.ruri = policyUri(msg.ruri);
  m.from = policyAddress(msg.from);
  m.to = policyAddress(msg.to);
  m.call_id = msg.callId;
  m.cseq = { ...msg.cseq };
  if (msg.maxForwards !== null) m.max_forwards = msg.maxForwards;
  m.via = msg.via.map(policyVia);
  m.route = msg.route.map(policyAddress);
  m.record_route = msg.recordRoute.map(policyAddress);
  m.contact = contact === '*' ? '*' : contact.map(policyAddress);
  m.headers = headers;
  m.body_length = msg.body.length;
  return m;
}

// ---- the policy view as JSON text ------------------------------------------------------------
// policyMessageJson(msg) === JSON.stringify(toPolicyMessage(msg)), built from JSON fragments of
// the parsed views. Views are frozen and shared between messages (see ParseMemo), so a repeated
// From/To/Contact/Route/Via is encoded once and its text reused (kept in the view's cache slot).
/** The JSON fragment of a view, cached in its slot when it has one (memoized views do). */
function fragment<T extends object>(view: T, text: (v: T) => string): string {
  const slot = (view as { [VIEW_CACHE]?: ViewCache })[VIEW_CACHE];
  if (slot?.json !== undefined) return slot.json;
  const s = text(view);
  if (slot) slot.json = s;
  return s;
}

const viaText = (v: Via): string => JSON.stringify(policyVia(v));
const viaJson = (v: Via): string => fragment(v, viaText);
// An address is its URI's fields, then its own: the URI's fragment (often cached: peers' URIs
// repeat while tags do not) without its closing brace, then the address's own fields.
const addressText = (a: NameAddr): string => uriJson(a.uri).slice(0, -1) + ',' + JSON.stringify(addressOwn(a)).slice(1);
const addressJson = (a: NameAddr): string => fragment(a, addressText);
const uriText = (u: Uri): string => JSON.stringify(policyUri(u));
const uriJson = (u: Uri): string => fragment(u, uriText);

function listJson<T>(items: readonly T[], one: (x: T) => string): string {
  if (items.length === 0) return '[]';
  let s = '[' + one(items[0]!);
  for (let i = 1; i < items.length; i++) s += ',' + one(items[i]!);
  return s + ']';
}

// `"name":[` per header name, or null for names that JSON.stringify of the headers object would
// order differently (array-index names come first; any name starting with a digit is left to it).
const namePrefixes = new Map<string, string | null>();
function namePrefix(lname: string): string | null {
  let p = namePrefixes.get(lname);
  if (p !== undefined) return p;
  const c = lname.charCodeAt(0);
  p = c >= 0x30 && c <= 0x39 ? null : JSON.stringify(lname) + ':[';
  if (namePrefixes.size >= 2048) namePrefixes.clear();
  namePrefixes.set(lname, p);
  return p;
}

/** JSON.stringify(s), without the call for the usual text that needs no escapes (printable ASCII without '"' and '\\'). */
function strJson(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

function headerValuesJson(h: HeaderField): string {
  if (!LIST_HEADERS.has(h.lname)) return strJson(h.value);
  const vals = splitList(h.value);
  let s = strJson(vals[0]!);
  for (let i = 1; i < vals.length; i++) s += ',' + strJson(vals[i]!);
  return s;
}

/** JSON.stringify(toPolicyMessage(msg).headers) without the intermediate object. */
function headersJson(msg: SipMessage): string {
  const hs = msg.headers;
  // groups in first-appearance order: prefixes[i] `"name":[`, bodies[i] the values so far
  const names: string[] = [];
  const prefixes: string[] = [];
  const bodies: string[] = [];
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i]!;
    const prefix = namePrefix(h.lname);
    if (prefix === null) return JSON.stringify(policyHeaders(msg));
    const vals = headerValuesJson(h);
    const g = names.indexOf(h.lname);
    if (g < 0) {
      names.push(h.lname);
      prefixes.push(prefix);
      bodies.push(vals);
    } else bodies[g] += ',' + vals;
  }
  if (names.length === 0) return '{}';
  let s = '{' + prefixes[0]! + bodies[0]! + ']';
  for (let i = 1; i < names.length; i++) s += ',' + prefixes[i]! + bodies[i]! + ']';
  return s + '}';
}

/** JSON text of toPolicyMessage(msg), byte for byte, with fragments of repeated values reused. */
export function policyMessageJson(msg: SipMessage): string {
  const contact = msg.contact;
  const request = msg.kind === 'request';
  const cseq = msg.cseq;
  const maxForwards = msg.maxForwards;
  return (
    (request ? '{"kind":"request"' : '{"kind":' + JSON.stringify(msg.kind)) +
    ',"method":' + JSON.stringify(request ? msg.method : cseq.method) +
    (request ? ',"ruri":' + uriJson(msg.ruri) : ',"status":' + JSON.stringify(msg.status) + ',"reason":' + JSON.stringify(msg.reason)) +
    ',"from":' + addressJson(msg.from) +
    ',"to":' + addressJson(msg.to) +
    ',"call_id":' + JSON.stringify(msg.callId) +
    ',"cseq":{"seq":' + JSON.stringify(cseq.seq) + ',"method":' + JSON.stringify(cseq.method) + '}' +
    (maxForwards === null ? '' : ',"max_forwards":' + JSON.stringify(maxForwards)) +
    ',"via":' + listJson(msg.via, viaJson) +
    ',"route":' + listJson(msg.route, addressJson) +
    ',"record_route":' + listJson(msg.recordRoute, addressJson) +
    ',"contact":' + (contact === '*' ? '"*"' : listJson(contact, addressJson)) +
    ',"headers":' + headersJson(msg) +
    ',"body_length":' + msg.body.length +
    '}'
  );
}
