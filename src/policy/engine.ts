// The policy engine: loads a policy (folder of .rego, bundle file, or bundle URL), evaluates one
// decision per message through @open-policy-agent/opa-wasm, and never answers "allow" unless a
// loaded policy said so in a schema-valid decision.
//
// Reload builds a complete new snapshot (module instance + data) off to the side and swaps one
// reference. SDK evaluation is synchronous, so an evaluation that started on the old snapshot
// finishes on it; a snapshot that fails to compile, load or verify is dropped and the last good
// one stays in force.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { Logger } from 'pino';
import { compile, evalErrorText, parseEvalError, printBuiltin, type PrintLocation } from '../rego/index.js';
import { compileIsolated } from './compile-isolated.js';
import { readBundle, type Bundle } from './bundle.js';
import { hostBuiltins } from './builtins.js';
import { checkDecision, failClosedDecision, normalizeDecision, type Decision, type FailClosedOptions, type FailureKind } from './decision.js';
import { buildRecord, keepDecision, writeRecord, writeRecordFromFields, type DecisionLogOptions } from './decision-log.js';
import { EncodedInput, nextDecisionId } from './encoded-input.js';
import { loadPaths, mergeDataFiles } from './loader.js';
import { BundlePoller, type DownloadOptions } from './poller.js';
import type { VerificationConfig } from './bundle-sign.js';
import { decisionChanges } from './decision-diff.js';

export type PolicySource =
  | { type: 'dir'; path: string; /** extra data files merged at the root */ data?: string[] }
  | { type: 'bundle'; path: string }
  | { type: 'url'; url: string; pollIntervalMs?: number; headers?: Record<string, string>; timeoutMs?: number };

export interface PolicyEngineOptions {
  source: PolicySource;
  /** OPA path of the decision, e.g. `sip/decision` (data.sip.decision). */
  entrypoint?: string;
  failClosed?: FailClosedOptions;
  /**
   * Evaluation budget in ms (default 100). A decision whose evaluation took longer is replaced by
   * the fail-closed reject (failure kind 'timeout'). The check is post hoc, see decide().
   */
  evalTimeoutMs?: number;
  decisionLog?: DecisionLogOptions;
  /** Where engine errors (over-budget evaluations) go; default: the decision log's logger. */
  logger?: Logger;
  /** Extra host builtins, on top of the toolchain's. */
  customBuiltins?: Record<string, (...args: unknown[]) => unknown>;
  /**
   * Compile Rego in a worker thread (the gateway sets it): the toolchain's large module-level
   * state then never enters this isolate's heap. Default false (compile in this thread).
   */
  compileInWorker?: boolean;
  /** Called after every load attempt (start, reload, poll). */
  onLoad?: (result: LoadResult) => void;
  /**
   * Bundle signature verification (OPA's verification config). When set, a bundle (file or URL)
   * is activated only if it is signed by one of the keys and no file was changed, added or removed.
   */
  verification?: VerificationConfig;
  /** Credentials and TLS of bundle downloads (URL sources). */
  download?: DownloadOptions;
  /**
   * A candidate policy (folder or bundle file) evaluated beside this one for every decision; its
   * disagreements are logged (`shadow decision differs`), never applied.
   */
  shadow?: { path: string };
  /**
   * Keep print() calls when compiling Rego sources (default false: erased, as OPA does without
   * print enabled). Their output goes to the logger at debug, with the call's `file:row`. A WASM
   * bundle built with print() calls prints the same way.
   */
  print?: boolean;
}

export interface PolicyInfo {
  revision: string;
  source: string;
  entrypoint: string;
  loadedAt: Date;
}

export type LoadResult =
  | { ok: true; changed: boolean; info: PolicyInfo }
  | { ok: false; errors: string[]; /** the policy still in force, if any */ info?: PolicyInfo };

export interface DecisionResult {
  decision_id: string;
  /** Always schema-valid; a denial always carries `reject`. */
  decision: Decision;
  failure?: { kind: FailureKind; message: string };
  revision?: string;
  eval_ns: number;
}

interface Snapshot {
  policy: LoadedPolicy;
  info: PolicyInfo;
  /** digest of what it was built from (sources and data, or bundle bytes) and the entrypoint */
  content: string;
}

/** A policy loaded off to the side by prepare(), put in force by commit(). */
export type PreparedPolicy =
  | { ok: true; source: PolicySource; /** @internal */ snapshot: Snapshot; /** the load already put it in force (a bundle URL poll) */ installed?: LoadResult }
  | { ok: false; errors: string[] };

export class PolicyLoadError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('\n'));
    this.name = 'PolicyLoadError';
  }
}

function digest(parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return 'sha256:' + h.digest('hex').slice(0, 16);
}

function describeSource(s: PolicySource): string {
  return s.type === 'url' ? s.url : s.path;
}

export const DEFAULT_EVAL_TIMEOUT_MS = 100;

export class PolicyEngine {
  readonly entrypoint: string;
  private readonly evalBudgetNs: number;
  private current: Snapshot | undefined;
  private loading: Promise<unknown> = Promise.resolve();
  private poller: BundlePoller | undefined;
  private source: PolicySource;
  /** compiles skipped because the policy had not changed (tests, metrics) */
  unchangedLoads = 0;
  /** The shadow policy's engine (no decision log of its own). */
  readonly shadow: PolicyEngine | undefined;

  constructor(private readonly opts: PolicyEngineOptions) {
    this.entrypoint = (opts.entrypoint ?? 'sip/decision').replace(/^\/+|\/+$/g, '');
    this.evalBudgetNs = (opts.evalTimeoutMs ?? DEFAULT_EVAL_TIMEOUT_MS) * 1e6;
    this.source = opts.source;
    if (opts.shadow) {
      const path = opts.shadow.path;
      this.shadow = new PolicyEngine({
        source: /\.(tar\.gz|tgz)$/.test(path) ? { type: 'bundle', path } : { type: 'dir', path },
        entrypoint: this.entrypoint,
        failClosed: opts.failClosed,
        evalTimeoutMs: opts.evalTimeoutMs,
        customBuiltins: opts.customBuiltins,
        compileInWorker: opts.compileInWorker,
        logger: opts.logger ?? opts.decisionLog?.logger,
        print: opts.print,
      });
    }
  }

  /** Where the policy comes from (changed by commit() of a prepared other source). */
  get policySource(): PolicySource {
    return this.source;
  }

  /** The policy in force, if any. */
  get info(): PolicyInfo | undefined {
    return this.current?.info;
  }

  /** Load the policy (and start polling a bundle URL). Never throws: see the result. */
  async start(): Promise<LoadResult> {
    if (this.shadow) await this.shadow.start().then((r) => this.reportShadow(r));
    if (this.source.type === 'url') {
      this.poller = this.livePoller(this.source);
      const first = await this.poller.poll();
      this.poller.start();
      if (first.kind === 'error') return { ok: false, errors: [first.message], info: this.current?.info };
      return first.kind === 'loaded' ? (first.result as LoadResult) : { ok: false, errors: ['bundle server answered 304 before any bundle'] };
    }
    return this.reload();
  }

  /** Re-read the source now (SIGHUP, admin API). For a URL source this polls once. */
  async reload(): Promise<LoadResult> {
    if (this.shadow) await this.shadow.reload().then((r) => this.reportShadow(r));
    const s = this.source;
    if (s.type === 'url') {
      if (!this.poller) return this.start();
      const r = await this.poller.poll();
      if (r.kind === 'error') return { ok: false, errors: [r.message], info: this.current?.info };
      if (r.kind === 'not_modified') return this.current ? { ok: true, changed: false, info: this.current.info } : { ok: false, errors: ['no bundle yet'] };
      return r.result as LoadResult;
    }
    return this.enqueue(() => this.loadFrom(s));
  }

  /**
   * Loads `source` (default: the current one) into a policy off to the side, without putting it
   * in force: a gateway config reload prepares everything first and commits only when all of it
   * loaded. Content that has not changed reuses the policy in force (nothing is compiled). The
   * current bundle URL is polled, and a new bundle from it goes in force at once, as every poll's.
   */
  async prepare(source: PolicySource = this.source): Promise<PreparedPolicy> {
    if (source.type === 'url') {
      if (this.source.type === 'url' && this.source.url === source.url && this.poller) {
        const r = await this.reload();
        if (!r.ok) return { ok: false, errors: r.errors };
        return { ok: true, source, snapshot: this.current!, installed: r };
      }
      // another bundle server: one download, staged
      let staged: Snapshot | undefined;
      let failed: string[] | undefined;
      const probe = new BundlePoller({
        ...pollerTiming(source, this.opts.download),
        onBundle: async (bytes) => {
          try {
            staged = await this.serialized(() => this.fromBundleBytes(bytes, source.url));
            return { ok: true, changed: true, info: staged.info };
          } catch (e) {
            failed = loadErrors(e);
            return { ok: false, errors: failed };
          }
        },
        onError: () => {},
      });
      const r = await probe.poll();
      if (r.kind === 'error') return { ok: false, errors: [r.message] };
      if (r.kind === 'not_modified' || !staged) return { ok: false, errors: failed ?? [`${source.url}: no bundle`] };
      return { ok: true, source, snapshot: staged };
    }
    try {
      const snapshot = await this.serialized(() => this.loadFrom(source));
      return { ok: true, source, snapshot };
    } catch (e) {
      return { ok: false, errors: loadErrors(e) };
    }
  }

  /** Puts a prepared policy (and its source) in force. */
  commit(p: Extract<PreparedPolicy, { ok: true }>): LoadResult {
    if (p.installed) return p.installed;
    const sameSource = sourceKey(p.source) === sourceKey(this.source);
    if (!sameSource) {
      this.poller?.stop();
      this.poller = undefined;
      this.source = p.source;
      if (p.source.type === 'url') {
        // the new server's poller; its first poll finds the same bundle (not recompiled: same content)
        this.poller = this.livePoller(p.source);
        this.poller.start();
      }
    }
    return this.install(p.snapshot);
  }

  /** Stop polling. Evaluations keep working on the policy in force. */
  close(): void {
    this.poller?.stop();
    this.shadow?.close();
  }

  private reportShadow(r: LoadResult): void {
    const logger = this.opts.logger ?? this.opts.decisionLog?.logger;
    try {
      if (r.ok) logger?.info({ shadow: { source: r.info.source, revision: r.info.revision } }, 'shadow policy loaded');
      else logger?.error({ shadow: { errors: r.errors } }, 'shadow policy failed to load; no shadow decisions');
    } catch {
      // logging must not break loading
    }
  }

  /** Evaluates the shadow policy on the same input and logs a disagreement; never changes `live`. */
  private compareShadow(input: unknown, live: DecisionResult, encoded: EncodedInput | undefined): void {
    const shadow = this.shadow!;
    if (!shadow.info) return;
    const r = shadow.decide(encoded ?? input);
    const changes = decisionChanges(live.decision, r.decision);
    if (changes.length === 0 && (live.failure?.kind ?? null) === (r.failure?.kind ?? null)) return;
    const logger = this.opts.logger ?? this.opts.decisionLog?.logger;
    if (!logger) return;
    const log = this.opts.decisionLog;
    const rec = buildRecord(
      { decision_id: live.decision_id, path: this.entrypoint, revision: live.revision, source: this.current?.info.source, decision: live.decision, failure: live.failure, eval_ns: live.eval_ns },
      encoded ? encoded.toObject() : input,
      { input: log?.input ?? false, mask: log?.mask },
    );
    logger.warn(
      { ...rec, changes, shadow: { revision: r.revision, source: shadow.info.source, decision: r.decision, ...(r.failure ? { failure: r.failure } : {}), eval_ns: r.eval_ns } },
      'shadow decision differs',
    );
  }

  /**
   * Evaluate the decision for one message. Never throws; fails closed. `input` is the input
   * document, or an EncodedInput (its JSON bytes and the decision-log fields: the fast path).
   */
  decide(input: unknown): DecisionResult {
    const snap = this.current; // pinned for this evaluation, whatever a reload does meanwhile
    const decision_id = nextDecisionId();
    const encoded = input instanceof EncodedInput ? input : undefined;
    const started = process.hrtime.bigint();
    let value: unknown;
    let failure: DecisionResult['failure'];
    if (!snap) {
      failure = { kind: 'no_policy', message: 'no policy loaded' };
    } else {
      try {
        const rs = snap.policy.evaluate(encoded ? encoded.bytes : input, snap.info.entrypoint) as unknown;
        if (!Array.isArray(rs) || rs.length === 0) failure = { kind: 'undefined', message: `data.${snap.info.entrypoint.replace(/\//g, '.')} is undefined` };
        else if (rs.length > 1) failure = { kind: 'error', message: 'entrypoint returned more than one result' };
        else value = (rs[0] as { result?: unknown }).result;
      } catch (e) {
        failure = { kind: 'error', message: evalErrorText(parseEvalError(e)) };
      }
      if (!failure) {
        if (value === undefined) failure = { kind: 'undefined', message: 'decision is undefined' };
        else {
          const problem = checkDecision(value);
          if (problem) failure = { kind: 'invalid', message: `decision does not match decision.schema.json: ${problem}` };
        }
      }
    }
    const eval_ns = Number(process.hrtime.bigint() - started);
    // The evaluation budget is enforced after the fact: the SDK evaluates synchronously in this
    // thread, so nothing can interrupt it midway (short of a worker per message). That bounds
    // little in theory and enough in practice: Rego without recursion always terminates, and
    // http.send carries its own timeout. What the check guarantees is that a slow decision (a
    // policy or input far costlier than intended) is never applied, and that it is loud. The
    // time is wall clock: a long GC pause counts too, hence a default (100 ms) far above both.
    if (eval_ns > this.evalBudgetNs && snap && !failure) failure = this.overBudget(decision_id, eval_ns, snap);
    const decision = failure ? failClosedDecision(this.opts.failClosed) : normalizeDecision(value as Decision);
    const result: DecisionResult = { decision_id, decision, eval_ns, revision: snap?.info.revision };
    if (failure) result.failure = failure;
    if (this.shadow) {
      try {
        this.compareShadow(input, result, encoded);
      } catch {
        // the shadow policy must never change or break a live decision
      }
    }
    const log = this.opts.decisionLog;
    if (log && (!log.sample || keepDecision(log, encoded ? encoded.log.method : methodOf(input), encoded ? encoded.log.call_id : callIdOf(input), decision.allow))) {
      try {
        const base = { decision_id, path: this.entrypoint, revision: snap?.info.revision, source: snap?.info.source, decision, failure, eval_ns };
        if (encoded && !log.input) writeRecordFromFields(log, base, encoded.log);
        else writeRecord(log, buildRecord(base, encoded ? encoded.toObject() : input, log));
      } catch {
        // Logging must never change a decision or crash the caller.
      }
    }
    return result;
  }

  private overBudget(decision_id: string, eval_ns: number, snap: Snapshot): NonNullable<DecisionResult['failure']> {
    const took = (eval_ns / 1e6).toFixed(1);
    const budget = this.evalBudgetNs / 1e6;
    const message = `evaluation took ${took} ms, over the ${budget} ms budget`;
    try {
      (this.opts.logger ?? this.opts.decisionLog?.logger)?.error(
        { decision_id, eval_ms: Number(took), budget_ms: budget, revision: snap.info.revision, path: this.entrypoint },
        'policy evaluation over budget; message rejected',
      );
    } catch {
      // logging must never change a decision
    }
    return { kind: 'timeout', message };
  }

  // Loads are serialized: a poll and a manual reload never race to install snapshots.
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.loading.then(fn, fn);
    this.loading = run.catch(() => {});
    return run;
  }

  private enqueue(load: () => Promise<Snapshot>): Promise<LoadResult> {
    return this.serialized(async () => {
      try {
        return this.install(await load());
      } catch (e) {
        const result: LoadResult = { ok: false, errors: loadErrors(e), info: this.current?.info };
        this.report(result);
        return result;
      }
    });
  }

  private install(snap: Snapshot): LoadResult {
    const changed = !this.current || this.current.info.revision !== snap.info.revision || this.current.info.source !== snap.info.source;
    this.current = snap; // the atomic swap
    const result: LoadResult = { ok: true, changed, info: snap.info };
    this.report(result);
    return result;
  }

  private loadFrom(s: Exclude<PolicySource, { type: 'url' }>): Promise<Snapshot> {
    return s.type === 'dir' ? this.fromDir(s.path, s.data ?? []) : this.fromBundleFile(s.path);
  }

  private livePoller(s: Extract<PolicySource, { type: 'url' }>): BundlePoller {
    return new BundlePoller({
      ...pollerTiming(s, this.opts.download),
      onBundle: (bytes) => this.enqueue(() => this.fromBundleBytes(bytes, s.url)),
      onError: (message) => this.report({ ok: false, errors: [message], info: this.current?.info }),
    });
  }

  /** The policy in force when it was built from the same content (nothing to compile or instantiate). */
  private unchanged(content: string, source: string): Snapshot | undefined {
    const cur = this.current;
    if (cur && cur.content === content && cur.info.source === source) {
      this.unchangedLoads++;
      return cur;
    }
    return undefined;
  }

  /** print() output of the policy: the log at debug (OPA's print hook, with the call's location). */
  private printed(msg: string, loc: PrintLocation): void {
    const logger = this.opts.logger ?? this.opts.decisionLog?.logger;
    logger?.debug({ line: `${loc.file || '<query>'}:${loc.row}` }, msg);
  }

  private report(result: LoadResult): void {
    const logger = this.opts.decisionLog?.logger;
    if (logger) {
      if (result.ok) logger.info({ policy: { ...result.info, loadedAt: result.info.loadedAt.toISOString() }, changed: result.changed }, 'policy loaded');
      else logger.error({ errors: result.errors, in_force: result.info?.revision ?? null }, 'policy load failed; last good policy stays in force');
    }
    try {
      this.opts.onLoad?.(result);
    } catch {
      // a faulty callback must not break loading
    }
  }

  private async instantiate(wasm: Uint8Array, data: unknown, source: string, revision: string, content: string): Promise<Snapshot> {
    const builtins = { ...(await hostBuiltins()), ...printBuiltin((msg, loc) => this.printed(msg, loc)), ...(this.opts.customBuiltins ?? {}) };
    let policy: LoadedPolicy;
    try {
      policy = await loadPolicy(wasm, undefined, builtins);
    } catch (e) {
      throw new PolicyLoadError([`${source}: cannot load WASM module: ${errorText(e)}`]);
    }
    const eps = policy.entrypoints as Record<string, number>;
    if (!(this.entrypoint in eps)) {
      throw new PolicyLoadError([`${source}: WASM module has no entrypoint ${this.entrypoint} (has: ${Object.keys(eps).join(', ') || 'none'})`]);
    }
    try {
      policy.setData(data as object);
    } catch (e) {
      throw new PolicyLoadError([`${source}: cannot set data: ${errorText(e)}`]);
    }
    // One throwaway decision before the snapshot goes live: the first one pays one-time costs
    // (compiling the decision schema validator: ~60 ms; V8's lazy WASM compilation) that must not
    // count against the first real message's evaluation budget.
    try {
      checkDecision((policy.evaluate({}, this.entrypoint) as Array<{ result?: unknown }>)[0]?.result ?? { allow: false });
    } catch {
      // its outcome does not matter
    }
    return { policy, content, info: { revision, source, entrypoint: this.entrypoint, loadedAt: new Date() } };
  }

  private async compileModules(modules: Array<{ file: string; source: string }>, source: string): Promise<Uint8Array> {
    if (modules.length === 0) throw new PolicyLoadError([`${source}: no .rego files`]);
    // Strict builtin errors: a builtin failing on bad input makes the decision an error (a reject),
    // never an undefined check that quietly drops out of a deny rule. The CLI compiles the same way.
    const opts = { modules, entrypoints: [this.entrypoint], strictBuiltinErrors: true, print: !!this.opts.print };
    const out = this.opts.compileInWorker ? await compileIsolated(opts, { background: this.current !== undefined }) : await compile(opts);
    if (out.errors.length > 0 || !out.wasm) {
      throw new PolicyLoadError(out.errors.map(formatRegoError));
    }
    return out.wasm;
  }

  private async fromDir(dir: string, extraData: string[]): Promise<Snapshot> {
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new PolicyLoadError([`${dir}: not a directory`]);
    // Signatures belong to bundles: with verification keys set, a folder is never trusted.
    if (this.opts.verification) throw new PolicyLoadError([`${dir}: bundle signature verification is configured, but a folder is not a signed bundle (use policy.bundle or policy.url)`]);
    let loaded;
    try {
      loaded = await loadPaths([dir], 'bundle');
      await mergeDataFiles(loaded, extraData);
    } catch (e) {
      throw new PolicyLoadError([errorText(e)]);
    }
    const sources = digest([...loaded.modules.flatMap((m) => [m.file, m.source]), JSON.stringify(loaded.data)]);
    const content = `${sources}|${loaded.manifest?.revision ?? ''}|${this.entrypoint}`;
    const same = this.unchanged(content, dir);
    if (same) return same;
    const wasm = await this.compileModules(loaded.modules, dir);
    return this.instantiate(wasm, loaded.data, dir, loaded.manifest?.revision || sources, content);
  }

  private async fromBundleFile(path: string): Promise<Snapshot> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new PolicyLoadError([`${path}: ${errorText(e)}`]);
    }
    return this.fromBundleBytes(bytes, path);
  }

  private async fromBundleBytes(bytes: Uint8Array, source: string): Promise<Snapshot> {
    const content = `${digest([bytes])}|${this.entrypoint}`;
    const same = this.unchanged(content, source);
    if (same) return same;
    let bundle: Bundle;
    try {
      bundle = await readBundle(bytes, { verification: this.opts.verification });
    } catch (e) {
      throw new PolicyLoadError([`${source}: ${errorText(e)}`]);
    }
    const revision = bundle.manifest.revision || digest([bytes]);
    const resolvers = bundle.manifest.wasm ?? [];
    // The module that serves our entrypoint; with one module and no resolver list, that one.
    const resolver = resolvers.find((r) => r.entrypoint.replace(/^\/+|\/+$/g, '') === this.entrypoint);
    let wasm: Uint8Array | undefined;
    if (resolver) {
      const path = resolver.module.replace(/^\/+/, '');
      wasm = bundle.wasm.find((w) => w.path === path)?.bytes;
    } else if (bundle.wasm.length === 1 && resolvers.length === 0) {
      wasm = bundle.wasm[0]!.bytes;
    } else if (bundle.wasm.length > 0) {
      throw new PolicyLoadError([`${source}: no wasm module for entrypoint ${this.entrypoint} in .manifest`]);
    }
    // A bundle of Rego sources only (`opa build` without -t wasm) is compiled here.
    wasm ??= await this.compileModules(bundle.modules.map((m) => ({ file: m.path, source: m.source })), source);
    return this.instantiate(wasm, bundle.data, source, revision, content);
  }
}

function methodOf(input: unknown): string | undefined {
  const m = (input as { message?: { method?: unknown; cseq?: { method?: unknown } } } | null)?.message;
  const v = m?.method ?? m?.cseq?.method;
  return typeof v === 'string' ? v : undefined;
}

function callIdOf(input: unknown): string | undefined {
  const v = (input as { message?: { call_id?: unknown } } | null)?.message?.call_id;
  return typeof v === 'string' ? v : undefined;
}

function pollerTiming(s: Extract<PolicySource, { type: 'url' }>, download: DownloadOptions | undefined) {
  return { url: s.url, headers: s.headers, download, intervalMs: s.pollIntervalMs ?? 60_000, timeoutMs: s.timeoutMs ?? 10_000 };
}

/** Identifies a source (two configs naming the same policy the same way give the same key). */
function sourceKey(s: PolicySource): string {
  return JSON.stringify(s.type === 'url' ? [s.type, s.url, s.pollIntervalMs ?? null, s.headers ?? null] : s.type === 'dir' ? [s.type, s.path, s.data ?? []] : [s.type, s.path]);
}

function loadErrors(e: unknown): string[] {
  return e instanceof PolicyLoadError ? e.errors : [errorText(e)];
}

export function formatRegoError(e: { code: string; message: string; location?: { file: string; row: number; col: number } }): string {
  return e.location ? `${e.location.file}:${e.location.row}:${e.location.col}: ${e.code}: ${e.message}` : `${e.code}: ${e.message}`;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (typeof e === 'object' && e !== null && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

export { describeSource };
