// The policy input for one message (schemas/input.schema.json): direction, transport, the
// connection, the identity document of the flow (TLS only) and the normalized message.
import { toPolicyMessage } from '../sip/normalize.js';
import type { SipMessage } from '../sip/message.js';
import type { Flow } from './flow.js';

export function policyInput(flow: Flow, msg: SipMessage, direction: 'inbound' | 'outbound' = 'inbound'): Record<string, unknown> {
  const input: Record<string, unknown> = {
    direction,
    transport: flow.transport,
    connection: { local: { ...flow.local }, remote: { ...flow.remote } },
    message: toPolicyMessage(msg),
  };
  if (flow.transport === 'tls' && flow.identity) input.identity = flow.identity;
  return input;
}
