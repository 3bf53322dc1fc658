// The worker half of the synchronous HTTP client (sync-http.ts). Builtins called by the SDK must
// return synchronously, so the request runs on a worker thread while the evaluating thread waits
// on a shared Int32Array (Atomics.wait). The worker is plain CommonJS text run with
// `new Worker(source, {eval: true})`: it then works the same under tsx, vitest and the built
// dist/, with no separate file to locate and no TypeScript transform in the way.
//
// Protocol: the main thread posts {id, flag, req} to the worker; the worker performs the request
// (node:http / node:https, so that OPA's TLS options map onto Node's), posts {id, res} or
// {id, err} on the reply port, then sets flag[0] = 1 and notifies. The main thread reads the
// reply with receiveMessageOnPort.
export const HTTP_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const https = require('node:https');
const reply = workerData.port;

function once(req) {
  return new Promise((resolve, reject) => {
    const u = new URL(req.url);
    const isHttps = u.protocol === 'https:';
    const lib = isHttps ? https : http;
    const opts = {
      method: req.method,
      headers: req.headers,
      timeout: req.timeoutMs > 0 ? req.timeoutMs : undefined,
    };
    if (req.socketPath) opts.socketPath = req.socketPath;
    if (isHttps) {
      opts.agent = false;
      if (req.tls.ca) opts.ca = req.tls.ca;
      if (req.tls.cert) opts.cert = req.tls.cert;
      if (req.tls.key) opts.key = req.tls.key;
      if (req.tls.servername) opts.servername = req.tls.servername;
      opts.rejectUnauthorized = !req.tls.insecure;
    }
    let settled = false;
    const done = (f, v) => { if (!settled) { settled = true; clearTimeout(timer); f(v); } };
    const r = lib.request(u, opts, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        size += c.length;
        if (size > req.maxBytes) {
          res.destroy();
          done(reject, { kind: 'internal', message: 'response body exceeds ' + req.maxBytes + ' bytes' });
          return;
        }
        chunks.push(c);
      });
      res.on('error', (e) => done(reject, { kind: 'network', code: e.code, message: e.message }));
      res.on('end', () => {
        const headers = {};
        for (const [k, v] of Object.entries(res.headersDistinct || {})) headers[k] = v;
        done(resolve, {
          status: res.statusCode + ' ' + (res.statusMessage || ''),
          statusCode: res.statusCode,
          headers,
          body: Buffer.concat(chunks).toString('utf8'),
          location: res.headers.location,
        });
      });
    });
    // Overall deadline (Go's http.Client.Timeout covers the whole exchange, body included).
    const timer = req.timeoutMs > 0 ? setTimeout(() => {
      r.destroy();
      done(reject, { kind: 'network', timeout: true, message: 'request timed out' });
    }, req.timeoutMs) : undefined;
    r.on('timeout', () => { r.destroy(); done(reject, { kind: 'network', timeout: true, message: 'request timed out' }); });
    r.on('error', (e) => done(reject, { kind: 'network', code: e.code, address: e.address, port: e.port, syscall: e.syscall, message: e.message }));
    if (req.body !== undefined) r.end(req.body); else r.end();
  });
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

async function perform(req) {
  let cur = req;
  for (let hops = 0; ; hops++) {
    let res;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await once(cur);
        break;
      } catch (e) {
        if (attempt >= cur.retries || e.kind !== 'network') throw e;
        // OPA's util.DefaultBackoff: 100ms doubling, capped, without jitter here.
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 60000)));
      }
    }
    if (!cur.followRedirects || !REDIRECT.has(res.statusCode) || !res.location) return res;
    if (hops >= 10) throw { kind: 'network', message: 'stopped after 10 redirects' };
    const next = new URL(res.location, cur.url).toString();
    if (cur.allowNet && !cur.allowNet.includes(new URL(next).hostname)) {
      throw { kind: 'network', message: 'unallowed host: ' + new URL(next).hostname };
    }
    const keepMethod = res.statusCode === 307 || res.statusCode === 308;
    cur = { ...cur, url: next, method: keepMethod ? cur.method : 'GET', body: keepMethod ? cur.body : undefined };
  }
}

parentPort.on('message', (msg) => {
  perform(msg.req).then(
    (res) => { reply.postMessage({ id: msg.id, res }); },
    (err) => { reply.postMessage({ id: msg.id, err: err && err.kind ? err : { kind: 'internal', message: String(err && err.message || err) } }); },
  ).finally(() => {
    Atomics.store(msg.flag, 0, 1);
    Atomics.notify(msg.flag, 0);
  });
});
`;
