// A gateway for tests about one config knob: a UDP listener, a one-file policy written by the
// test, the config's other keys as given (read through parseConfig, so from YAML as operators
// write it), every log line captured, and a UDP user agent to talk to it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { TempDir } from '../../tls/testkit.js';
import { Gateway } from '../gateway.js';
import { parseConfig, type GatewayConfig } from '../config.js';
import { UdpPeer } from './peer.js';

export interface UdpGateway {
  gw: Gateway;
  ua: UdpPeer;
  logLines: Record<string, unknown>[];
  /** the decision-log lines of one call */
  decisionsFor(callId: string): Record<string, unknown>[];
  /** an out-of-dialog request from `ua` to sip:bob@biloxi.test */
  request(method: string, callId: string): string;
  /** sends it to the gateway's UDP listener */
  send(text: string): void;
  stop(): Promise<void>;
}

export async function startUdpGateway(policy: string, config: Partial<GatewayConfig> = {}): Promise<UdpGateway> {
  const dir = new TempDir();
  const policyDir = join(dir.path, 'policy');
  mkdirSync(policyDir);
  writeFileSync(join(policyDir, 'decision.rego'), policy);
  const yaml = YAML.stringify({
    listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }],
    log: { level: 'info', decisions: true },
    ...config,
    policy: { path: policyDir, ...config.policy },
  });
  const logLines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(JSON.parse(s)) });
  const gw = await Gateway.start(parseConfig(yaml, 'test.yaml', dir.path), { logger });
  const ua = new UdpPeer();
  await ua.bind();
  return {
    gw,
    ua,
    logLines,
    decisionsFor: (callId) => logLines.filter((l) => l.msg === 'decision' && l.call_id === callId),
    request: (method, callId) =>
      [
        `${method} sip:bob@biloxi.test SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bK-${callId}`,
        'Max-Forwards: 70',
        'From: <sip:alice@atlanta.test>;tag=a1',
        'To: <sip:bob@biloxi.test>',
        `Call-ID: ${callId}`,
        `CSeq: 1 ${method}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    send: (text) => ua.send(text, gw.listener('udp').port),
    stop: async () => {
      ua.close();
      await gw.stop();
      dir.remove();
    },
  };
}

/** The same gateway with a second UDP peer, the far end its policy routes to (`policy(uas.port)`). */
export async function startUdpGatewayWithUas(policy: (uasPort: number) => string, config: Partial<GatewayConfig> = {}): Promise<UdpGateway & { uas: UdpPeer }> {
  const uas = new UdpPeer();
  await uas.bind();
  try {
    const t = await startUdpGateway(policy(uas.port), config);
    return {
      ...t,
      uas,
      stop: async () => {
        uas.close();
        await t.stop();
      },
    };
  } catch (e) {
    uas.close();
    throw e;
  }
}
