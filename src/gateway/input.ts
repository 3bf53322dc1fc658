// The policy input for one message (schemas/input.schema.json): direction, transport, the
// connection (with its request counts), the identity document of the flow (TLS only) and the
// normalized message.
//
// policyInput() builds it as an object. encodePolicyInput() gives the same document as JSON bytes
// for the engine's fast path: everything but the message and the connection's request counts is
// constant for a flow (the identity alone is ~2/3 of the input), so it is encoded once per flow
// and direction and only the counts (a few dozen bytes) and the message are written per
// evaluation. Both give the same bytes as JSON.stringify(policyInput(...)).
import { policyMessageJson, toPolicyMessage } from '../sip/normalize.js';
import type { SipMessage } from '../sip/message.js';
import { EncodedInput, type DecisionLogPeer } from '../policy/encoded-input.js';
import { requestStats, requestStatsJson } from '../limits/index.js';
import type { Flow } from './flow.js';

type Direction = 'inbound' | 'outbound';

function head(flow: Flow, direction: Direction, stats: unknown): Record<string, unknown> {
  return { direction, transport: flow.transport, connection: { local: { ...flow.local }, remote: { ...flow.remote }, stats } };
}

export function policyInput(flow: Flow, msg: SipMessage, direction: Direction = 'inbound'): Record<string, unknown> {
  const input = head(flow, direction, requestStats(flow));
  input.message = toPolicyMessage(msg);
  if (flow.transport === 'tls' && flow.identity) input.identity = flow.identity;
  return input;
}

/** The constant parts of a flow's input, encoded once. */
interface FlowParts {
  /** `{"direction":…,"transport":…,"connection":{"local":…,"remote":…,"stats":` per direction */
  head: Partial<Record<Direction, Buffer>>;
  /** `,"identity":{…}}` or `}` */
  tail: Buffer;
  peer: DecisionLogPeer;
}

const parts = new WeakMap<Flow, FlowParts>();

function flowParts(flow: Flow): FlowParts {
  let p = parts.get(flow);
  if (p) return p;
  const identity = flow.transport === 'tls' ? flow.identity : undefined;
  // The tail is cut from a real JSON.stringify so that key order and escaping are JSON.stringify's.
  const tail = identity ? JSON.stringify({ message: null, identity }).slice('{"message":null'.length) : '}';
  const name = (n: { string?: string } | undefined) => (typeof n?.string === 'string' ? n.string : undefined);
  p = {
    head: {},
    tail: Buffer.from(tail, 'utf8'),
    peer: {
      peer: {
        subject: name(identity?.subject),
        issuer: name(identity?.issuer),
        verified: identity?.verified === true,
        presented: identity?.presented === true,
        address: flow.remote.address,
      },
      local_domain: flow.local.domain,
    },
  };
  parts.set(flow, p);
  return p;
}

/** Drops a flow's encoded constant parts: its identity document changed (re-verification marked it). */
export function forgetEncodedInput(flow: Flow): void {
  parts.delete(flow);
}

export function encodePolicyInput(flow: Flow, msg: SipMessage, direction: Direction = 'inbound'): EncodedInput {
  const p = flowParts(flow);
  let h = p.head[direction];
  if (!h) {
    const s = JSON.stringify({ ...head(flow, direction, null), message: null });
    h = p.head[direction] = Buffer.from(s.slice(0, s.length - 'null},"message":null}'.length), 'utf8');
  }
  const request = msg.kind === 'request';
  const bytes = splice(h, requestStatsJson(flow), policyMessageJson(msg), p.tail);
  return new EncodedInput(bytes, {
    direction,
    method: request ? msg.method : msg.cseq.method,
    status: request ? undefined : msg.status,
    request_uri: request ? msg.requestUri : undefined,
    call_id: msg.callId,
    from: p.peer,
  });
}

const MESSAGE_KEY = Buffer.from('},"message":');

/** head + stats (ASCII) + `},"message":` + message JSON (UTF-8) + tail, in one exact-size ArrayBuffer. */
function splice(head: Uint8Array, stats: string, message: string, tail: Uint8Array): ArrayBuffer {
  const n = Buffer.byteLength(message, 'utf8');
  const ab = new ArrayBuffer(head.length + stats.length + MESSAGE_KEY.length + n + tail.length);
  const b = Buffer.from(ab);
  b.set(head, 0);
  let at = head.length;
  at += b.write(stats, at, 'latin1');
  b.set(MESSAGE_KEY, at);
  at += MESSAGE_KEY.length;
  b.write(message, at, n, 'utf8');
  b.set(tail, at + n);
  return ab;
}
