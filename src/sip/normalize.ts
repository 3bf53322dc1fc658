// The normalized, JSON-ready view of a message that goes into the policy input
// (schemas/sip-message.schema.json). Everything here is derived from a validated SipMessage.
import { LIST_HEADERS } from './header-names.js';
import { splitList, unescapeUri, VIEW_CACHE, type Params, type ViewCache } from './syntax.js';
import { isSipUri, isTelUri, type Uri } from './uri.js';
import type { NameAddr } from './address.js';
import type { Via } from './via.js';
import type { HeaderField, SipMessage } from './message.js';

export interface PolicyUri {
  uri: string;
  scheme: string;
  /** unescaped user part (tel: the number); null when absent */
  user: string | null;
  host: string | null;
  port: number | null;
  params: Record<string, string | null>;
}

export interface PolicyAddress extends PolicyUri {
  display: string | null;
  tag: string | null;
  header_params: Record<string, string | null>;
}

export interface PolicyVia {
  transport: string;
  host: string;
  port: number | null;
  branch: string | null;
  received: string | null;
  rport: string | null;
  params: Record<string, string | null>;
}

export interface PolicyMessage {
  kind: 'request' | 'response';
  method: string;
  status: number | null;
  reason: string | null;
  ruri: PolicyUri | null;
  from: PolicyAddress;
  to: PolicyAddress;
  call_id: string;
  cseq: { seq: number; method: string };
  max_forwards: number | null;
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
    return { uri: u.raw, scheme: u.scheme, user: u.user === null ? null : unescapeUri(u.user), host: u.host, port: u.port, params: plain(u.params) };
  }
  if (isTelUri(u)) return { uri: u.raw, scheme: 'tel', user: u.number, host: null, port: null, params: plain(u.params) };
  return { uri: u.raw, scheme: u.scheme, user: null, host: null, port: null, params: {} };
}

export function policyAddress(a: NameAddr): PolicyAddress {
  const u = policyUri(a.uri);
  return { uri: u.uri, scheme: u.scheme, user: u.user, host: u.host, port: u.port, params: u.params, display: a.display, tag: a.params['tag'] ?? null, header_params: plain(a.params) };
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
  return {
    kind: msg.kind,
    method: msg.kind === 'request' ? msg.method : msg.cseq.method,
    status: msg.kind === 'response' ? msg.status : null,
    reason: msg.kind === 'response' ? msg.reason : null,
    ruri: msg.kind === 'request' ? policyUri(msg.ruri) : null,
    from: policyAddress(msg.from),
    to: policyAddress(msg.to),
    call_id: msg.callId,
    cseq: { ...msg.cseq },
    max_forwards: msg.maxForwards,
    via: msg.via.map((v) => ({ transport: v.transport, host: v.host, port: v.port, branch: v.branch, received: v.received, rport: v.rport, params: plain(v.params) })),
    route: msg.route.map(policyAddress),
    record_route: msg.recordRoute.map(policyAddress),
    contact: contact === '*' ? '*' : contact.map(policyAddress),
    headers,
    body_length: msg.body.length,
  };
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

const viaText = (v: Via): string => JSON.stringify({ transport: v.transport, host: v.host, port: v.port, branch: v.branch, received: v.received, rport: v.rport, params: plain(v.params) });
const viaJson = (v: Via): string => fragment(v, viaText);
// An address is its URI's fields, then its own: the URI's fragment (often cached: peers' URIs
// repeat while tags do not) without its closing brace, then the address's own fields.
const addressOwn = (a: NameAddr) => ({ display: a.display, tag: a.params['tag'] ?? null, header_params: plain(a.params) });
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
    ',"status":' + (request ? 'null' : JSON.stringify(msg.status)) +
    ',"reason":' + (request ? 'null' : JSON.stringify(msg.reason)) +
    ',"ruri":' + (request ? uriJson(msg.ruri) : 'null') +
    ',"from":' + addressJson(msg.from) +
    ',"to":' + addressJson(msg.to) +
    ',"call_id":' + JSON.stringify(msg.callId) +
    ',"cseq":{"seq":' + JSON.stringify(cseq.seq) + ',"method":' + JSON.stringify(cseq.method) + '}' +
    ',"max_forwards":' + (maxForwards === null ? 'null' : JSON.stringify(maxForwards)) +
    ',"via":' + listJson(msg.via, viaJson) +
    ',"route":' + listJson(msg.route, addressJson) +
    ',"record_route":' + listJson(msg.recordRoute, addressJson) +
    ',"contact":' + (contact === '*' ? '"*"' : listJson(contact, addressJson)) +
    ',"headers":' + headersJson(msg) +
    ',"body_length":' + msg.body.length +
    '}'
  );
}
