// The proxy's view of the network: where the gateway listens (for Via, Record-Route and its own
// addresses) and how a next hop is reached. Transports implements it; the proxy knows nothing
// else of sockets, and the transports reach the proxy only as a FlowHandler (flow.ts).
import type { Flow, ListenerInfo, Transport } from './flow.js';
import type { Target } from './nexthop.js';

export interface Egress {
  readonly listeners: readonly ListenerInfo[];
  /** The listener to advertise on a leg (same transport; TLS: the server domain named like the client domain). */
  listenerFor(transport: Transport, clientDomain?: string): ListenerInfo | undefined;
  /** An established pooled flow to `target`, without waiting; undefined → connect(). */
  connectedFlow(target: Target, clientDomain?: string): Flow | undefined;
  /** A flow to `target`, connecting (TLS: presenting `clientDomain`'s certificate) as needed. */
  connect(target: Target, clientDomain?: string): Promise<Flow>;
}
