// The metrics as Prometheus reads them: the per-peer limit hits come from a real PeerLimiter (the
// border's), one series per limit and action, none counted twice; the exposition passes
// `promtool check metrics`.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { GatewayMetrics, type MetricsSources } from './metrics.js';
import { LIMIT_HIT_KINDS, PeerLimiter, Verdict, resolvePeerLimits } from '../limits/index.js';

const promtool = spawnSync('promtool', ['--version']).status === 0;

function sources(limiter: PeerLimiter): MetricsSources {
  return {
    connections: () => [{ transport: 'tls', domain: 'fedA', verified: true }],
    transactions: () => ({ server: 2, client: 1 }),
    refused: () => ({ badInput: 0, methodNotAllowed: 0 }),
    policy: () => ({ revision: 'sha256:0123456789abcdef', source: '/etc/sip-bastion/policy' }),
    ready: () => true,
    limits: () => limiter.hitCounts(),
  };
}

/** `name{labels} value` lines of one metric, as a map from the label text to the value */
function series(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('GatewayMetrics', () => {
  it('per-peer limit hits: one series per limit and action, each hit counted once', async () => {
    let now = 1_000_000;
    const limiter = new PeerLimiter(
      resolvePeerLimits({
        requests_per_ip: { rate: 10, burst: 2 },
        requests_per_identity: { rate: 10, burst: 1 },
        replies_per_ip: { rate: 1, burst: 2 },
        connections_per_ip: { rate: 1, burst: 1, max_open: 10 },
      }),
      { logger: { warn: () => {} }, now: () => now },
    );
    try {
      // UDP from one address: 2 pass, 2 answered 503, then dropped
      const udp = Array.from({ length: 5 }, () => limiter.request('192.0.2.1', 5060, false));
      expect(udp).toEqual([Verdict.Pass, Verdict.Pass, Verdict.Reject, Verdict.Reject, Verdict.Drop]);
      // a stream from the same address while it is blocked: closed
      expect(limiter.request('192.0.2.1', 5061, true)).toBe(Verdict.Drop);
      // a verified identity over its own limit (another address, within its per-address rate)
      now += 1000;
      expect(limiter.identityRequest('CN=edge.example', '192.0.2.7', 5061, true)).toBe(Verdict.Pass);
      expect(limiter.identityRequest('CN=edge.example', '192.0.2.7', 5061, true)).toBe(Verdict.Reject);
      // connections: the second within the rate is refused
      expect(limiter.connection('192.0.2.9', 40000, false)).toBe('ok');
      expect(limiter.connection('192.0.2.9', 40001, false)).toBe('connections_per_ip');
      limiter.slowReaderClosed();
      limiter.queueDropped();

      const m = new GatewayMetrics({ version: '0.0.0-test', processMetrics: false });
      m.attach(sources(limiter));
      const text = await m.text();
      const hits = series(text, 'sip_bastion_limit_hits_total');
      expect(Object.fromEntries(hits)).toEqual({
        'limit="requests_per_ip",action="reply_503"': 2,
        'limit="requests_per_ip",action="drop"': 1,
        'limit="requests_per_ip",action="close"': 1,
        'limit="requests_per_identity",action="reply_503"': 1,
        'limit="requests_per_identity",action="drop"': 0,
        'limit="requests_per_identity",action="close"': 0,
        'limit="connections_per_ip",action="refuse"': 1,
        'limit="open_connections_per_ip",action="refuse"': 0,
        'limit="tls_handshakes_per_ip",action="refuse"': 0,
        'limit="slow_reader",action="close"': 1,
        'limit="datagram_queue",action="drop"': 1,
      });
      expect(hits.size).toBe(LIMIT_HIT_KINDS.length);
      // the series add up to the limiter's own totals: nothing is counted under two limits
      const s = limiter.snapshot();
      const total = [...hits.values()].reduce((a, b) => a + b, 0);
      expect(total).toBe(s.requests_rejected + s.requests_dropped + s.connections_closed + s.connections_refused_rate + s.connections_refused_open + s.handshakes_refused + s.slow_readers_closed + s.datagrams_queue_dropped);
    } finally {
      limiter.close();
    }
  });

  it.skipIf(!promtool)('the exposition passes promtool check metrics, process metrics included', async () => {
    const limiter = new PeerLimiter(resolvePeerLimits({ requests_per_ip: { rate: 1, burst: 1 } }), { logger: { warn: () => {} } });
    try {
      limiter.request('192.0.2.1', 5060, false);
      limiter.request('192.0.2.1', 5060, false);
      const m = new GatewayMetrics({ version: '0.0.0-test' });
      m.attach(sources(limiter));
      m.decision({ direction: 'inbound', kind: 'request', method: 'INVITE' }, { allow: false, status: 403, evalNs: 20_000 });
      m.decision({ direction: 'inbound', kind: 'request', method: 'INVITE' }, { allow: false, status: 500, failure: 'timeout', evalNs: 120e6 });
      m.handshake('inbound', 'fedA', 'CERT_HAS_EXPIRED');
      m.dnsLookup(false);
      m.reload(false);
      m.policyLoad(true);
      const text = await m.text();
      expect(text).toMatch(/^sip_bastion_limit_hits_total\{limit="requests_per_ip",action="reply_503"\} 1$/m);
      expect(text).toMatch(/^sip_bastion_messages_total\{direction="inbound",kind="request",method="INVITE",outcome="fail_closed",status="500",failure="timeout"\} 1$/m);
      expect(text).toMatch(/^sip_bastion_policy_evaluation_errors_total\{kind="timeout"\} 1$/m);
      expect(text).toMatch(/^sip_bastion_reloads_failed_total 1$/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.stdout + check.stderr).toBe('');
      expect(check.status).toBe(0);
    } finally {
      limiter.close();
    }
  });
});
