// Policy inputs built from the example policies' fixtures (policies/fixtures): every identity ×
// message, as input documents and as the gateway's EncodedInput parts (one InputScope per
// identity, as the gateway has one per connection). Test-only code.
import { readFileSync } from 'node:fs';
import { EncodedInput, type InputScope } from '../encoded-input.js';

const fixture = (f: string) => JSON.parse(readFileSync(new URL(`../../../policies/fixtures/${f}`, import.meta.url), 'utf8'));
export const identities = fixture('identities.json').identities as Record<string, Record<string, unknown>>;
export const messages = fixture('messages.json').messages as Record<string, Record<string, unknown>>;

export interface ExampleInput {
  name: string;
  doc: Record<string, unknown>;
  encoded: () => EncodedInput;
}

const scopes = new Map<string, InputScope>();

/** The scope of an identity's connection (its tail encoded once, as input.ts does). */
export function scopeOf(identity: string): InputScope {
  let s = scopes.get(identity);
  if (!s) {
    const id = identities[identity]!;
    const tail = Buffer.from(JSON.stringify({ message: null, identity: id }).slice('{"message":null'.length));
    s = { tail, peer: { peer: { subject: (id.subject as { string?: string })?.string, verified: id.verified === true, presented: id.presented === true, address: '127.0.0.1' }, local_domain: 'default' } };
    scopes.set(identity, s);
  }
  return s;
}

export function exampleInput(identity: string, message: string, direction: 'inbound' | 'outbound' = 'inbound', callId?: string): ExampleInput {
  const msg = callId ? { ...messages[message]!, call_id: callId } : messages[message]!;
  const head = { direction, transport: 'tls', connection: { local: { address: '127.0.0.1', port: 5061, domain: 'default' }, remote: { address: '127.0.0.1', port: 40000 } } };
  const doc = { ...head, message: msg, identity: identities[identity]! };
  const h = JSON.stringify({ ...head, message: null });
  const headBytes = Buffer.from(h.slice(0, h.length - 'null}'.length));
  const isResponse = msg.kind === 'response';
  return {
    name: `${identity} ${message} ${direction}`,
    doc,
    encoded: () => {
      const scope = scopeOf(identity);
      return EncodedInput.parts(headBytes, () => JSON.stringify(msg), scope, {
        direction,
        method: isResponse ? (msg.cseq as { method: string }).method : (msg.method as string),
        status: isResponse ? (msg.status as number) : undefined,
        request_uri: isResponse ? undefined : ((msg.ruri as { uri?: string })?.uri ?? undefined),
        call_id: msg.call_id as string,
        from: scope.peer,
      });
    },
  };
}

/** Every identity × message, inbound. */
export function allExampleInputs(): ExampleInput[] {
  return Object.keys(identities).flatMap((i) => Object.keys(messages).map((m) => exampleInput(i, m)));
}
