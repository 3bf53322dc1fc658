import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { createHostBuiltins, opaRuntimeInfo } from './host.js';
import { makeChain } from './testing/pki.js';
import { startTestServer, type TestServer } from './testing/http-server.js';

let server: TestServer;
let chain: ReturnType<typeof makeChain>;

beforeAll(async () => {
  chain = makeChain('localhost');
  server = await startTestServer({ cert: chain.leafPem + chain.intermediatePem, key: chain.leafKeyPem });
});
afterAll(async () => server?.stop());

const builtins = createHostBuiltins();
const send = (req: Record<string, unknown>) => builtins['http.send'](req) as Record<string, any>;

describe('http.send request validation (OPA messages)', () => {
  it('rejects unknown keys and missing required keys as type errors', () => {
    expect(() => send({ bad_key: 1, method: 'get', url: server.httpUrl })).toThrow('eval_type_error: http.send: operand 1 invalid request parameters(s): {"bad_key"}');
    expect(() => send({ method: 'get' })).toThrow('eval_type_error: http.send: operand 1 missing required request parameters(s): {"url"}');
    expect(() => send({})).toThrow('missing required request parameters(s): {"method", "url"}');
    expect(() => builtins['http.send']('x')).toThrow('eval_type_error: http.send: operand 1 must be object but got string');
  });
  it('bad field values are builtin errors', () => {
    expect(() => send({ method: 1, url: server.httpUrl })).toThrow('eval_builtin_error: http.send: "method" must be a string');
    expect(() => send({ method: 'get', url: server.httpUrl, raise_error: 'no' })).toThrow('invalid value for raise_error field');
    expect(() => send({ method: 'get', url: server.httpUrl, headers: { a: 1 } })).toThrow('invalid type for headers value 1');
    expect(() => send({ method: 'get', url: server.httpUrl, timeout: true })).toThrow("'timeout' must be one of {string, number} but got boolean");
  });
  it('with raise_error false, errors become the response', () => {
    const r = send({ method: 'get', url: server.httpUrl, nope: 1, raise_error: false });
    expect(r.status_code).toBe(0);
    expect(r.error.code).toBe('eval_http_send_internal_error');
    expect(r.error.message).toContain('invalid request parameters(s): {"nope"}');
  });
  it('non-strict builtins make a bad request undefined', () => {
    expect(createHostBuiltins({ strict: false })['http.send']({ method: 'get' })).toBeUndefined();
  });
});

describe('http.send against a local server', () => {
  it('GET decodes JSON and reports OPA\'s response object', () => {
    const r = send({ method: 'get', url: `${server.httpUrl}/json` });
    expect(r.status_code).toBe(200);
    expect(r.status).toBe('200 OK');
    expect(r.body.hello).toBe('world');
    expect(JSON.parse(r.raw_body).hello).toBe('world');
    expect(r.headers['content-type']).toEqual(['application/json']);
    expect(r.headers['x-multi']).toEqual(['a', 'b']); // one entry per header line, as Go's http.Header
  });
  it('YAML bodies decode, other types keep body null unless force_json_decode', () => {
    expect(send({ method: 'get', url: `${server.httpUrl}/yaml` }).body).toEqual({ a: 1, b: ['x', 'y'] });
    expect(send({ method: 'get', url: `${server.httpUrl}/text` }).body).toBeNull();
    expect(send({ method: 'get', url: `${server.httpUrl}/text`, force_json_decode: true }).body).toEqual({ looks: 'like json' });
  });
  it('POST sends a JSON body, canonical headers; raw_body wins', () => {
    const r = send({ method: 'post', url: `${server.httpUrl}/echo?q=1`, body: { a: [1, 2] }, headers: { 'x-custom-thing': 'v' } });
    expect(r.body.method).toBe('POST');
    expect(r.body.url).toBe('/echo?q=1');
    expect(JSON.parse(r.body.body)).toEqual({ a: [1, 2] });
    expect(r.body.headers['x-custom-thing']).toBe('v');
    const raw = send({ method: 'put', url: `${server.httpUrl}/echo`, body: { a: 1 }, raw_body: 'plain text' });
    expect(raw.body.body).toBe('plain text');
  });
  it('non-2xx statuses are responses, not errors', () => {
    const r = send({ method: 'get', url: `${server.httpUrl}/status/503` });
    expect(r.status_code).toBe(503);
    expect(r.body).toEqual({ status: 503 });
  });
  it('redirects are returned unless enable_redirect', () => {
    expect(send({ method: 'get', url: `${server.httpUrl}/redirect` }).status_code).toBe(302);
    expect(send({ method: 'get', url: `${server.httpUrl}/redirect`, enable_redirect: true }).body.hello).toBe('world');
  });
  it('timeouts and refused connections fail like Go (or land in the response with raise_error false)', () => {
    expect(() => send({ method: 'get', url: `${server.httpUrl}/slow`, timeout: '200ms' })).toThrow(`eval_builtin_error: http.send: Get ${server.httpUrl}/slow: request timed out`);
    const r = send({ method: 'get', url: 'http://127.0.0.1:1/', raise_error: false });
    expect(r.error).toEqual({ code: 'eval_http_send_network_error', message: 'Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused' });
    expect(() => send({ method: 'get', url: 'ftp://127.0.0.1/' })).toThrow('unsupported protocol scheme "ftp"');
  });
  it('timeout 0 (none in OPA) is still bounded by the host\'s maxTimeoutMs', () => {
    const b = createHostBuiltins({ http: { maxTimeoutMs: 150 } });
    expect(() => b['http.send']({ method: 'get', url: `${server.httpUrl}/slow`, timeout: 0 })).toThrow('request timed out');
  });
  it('bodies over the size limit fail', () => {
    const small = createHostBuiltins({ http: { maxResponseBytes: 1000 } });
    expect(() => small['http.send']({ method: 'get', url: `${server.httpUrl}/big` })).toThrow('response body exceeds 1000 bytes');
    expect((send({ method: 'get', url: `${server.httpUrl}/big` }).raw_body as string).length).toBe(1024 * 1024);
  });
  it('allow_net restricts the hosts', () => {
    const b = createHostBuiltins({ http: { allowNet: ['example.test'] } });
    expect(() => b['http.send']({ method: 'get', url: `${server.httpUrl}/json` })).toThrow('eval_builtin_error: http.send: unallowed host: 127.0.0.1');
  });
  it('HTTPS verifies against tls_ca_cert, fails without it, and tls_insecure_skip_verify skips', () => {
    const url = `${server.httpsUrl}/json`;
    expect(send({ method: 'get', url, tls_ca_cert: chain.rootPem, tls_server_name: 'localhost' }).body.hello).toBe('world');
    expect(send({ method: 'get', url, tls_ca_cert: chain.rootPem }).status_code).toBe(200); // IP SAN 127.0.0.1
    expect(() => send({ method: 'get', url, tls_ca_cert: chain.rootPem, tls_server_name: 'wrong.example' })).toThrow(/eval_builtin_error: http.send: Get "https:\/\/127\.0\.0\.1:\d+\/json": /);
    expect(() => send({ method: 'get', url })).toThrow(/eval_builtin_error/);
    expect(send({ method: 'get', url, tls_insecure_skip_verify: true }).status_code).toBe(200);
  });
  it('inter-query cache: max-age responses are reused across evaluations, no-store ones are not', async () => {
    const b = createHostBuiltins();
    const get = (path: string) => b['http.send']({ method: 'get', url: `${server.httpUrl}${path}`, cache: true }) as Record<string, any>;
    const first = get('/cached').body.n;
    await Promise.resolve(); // a new evaluation (the per-evaluation memo is dropped in a microtask)
    expect(get('/cached').body.n).toBe(first);
    const n1 = get('/nostore').body.n;
    await Promise.resolve();
    expect(get('/nostore').body.n).toBe(n1 + 1);
    const forced = createHostBuiltins();
    const f = () => (forced['http.send']({ method: 'get', url: `${server.httpUrl}/json`, force_cache: true, force_cache_duration_seconds: 60 }) as Record<string, any>).body.n;
    const a = f();
    await Promise.resolve();
    expect(f()).toBe(a);
    expect(() => forced['http.send']({ method: 'get', url: `${server.httpUrl}/json`, force_cache: true })).toThrow("'force_cache' set but 'force_cache_duration_seconds' parameter is missing");
  });
});

describe('http.send and opa.runtime through compile() and the SDK', () => {
  it('a policy calls http.send synchronously during evaluate()', async () => {
    const source = `package t
allow if {
  resp := http.send({"method": "get", "url": concat("", [input.base, "/json"])})
  resp.status_code == 200
  resp.body.hello == "world"
}
same if http.send({"method": "get", "url": concat("", [input.base, "/json"])}).body.n == http.send({"method": "get", "url": concat("", [input.base, "/json"])}).body.n`;
    const r = await compile({ modules: [{ file: 't.rego', source }], entrypoints: ['t/allow', 't/same'], strictBuiltinErrors: true });
    expect(r.errors).toEqual([]);
    const policy = await loadPolicy(r.wasm!, undefined, createHostBuiltins() as never);
    expect(policy.evaluate({ base: server.httpUrl }, 't/allow')).toEqual([{ result: true }]);
    // intra-query cache: the same request within one evaluation is sent once
    expect(policy.evaluate({ base: server.httpUrl }, 't/same')).toEqual([{ result: true }]);
  });
  it('opa.runtime is {} by default and the host object when configured', async () => {
    const r = await compile({ modules: [{ file: 't.rego', source: 'package t\nrt := opa.runtime()' }], entrypoints: ['t/rt'] });
    expect(r.errors).toEqual([]);
    const plain = await loadPolicy(r.wasm!, undefined, createHostBuiltins() as never);
    expect(plain.evaluate({}, 't/rt')).toEqual([{ result: {} }]);
    const info = opaRuntimeInfo({ labels: { id: 'edge-1' } });
    const configured = await loadPolicy(r.wasm!, undefined, createHostBuiltins({ runtime: info }) as never);
    const got = configured.evaluate({}, 't/rt')[0].result;
    expect(got.config).toEqual({ labels: { id: 'edge-1' } });
    expect(got.env.PATH).toBe(process.env.PATH);
    expect(typeof got.version).toBe('string');
  });
});
