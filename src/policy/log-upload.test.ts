// Decision-log upload against a real local HTTP server standing in for an OPA log collector: the
// endpoint, headers and body (gzipped JSON arrays of OPA decision events) of OPA's decision_logs
// plugin, bodies within the size limit, retries after a failure, the buffer bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { DecisionUploader } from './log-upload.js';

interface Received {
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
  size: number;
  events: Array<Record<string, unknown>>;
}

let server: Server;
let base = '';
const received: Received[] = [];
let status = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (status === 200) received.push({ url: req.url!, method: req.method!, headers: req.headers, size: body.length, events: JSON.parse(gunzipSync(body).toString('utf8')) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function line(i: number, extra: Record<string, unknown> = {}): string {
  return (
    JSON.stringify({
      level: 30,
      time: 1767225600000 + i,
      peer: { subject: 'CN=sbc.atlanta.example,O=FedA', issuer: 'CN=Federation A Root', verified: true, presented: true, address: '127.0.0.9' },
      local_domain: 'fedA',
      decision_id: `d-${i}`,
      timestamp: new Date(1767225600000 + i).toISOString(),
      path: 'sip/decision',
      revision: 'rev-7',
      decision: { allow: true, alert_info: ['<http://ring.example/trusted.wav>'] },
      eval_ns: 21000 + i,
      direction: 'inbound',
      method: 'INVITE',
      request_uri: 'sip:bob@biloxi.example',
      call_id: `call-${i}`,
      ...extra,
      msg: 'decision',
    }) + '\n'
  );
}

describe('decision log upload (OPA decision_logs format)', () => {
  it('POSTs gzipped JSON arrays of OPA events to url + /logs, with the token', async () => {
    received.length = 0;
    const up = new DecisionUploader({ url: `${base}/`, token: 's3cret', labels: { region: 'eu' }, version: '0.1.0' });
    up.push(line(1));
    up.push(line(2, { decision: { allow: false, reject: { status: 500, reason: 'Policy Error' } }, failure: { kind: 'timeout', message: 'too slow' } }));
    expect(await up.upload()).toBe(true);
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect([r.method, r.url]).toEqual(['POST', '/logs']);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers.authorization).toBe('Bearer s3cret');
    expect(r.events).toHaveLength(2);
    const [a, b] = r.events as Array<Record<string, any>>;
    expect(a).toMatchObject({
      decision_id: 'd-1',
      path: 'sip/decision',
      revision: 'rev-7',
      result: { allow: true, alert_info: ['<http://ring.example/trusted.wav>'] },
      requested_by: '127.0.0.9',
      timestamp: '2026-01-01T00:00:00.001Z',
      metrics: { timer_rego_query_eval_ns: 21001 },
      sip: { method: 'INVITE', call_id: 'call-1', request_uri: 'sip:bob@biloxi.example', peer: { subject: 'CN=sbc.atlanta.example,O=FedA' }, local_domain: 'fedA' },
    });
    expect(a.labels).toMatchObject({ version: '0.1.0', region: 'eu' });
    expect(a.labels.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.error).toBeUndefined();
    expect(b.error).toEqual({ code: 'timeout', message: 'too slow' });
    expect(up.stats).toMatchObject({ uploaded: 2, buffered: 0, failedUploads: 0, dropped: 0 });
  });

  it('splits a backlog into bodies no larger than upload_size_limit_bytes, in order', async () => {
    received.length = 0;
    const up = new DecisionUploader({ url: base, resource: '/logs/partition', uploadSizeLimitBytes: 2048 });
    // random-ish payloads so that gzip cannot squeeze everything into one body
    for (let i = 0; i < 200; i++) up.push(line(i, { input: { noise: Math.random().toString(36).repeat(4) } }));
    expect(await up.upload()).toBe(true);
    expect(received.length).toBeGreaterThan(3);
    for (const r of received) {
      expect(r.url).toBe('/logs/partition');
      expect(r.size).toBeLessThanOrEqual(2048);
    }
    expect(received.flatMap((r) => r.events.map((e) => e.decision_id))).toEqual(Array.from({ length: 200 }, (_, i) => `d-${i}`));
  });

  it('keeps the events of a failed upload and sends them on the next try', async () => {
    received.length = 0;
    const up = new DecisionUploader({ url: base });
    up.push(line(1));
    status = 503;
    expect(await up.upload()).toBe(false);
    expect(up.stats).toMatchObject({ failedUploads: 1, buffered: 1, uploaded: 0 });
    status = 200;
    expect(await up.upload()).toBe(true);
    expect(received.flatMap((r) => r.events.map((e) => e.decision_id))).toEqual(['d-1']);
  });

  it('drops the oldest events beyond buffer_size_limit_bytes, and counts them', () => {
    const up = new DecisionUploader({ url: base, bufferSizeLimitBytes: 4096 });
    for (let i = 0; i < 50; i++) up.push(line(i));
    expect(up.stats.dropped).toBeGreaterThan(0);
    expect(up.stats.bufferedBytes).toBeLessThanOrEqual(4096);
    expect(up.stats.buffered + up.stats.dropped).toBe(50);
  });
});
