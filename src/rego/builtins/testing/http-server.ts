// Test support: a real HTTP and HTTPS server on 127.0.0.1 (ephemeral ports) running in a worker
// thread. http.send blocks the calling thread while its request is under way, so a server on the
// test's own event loop could never answer.
//
// Routes: /json (application/json, counts hits), /yaml, /text, /echo (request back as JSON),
// /slow (answers after 2 s), /big (1 MiB), /redirect (302 -> /json), /cached (max-age=60),
// /nostore, /hits (hit counts so far), /status/<n>.
import { Worker } from 'node:worker_threads';

const SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const https = require('node:https');
const hits = {};
function handler(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const path = req.url.split('?')[0];
    hits[path] = (hits[path] || 0) + 1;
    const body = Buffer.concat(chunks).toString('utf8');
    const json = (code, v, extra) => { res.writeHead(code, { 'content-type': 'application/json', ...(extra || {}) }); res.end(JSON.stringify(v)); };
    if (path === '/json') return json(200, { hello: 'world', n: hits[path] }, { 'x-multi': ['a', 'b'] });
    if (path === '/yaml') { res.writeHead(200, { 'content-type': 'application/yaml' }); return res.end('a: 1\nb: [x, y]\n'); }
    if (path === '/text') { res.writeHead(200, { 'content-type': 'text/plain' }); return res.end('{"looks": "like json"}'); }
    if (path === '/echo') return json(200, { method: req.method, url: req.url, headers: req.headers, body });
    if (path === '/slow') return setTimeout(() => json(200, { slow: true }), 2000);
    if (path === '/big') { res.writeHead(200, { 'content-type': 'text/plain' }); return res.end('x'.repeat(1024 * 1024)); }
    if (path === '/redirect') { res.writeHead(302, { location: '/json' }); return res.end(); }
    if (path === '/cached') return json(200, { n: hits[path] }, { 'cache-control': 'max-age=60', date: new Date().toUTCString() });
    if (path === '/nostore') return json(200, { n: hits[path] }, { 'cache-control': 'no-store' });
    if (path === '/hits') return json(200, hits);
    const m = /^\/status\/(\d+)$/.exec(path);
    if (m) return json(Number(m[1]), { status: Number(m[1]) });
    json(404, { error: 'not found' });
  });
}
const plain = http.createServer(handler);
const secure = https.createServer({ cert: workerData.cert, key: workerData.key }, handler);
plain.listen(0, '127.0.0.1', () => secure.listen(0, '127.0.0.1', () => {
  parentPort.postMessage({ http: plain.address().port, https: secure.address().port });
}));
parentPort.on('message', (m) => { if (m === 'stop') { plain.close(); secure.close(); plain.closeAllConnections(); secure.closeAllConnections(); process.exit(0); } });
`;

export interface TestServer {
  httpUrl: string;
  httpsUrl: string;
  stop(): Promise<void>;
}

export async function startTestServer(tls: { cert: string; key: string }): Promise<TestServer> {
  const worker = new Worker(SOURCE, { eval: true, workerData: tls });
  worker.unref();
  const ports = await new Promise<{ http: number; https: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    httpUrl: `http://127.0.0.1:${ports.http}`,
    httpsUrl: `https://127.0.0.1:${ports.https}`,
    stop: async () => {
      worker.postMessage('stop');
      await new Promise((r) => worker.once('exit', r));
    },
  };
}
