// Evaluation of one policy input on a module loaded by the official SDK (`loadPolicy`), through
// the module's exported ABI (OPA's documented wasm ABI: opa_heap_ptr_*, opa_malloc,
// opa_json_parse, opa_value_add_path, opa_eval_ctx_*, eval, opa_json_dump) instead of the SDK's
// evaluate(), for two savings the SDK cannot make:
//
// - the input arrives in parts (`head` + message JSON + `tail`, see EncodedInput) and is written
//   straight into the module's memory: no ArrayBuffer per message, no TextEncoder, no JS loop
//   looking for the result's NUL;
// - the tail, constant for a connection and ~2/3 of the input (the identity document), is
//   parsed once and kept resident in the module's heap between evaluations, the way the SDK keeps
//   `data` resident: each evaluation parses only head + message and links the resident value in
//   with opa_value_add_path. The ABI treats input like data during an evaluation (read, never
//   written; a runtime may reorder an object's entries in place, never allocate for it), so a
//   resident part is as safe as data is.
//
// The heap then reads: [static][data (SDK setData)][resident tails][scratch, rewound per
// evaluation]. When the resident area is full it is emptied and tails are parsed again on use.
// The result is the same result set text the SDK's evaluate() would JSON.parse (tests compare
// both on every fixture); modules without these exports are evaluated through the SDK.
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';

interface AbiExports {
  opa_malloc(n: number): number;
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(p: number): void;
  opa_json_parse(p: number, n: number): number;
  opa_json_dump(v: number): number;
  opa_value_add_path(base: number, path: number, v: number): number;
  opa_eval_ctx_new(): number;
  opa_eval_ctx_set_input(ctx: number, v: number): void;
  opa_eval_ctx_set_data(ctx: number, v: number): void;
  opa_eval_ctx_set_entrypoint(ctx: number, e: number): void;
  opa_eval_ctx_get_result(ctx: number): number;
  eval(ctx: number): number;
}

const ABI_NAMES: Array<keyof AbiExports> = [
  'opa_malloc', 'opa_heap_ptr_get', 'opa_heap_ptr_set', 'opa_json_parse', 'opa_json_dump', 'opa_value_add_path',
  'opa_eval_ctx_new', 'opa_eval_ctx_set_input', 'opa_eval_ctx_set_data', 'opa_eval_ctx_set_entrypoint', 'opa_eval_ctx_get_result', 'eval',
];

/** The SDK's LoadedPolicy fields this file relies on (public properties of its class). */
interface SdkPolicy {
  wasmInstance: WebAssembly.Instance;
  mem: WebAssembly.Memory;
  dataAddr: number;
  dataHeapPtr: number;
  entrypoints: Record<string, number>;
}

/** A policy input as parts: `head` + `message` (JSON text) + `tail`, e.g. `,"identity":{…}}`. */
export interface InputParts {
  head: Uint8Array;
  message: string | Uint8Array;
  tail: Uint8Array;
}

export class EvaluationError extends Error {}

interface Resident {
  value: number;
  path: number;
}

/** How much of the heap resident tails may take before the area is emptied (bytes). */
const RESIDENT_LIMIT = 8 << 20;
const TAIL_KEY = /^,"((?:[^"\\]|\\.)*)":/;

export class Evaluator {
  private readonly x: AbiExports | undefined;
  private readonly sdk: SdkPolicy;
  private readonly entrypointId: number;
  /** first byte after data: where the resident area starts */
  private readonly base: number;
  private top: number;
  private readonly resident = new Map<Uint8Array, Resident | null>();
  private readonly paths = new Map<string, number>();

  private readonly residentLimit: number;

  constructor(
    private readonly policy: LoadedPolicy,
    private readonly entrypoint: string,
    /** bytes of heap resident tails may take before the area is emptied (tests make it small) */
    residentLimit = RESIDENT_LIMIT,
  ) {
    this.residentLimit = residentLimit;
    this.sdk = policy as unknown as SdkPolicy;
    const exp = this.sdk.wasmInstance.exports as Record<string, unknown>;
    this.x = ABI_NAMES.every((n) => typeof exp[n] === 'function') ? (exp as unknown as AbiExports) : undefined;
    const id = this.sdk.entrypoints[entrypoint];
    if (id === undefined) throw new EvaluationError(`entrypoint ${entrypoint} is not valid in this instance`);
    this.entrypointId = id;
    this.base = this.top = this.sdk.dataHeapPtr;
  }

  /** Whether inputs go through the module's ABI (else through the SDK's evaluate()). */
  get direct(): boolean {
    return this.x !== undefined;
  }

  /** The result set as JSON text, e.g. `[{"result":{"allow":true}}]`. Throws on evaluation errors. */
  evaluate(input: InputParts): string {
    const x = this.x;
    if (!x) return this.viaSdk(concat(input));
    const tail = input.tail;
    const res = tail.length > 1 ? this.residentTail(x, tail) : null;
    x.opa_heap_ptr_set(this.top);
    const msg = input.message;
    const head = input.head;
    const msgMax = typeof msg === 'string' ? msg.length * 3 : msg.length;
    const max = head.length + msgMax + (res ? 1 : tail.length);
    const addr = x.opa_malloc(max);
    const mem = Buffer.from(this.sdk.mem.buffer);
    mem.set(head, addr);
    let n = head.length;
    if (typeof msg === 'string') n += mem.write(msg, addr + n, msgMax, 'utf8');
    else {
      mem.set(msg, addr + n);
      n += msg.length;
    }
    if (res) mem[addr + n++] = 0x7d; // '}': head + message is an object; the tail's member comes resident
    else {
      mem.set(tail, addr + n);
      n += tail.length;
    }
    const value = x.opa_json_parse(addr, n);
    if (value === 0) throw new EvaluationError('invalid input: not valid JSON');
    if (res && x.opa_value_add_path(value, res.path, res.value) !== 0) throw new EvaluationError('cannot link the resident input part');
    return this.run(x, value);
  }

  /** The result set for a whole input document given as JSON bytes. */
  evaluateBytes(json: Uint8Array): string {
    const x = this.x;
    if (!x) return this.viaSdk(json);
    x.opa_heap_ptr_set(this.top);
    const addr = x.opa_malloc(json.length);
    new Uint8Array(this.sdk.mem.buffer).set(json, addr);
    const value = json.length === 0 ? 0 : x.opa_json_parse(addr, json.length);
    if (json.length > 0 && value === 0) throw new EvaluationError('invalid input: not valid JSON');
    return this.run(x, value);
  }

  private run(x: AbiExports, input: number): string {
    const ctx = x.opa_eval_ctx_new();
    x.opa_eval_ctx_set_input(ctx, input);
    x.opa_eval_ctx_set_data(ctx, this.sdk.dataAddr);
    x.opa_eval_ctx_set_entrypoint(ctx, this.entrypointId);
    x.eval(ctx);
    const out = x.opa_json_dump(x.opa_eval_ctx_get_result(ctx));
    const mem = Buffer.from(this.sdk.mem.buffer);
    const end = mem.indexOf(0, out);
    return mem.toString('utf8', out, end < 0 ? mem.length : end);
  }

  /** The tail's member value, parsed once; null when the tail is not `,"key":value}`. */
  private residentTail(x: AbiExports, tail: Uint8Array): Resident | null {
    const known = this.resident.get(tail);
    if (known !== undefined) return known;
    const m = TAIL_KEY.exec(Buffer.from(tail.buffer, tail.byteOffset, Math.min(tail.length, 256)).toString('latin1'));
    if (!m || tail[tail.length - 1] !== 0x7d) {
      this.resident.set(tail, null);
      return null;
    }
    if (this.top - this.base + tail.length * 4 > this.residentLimit) this.emptyResidents();
    x.opa_heap_ptr_set(this.top);
    let path = this.paths.get(m[1]!);
    if (path === undefined) {
      path = this.parseResident(x, Buffer.from(`[${JSON.stringify(JSON.parse(`"${m[1]}"`))}]`));
      this.paths.set(m[1]!, path);
    }
    const valueJson = tail.subarray(m[0].length, tail.length - 1);
    const value = this.parseResident(x, valueJson);
    this.top = x.opa_heap_ptr_get();
    const r = { value, path };
    this.resident.set(tail, r);
    return r;
  }

  /** Parses JSON into the heap at its current top and keeps it (raw text included) resident. */
  private parseResident(x: AbiExports, json: Uint8Array): number {
    const addr = x.opa_malloc(json.length);
    new Uint8Array(this.sdk.mem.buffer).set(json, addr);
    const v = x.opa_json_parse(addr, json.length);
    if (v === 0) throw new EvaluationError('invalid input: not valid JSON');
    this.top = x.opa_heap_ptr_get();
    return v;
  }

  /** Drops a tail no longer used (its heap space is reclaimed when the resident area is emptied). */
  forget(tail: Uint8Array): void {
    this.resident.delete(tail);
  }

  private emptyResidents(): void {
    this.resident.clear();
    this.paths.clear();
    this.top = this.base;
  }

  /** Resident tails held now (tests). */
  get residentCount(): number {
    let n = 0;
    for (const r of this.resident.values()) if (r) n++;
    return n;
  }

  private viaSdk(json: Uint8Array): string {
    const rs = this.policy.evaluate(json.buffer.slice(json.byteOffset, json.byteOffset + json.length) as ArrayBuffer, this.entrypoint);
    return JSON.stringify(rs);
  }
}

function concat(p: InputParts): Uint8Array {
  const msg = typeof p.message === 'string' ? Buffer.from(p.message, 'utf8') : p.message;
  return Buffer.concat([p.head, msg, p.tail]);
}
