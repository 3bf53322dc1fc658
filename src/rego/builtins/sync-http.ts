// A blocking HTTP(S) client for host builtins: the SDK calls builtins synchronously, so the
// request is handed to a worker thread (http-worker.ts) and this thread waits on a shared flag.
// One worker serves all requests; it is unref'd, so it never keeps the process alive.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { HTTP_WORKER_SOURCE } from './http-worker.js';

export interface SyncRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Whole-exchange deadline; 0 = none (the caller's wait is still bounded, see waitMs). */
  timeoutMs: number;
  maxBytes: number;
  retries: number;
  followRedirects: boolean;
  /** Hosts redirects may go to (OPA's capabilities allow_net); undefined = any. */
  allowNet?: string[];
  socketPath?: string;
  tls: { ca?: string[]; cert?: string; key?: string; servername?: string; insecure?: boolean };
}

export interface SyncResponse {
  status: string;
  statusCode: number;
  /** Lower-case header name -> values, in arrival order. */
  headers: Record<string, string[]>;
  body: string;
}

/** A failed exchange: `network` for transport failures (Go's *url.Error), `internal` otherwise. */
export class SyncHttpError extends Error {
  constructor(
    readonly kind: 'network' | 'internal',
    message: string,
    readonly timeout = false,
    readonly code?: string,
    readonly address?: string,
    readonly port?: number,
  ) {
    super(message);
  }
}

interface Channel {
  worker: Worker;
  port: MessagePort;
}

let channel: Channel | undefined;
let nextId = 1;

function getChannel(): Channel {
  if (channel) return channel;
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(HTTP_WORKER_SOURCE, { eval: true, workerData: { port: port2 }, transferList: [port2] });
  worker.unref();
  port1.unref();
  worker.on('error', () => {
    // A crashed worker is replaced on the next request.
    if (channel?.worker === worker) channel = undefined;
  });
  worker.on('exit', () => {
    if (channel?.worker === worker) channel = undefined;
  });
  channel = { worker, port: port1 };
  return channel;
}

/**
 * Performs the request and blocks until it completes. `waitMs` bounds the wait even if the worker
 * hangs (default: the request timeout plus retries' backoff plus a margin).
 */
export function requestSync(req: SyncRequest, waitMs?: number): SyncResponse {
  const ch = getChannel();
  const id = nextId++;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  ch.worker.postMessage({ id, flag, req });
  const budget = waitMs ?? (req.timeoutMs > 0 ? (req.timeoutMs + 1000) * (req.retries + 1) + 60_000 * req.retries : 300_000);
  const outcome = Atomics.wait(flag, 0, 0, budget);
  // Drain replies until ours: a reply to an earlier request we gave up on may be queued first.
  for (;;) {
    const got = receiveMessageOnPort(ch.port) as { message: { id: number; res?: SyncResponse; err?: { kind: 'network' | 'internal'; message: string; timeout?: boolean; code?: string; address?: string; port?: number } } } | undefined;
    if (!got) break;
    if (got.message.id !== id) continue;
    if (got.message.err) {
      const e = got.message.err;
      throw new SyncHttpError(e.kind, e.message, !!e.timeout, e.code, e.address, e.port);
    }
    return got.message.res!;
  }
  if (outcome === 'timed-out') throw new SyncHttpError('network', 'request timed out', true);
  throw new SyncHttpError('internal', 'http worker gave no reply');
}
