// One JSON line per decision (pino), with the fields an operator accounts and audits by:
// who (peer subject/issuer/verified), what (method, Request-URI, Call-ID), which policy
// (path, revision) and the outcome. Input logging is off by default; when on, JSON-pointer
// masks erase sensitive parts the way OPA's decision-log masking does (`erased` lists them).
import { pino, type Logger } from 'pino';
import type { Decision, FailureKind } from './decision.js';
import type { DecisionLogFields } from './encoded-input.js';

export interface DecisionLogOptions {
  logger: Logger;
  /** Include the input document. Default false. */
  input?: boolean;
  /**
   * JSON pointers into the input to erase, e.g. `/identity/chain`, `/message/headers/authorization`.
   * A pointer to (a part of) the source of a summary field erases that field too (SUMMARY_SOURCES).
   */
  mask?: string[];
  /**
   * Fraction (0..1) of allowed decisions written, per method; `*`: other methods (default 1).
   * Rejections and failures are always written. See keepDecision().
   */
  sample?: Record<string, number>;
}

/** The input parts the summary fields of a decision line are taken from. */
export const SUMMARY_SOURCES: ReadonlyArray<[field: SummaryField, pointer: string]> = [
  ['request_uri', '/message/ruri'],
  ['call_id', '/message/call_id'],
  ['peer.subject', '/identity/subject'],
  ['peer.issuer', '/identity/issuer'],
  ['peer.address', '/connection/remote/address'],
];
type SummaryField = 'request_uri' | 'call_id' | 'peer.subject' | 'peer.issuer' | 'peer.address';

interface MaskPlan {
  /** summary fields to leave out */
  fields: Set<SummaryField>;
  /** the mask pointers that erased a summary field, in mask order */
  erased: string[];
}
const plans = new WeakMap<string[], MaskPlan>();
const EMPTY_PLAN: MaskPlan = { fields: new Set(), erased: [] };

/** What a mask list erases from the summary fields (one pointer within the other, either way). */
export function maskPlan(mask: string[] | undefined): MaskPlan {
  if (!mask || mask.length === 0) return EMPTY_PLAN;
  let plan = plans.get(mask);
  if (!plan) {
    plan = { fields: new Set(), erased: [] };
    const within = (a: string, b: string) => a === b || a.startsWith(b + '/');
    for (const ptr of mask) {
      let hit = false;
      for (const [field, src] of SUMMARY_SOURCES) {
        if (within(ptr, src) || within(src, ptr)) {
          plan.fields.add(field);
          hit = true;
        }
      }
      if (hit) plan.erased.push(ptr);
    }
    plans.set(mask, plan);
  }
  return plan;
}

/**
 * Whether a decision is written: always when it denies or failed; an allowed one with the
 * sampling rate of its method. The choice hashes the Call-ID, so a call's messages are kept or
 * dropped together (per method rate); without a Call-ID it is random.
 */
export function keepDecision(opts: Pick<DecisionLogOptions, 'sample'>, method: string | undefined, callId: string | undefined, allowed: boolean): boolean {
  const sample = opts.sample;
  if (!sample || !allowed) return true;
  const rate = (method !== undefined ? sample[method] : undefined) ?? sample['*'] ?? 1;
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return (callId !== undefined ? fnv1a(callId) / 0x1_0000_0000 : Math.random()) < rate;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export interface DecisionLogRecord {
  decision_id: string;
  timestamp: string;
  path: string;
  revision?: string;
  source?: string;
  decision: Decision;
  failure?: { kind: FailureKind; message: string };
  eval_ns: number;
  /** a response decision reused without evaluating (the policy declared it per connection): the decision it repeats */
  reused_from?: string;
  direction?: string;
  method?: string;
  status?: number;
  request_uri?: string;
  call_id?: string;
  peer?: { subject?: string; issuer?: string; verified?: boolean; presented?: boolean; address?: string };
  local_domain?: string;
  input?: unknown;
  erased?: string[];
}

type Json = Record<string, unknown>;
const get = (v: unknown, ...keys: string[]): unknown => {
  let cur = v;
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Json)[k];
  }
  return cur;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function ruriText(ruri: unknown): string | undefined {
  if (typeof ruri === 'string') return ruri;
  const s = str(get(ruri, 'uri')) ?? str(get(ruri, 'raw'));
  if (s) return s;
  const host = str(get(ruri, 'host'));
  if (!host) return undefined;
  const scheme = str(get(ruri, 'scheme')) ?? 'sip';
  const user = str(get(ruri, 'user'));
  const port = get(ruri, 'port');
  return `${scheme}:${user ? user + '@' : ''}${host}${typeof port === 'number' ? ':' + port : ''}`;
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** A deep copy of input with the masked pointers removed; returns the pointers actually erased. */
export function maskInput(input: unknown, pointers: string[]): { input: unknown; erased: string[] } {
  const copy = structuredClone(input);
  const erased: string[] = [];
  for (const ptr of pointers) {
    const segs = ptr.split('/').slice(1).map(unescapePointer);
    if (segs.length === 0) continue;
    let parent: unknown = copy;
    for (const s of segs.slice(0, -1)) parent = get(parent, s);
    const last = segs[segs.length - 1]!;
    if (Array.isArray(parent) && /^\d+$/.test(last) && Number(last) < parent.length) {
      parent.splice(Number(last), 1);
      erased.push(ptr);
    } else if (typeof parent === 'object' && parent !== null && last in (parent as Json)) {
      delete (parent as Json)[last];
      erased.push(ptr);
    }
  }
  return { input: copy, erased };
}

export function buildRecord(
  base: Pick<DecisionLogRecord, 'decision_id' | 'path' | 'revision' | 'source' | 'decision' | 'failure' | 'eval_ns'>,
  input: unknown,
  opts: Pick<DecisionLogOptions, 'input' | 'mask'>,
): DecisionLogRecord & { peer: NonNullable<DecisionLogRecord['peer']> } {
  const rec: DecisionLogRecord & { peer: NonNullable<DecisionLogRecord['peer']> } = { ...base, timestamp: new Date().toISOString(), peer: {} };
  if (base.failure === undefined) delete rec.failure;
  const msg = get(input, 'message');
  rec.direction = str(get(input, 'direction'));
  rec.method = str(get(msg, 'method')) ?? str(get(msg, 'cseq', 'method'));
  const status = get(msg, 'status');
  if (typeof status === 'number') rec.status = status;
  rec.request_uri = ruriText(get(msg, 'ruri')) ?? ruriText(get(msg, 'request_uri'));
  rec.call_id = str(get(msg, 'call_id'));
  const id = get(input, 'identity');
  rec.peer = {
    subject: str(get(id, 'subject', 'string')) ?? str(get(id, 'subject')),
    issuer: str(get(id, 'issuer', 'string')) ?? str(get(id, 'issuer')),
    verified: get(id, 'verified') === true,
    presented: get(id, 'presented') === true,
    address: str(get(input, 'connection', 'remote', 'address')),
  };
  rec.local_domain = str(get(input, 'connection', 'local', 'domain'));
  const plan = maskPlan(opts.mask);
  if (plan.fields.has('request_uri')) delete rec.request_uri;
  if (plan.fields.has('call_id')) delete rec.call_id;
  if (plan.fields.has('peer.subject')) delete rec.peer.subject;
  if (plan.fields.has('peer.issuer')) delete rec.peer.issuer;
  if (plan.fields.has('peer.address')) delete rec.peer.address;
  let erased = plan.erased;
  if (opts.input) {
    const m = maskInput(input, opts.mask ?? []);
    rec.input = m.input;
    erased = (opts.mask ?? []).filter((p) => plan.erased.includes(p) || m.erased.includes(p));
  }
  if (erased.length > 0) rec.erased = erased;
  for (const k of Object.keys(rec) as Array<keyof DecisionLogRecord>) if (rec[k] === undefined) delete rec[k];
  return rec as DecisionLogRecord & { peer: NonNullable<DecisionLogRecord['peer']> };
}

export function writeRecord(opts: DecisionLogOptions, rec: DecisionLogRecord): void {
  opts.logger.info(rec, 'decision');
}

/** The record fields an evaluation gives (the rest come from the message, see DecisionLogFields). */
export type RecordBase = Pick<DecisionLogRecord, 'decision_id' | 'path' | 'revision' | 'source' | 'decision' | 'failure' | 'eval_ns' | 'reused_from'>;

/** The pino child logger of a connection: its constant fields (peer, local_domain) bound once. */
function childFor(opts: DecisionLogOptions, from: DecisionLogFields['from']): Logger {
  const plan = maskPlan(opts.mask);
  let cache = from.cache;
  if (!cache || cache.base !== opts.logger || cache.plan !== plan) {
    cache = from.cache = { base: opts.logger, plan, child: opts.logger.child({ peer: maskedPeer(from.peer, plan), local_domain: from.local_domain }) };
  }
  return cache.child as Logger;
}

/**
 * How decision lines of this connection can be built without pino: the line's fixed start (pino's
 * level prefix) and the connection's pre-serialized fields, and where the line goes. undefined when
 * they cannot (the logger is not plain pino, or input logging is on) or need not (info disabled).
 */
export function lineTarget(opts: DecisionLogOptions, from: DecisionLogFields['from']): { head: string; chindings: string; stream: { write(s: string): unknown }; batch: boolean } | undefined {
  // (sampled decisions, and masks that erase summary fields, go through writeRecordFromFields)
  if (opts.input || opts.sample || maskPlan(opts.mask).fields.size > 0) return undefined;
  const child = childFor(opts, from);
  const line = plainLine(child);
  if (!line || !child.isLevelEnabled('info')) return undefined;
  // (pino writes one line per write(); only a stream that says so is given several at once)
  const batch = (line.stream as { acceptsManyLines?: unknown }).acceptsManyLines === true;
  return { head: line.head, chindings: (child as unknown as Record<symbol, string>)[S.chindingsSym]!, stream: line.stream, batch };
}

/**
 * The fast path for an EncodedInput: the record from the fields the caller gave (no walk over the
 * input), written through a pino child logger that carries the connection's constant fields
 * (peer, local_domain) pre-serialized. Same line content as buildRecord + writeRecord.
 */
export function writeRecordFromFields(opts: DecisionLogOptions, base: RecordBase, f: DecisionLogFields, decisionJson?: string): void {
  const plan = maskPlan(opts.mask);
  const child = childFor(opts, f.from);
  if (plan.fields.size > 0) f = { ...f, request_uri: plan.fields.has('request_uri') ? undefined : f.request_uri, call_id: plan.fields.has('call_id') ? undefined : f.call_id };
  const erased = plan.erased.length > 0 ? plan.erased : undefined;
  const line = plainLine(child);
  if (line) {
    if (child.isLevelEnabled('info')) line.stream.write(decisionLine(line.head, (child as unknown as Record<symbol, string>)[S.chindingsSym]!, base, f, decisionJson, erased));
    return;
  }
  // pino leaves out undefined values
  child.info(
    {
      decision_id: base.decision_id,
      timestamp: new Date().toISOString(),
      path: base.path,
      revision: base.revision,
      source: base.source,
      decision: base.decision,
      failure: base.failure,
      eval_ns: base.eval_ns,
      reused_from: base.reused_from,
      direction: f.direction,
      method: f.method,
      status: f.status,
      request_uri: f.request_uri,
      call_id: f.call_id,
      erased,
    },
    'decision',
  );
}

function maskedPeer(peer: DecisionLogFields['from']['peer'], plan: MaskPlan): DecisionLogFields['from']['peer'] {
  if (plan.fields.size === 0) return peer;
  const p = { ...peer };
  if (plan.fields.has('peer.subject')) delete p.subject;
  if (plan.fields.has('peer.issuer')) delete p.issuer;
  if (plan.fields.has('peer.address')) delete p.address;
  return p;
}

// ---- the decision line written by hand ------------------------------------------------------
// pino's generic serializer (a key walk with per-string escaping) cost as much as building the
// policy input. When the logger is plain pino (its standard time, level and message keys, no
// mixin, formatters, hooks, serializers or redaction for our keys) the line is assembled here
// from the same parts pino uses (its level prefix and the child's pre-serialized bindings) and
// written to its stream; any other logger gets the record through pino itself. Tests compare
// both lines.
const S = pino.symbols;
interface PlainLine {
  /** `{"level":30` */
  head: string;
  stream: { write(s: string): unknown };
}
const plainLines = new WeakMap<object, PlainLine | null>();
const RECORD_KEYS = ['decision_id', 'timestamp', 'path', 'revision', 'source', 'decision', 'failure', 'eval_ns', 'reused_from', 'direction', 'method', 'status', 'request_uri', 'call_id', 'erased', 'msg'];

function plainLine(logger: Logger): PlainLine | undefined {
  let p = plainLines.get(logger);
  if (p === undefined) {
    const l = logger as unknown as Record<symbol, any>;
    const formatters = l[S.formattersSym] ?? {};
    const hooks = l[S.hooksSym] ?? {};
    const serializers = l[S.serializersSym] ?? {};
    const stringifiers = l[S.stringifiersSym] ?? {};
    const head = l[S.lsCacheSym]?.[30];
    const plain =
      head === '{"level":30' &&
      l[S.timeSym] === pino.stdTimeFunctions.epochTime &&
      l[S.messageKeySym] === 'msg' &&
      !l[S.mixinSym] &&
      !l[(S as Record<string, symbol>)['msgPrefixSym']!] &&
      !l[S.nestedKeySym] &&
      !formatters.log &&
      !hooks.logMethod &&
      !hooks.streamWrite &&
      l[S.endSym] === '}\n' &&
      RECORD_KEYS.every((k) => !serializers[k] && !stringifiers[k]) &&
      !stringifiers[S.wildcardFirstSym] &&
      typeof l[S.streamSym]?.write === 'function' &&
      typeof l[S.chindingsSym] === 'string';
    p = plain ? { head, stream: l[S.streamSym] } : null;
    plainLines.set(logger, p);
  }
  return p ?? undefined;
}

/** Whether decision lines for this logger are built by hand (tests, diagnostics). */
export function handBuiltLines(logger: Logger): boolean {
  return plainLine(logger) !== undefined;
}

const json = JSON.stringify;

/**
 * The decision line for a plain pino logger: `head` is pino's level prefix, `chindings` the
 * child logger's bound fields. `decisionJson` may be given when the caller has
 * JSON.stringify(base.decision) at hand. Pure (no pino): evaluation workers build lines with it.
 */
export function decisionLine(head: string, chindings: string, base: RecordBase, f: Omit<DecisionLogFields, 'from'>, decisionJson?: string, erased?: string[]): string {
  const now = Date.now();
  let s = head + ',"time":' + now + chindings + ',"decision_id":' + json(base.decision_id) + ',"timestamp":"' + new Date(now).toISOString() + '","path":' + json(base.path);
  if (base.revision !== undefined) s += ',"revision":' + json(base.revision);
  if (base.source !== undefined) s += ',"source":' + json(base.source);
  s += ',"decision":' + (decisionJson ?? json(base.decision));
  if (base.failure !== undefined) s += ',"failure":' + json(base.failure);
  s += ',"eval_ns":' + (Number.isFinite(base.eval_ns) ? base.eval_ns : 'null');
  if (base.reused_from !== undefined) s += ',"reused_from":' + json(base.reused_from);
  if (f.direction !== undefined) s += ',"direction":' + json(f.direction);
  if (f.method !== undefined) s += ',"method":' + json(f.method);
  if (f.status !== undefined) s += ',"status":' + f.status;
  if (f.request_uri !== undefined) s += ',"request_uri":' + json(f.request_uri);
  if (f.call_id !== undefined) s += ',"call_id":' + json(f.call_id);
  if (erased !== undefined) s += ',"erased":' + json(erased);
  return s + ',"msg":"decision"}\n';
}
