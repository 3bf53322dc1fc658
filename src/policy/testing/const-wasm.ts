// A tiny hand-written module that implements the OPA WASM ABI (as @open-policy-agent/opa-wasm
// 1.10 uses it) and answers a fixed result set per entrypoint. It lets the engine's loading,
// swapping, bundle and fail-closed paths be tested through the real SDK before (and
// independently of) the Rego compiler. It is a test fixture, never shipped as a policy.
import binaryen from 'binaryen';

export type ConstAnswer =
  | { resultSet: unknown } // returned as the JSON result set, e.g. [{result: {...}}] or [] (undefined)
  | { abort: string }; // opa_abort(message): the SDK throws

export interface ConstModuleSpec {
  /** Entrypoint name -> answer, in id order. */
  entrypoints: Record<string, ConstAnswer>;
  /** Builtins declared in the `builtins()` export (name -> id); default none. */
  builtins?: Record<string, number>;
}

function watString(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let out = '';
  for (const b of bytes) out += '\\' + b.toString(16).padStart(2, '0');
  return out + '\\00';
}

export function buildConstModule(spec: ConstModuleSpec): Uint8Array {
  const names = Object.keys(spec.entrypoints);
  const epJson = JSON.stringify(Object.fromEntries(names.map((n, i) => [n, i])));
  const biJson = JSON.stringify(spec.builtins ?? {});
  const strings: string[] = [epJson, biJson];
  for (const n of names) {
    const a = spec.entrypoints[n]!;
    strings.push('resultSet' in a ? JSON.stringify(a.resultSet) : a.abort);
  }
  let addr = 16;
  const addrs: number[] = [];
  const data: string[] = [];
  for (const s of strings) {
    addrs.push(addr);
    data.push(`(data (i32.const ${addr}) "${watString(s)}")`);
    addr += new TextEncoder().encode(s).length + 1;
  }
  const heapStart = (addr + 15) & ~15;
  // opa_eval: select the answer by entrypoint id; aborting answers call opa_abort.
  let evalBody = '(unreachable)';
  for (let i = names.length - 1; i >= 0; i--) {
    const a = spec.entrypoints[names[i]!]!;
    const answer = 'resultSet' in a
      ? `(i32.const ${addrs[i + 2]})`
      : `(block (result i32) (call $abort (i32.const ${addrs[i + 2]})) (unreachable))`;
    evalBody = `(if (result i32) (i32.eq (local.get $ep) (i32.const ${i})) (then ${answer}) (else ${evalBody}))`;
  }
  const wat = `(module
  (import "env" "memory" (memory 1))
  (import "env" "opa_abort" (func $abort (param i32)))
  ${data.join('\n  ')}
  (global $heap (mut i32) (i32.const ${heapStart}))
  (global (export "opa_wasm_abi_version") i32 (i32.const 1))
  (global (export "opa_wasm_abi_minor_version") i32 (i32.const 3))
  (func (export "opa_malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "opa_json_parse") (param i32 i32) (result i32) (i32.const 1))
  (func (export "opa_json_dump") (param $v i32) (result i32)
    (if (result i32) (i32.eq (local.get $v) (i32.const 2)) (then (i32.const ${addrs[0]})) (else (i32.const ${addrs[1]}))))
  (func (export "entrypoints") (result i32) (i32.const 2))
  (func (export "builtins") (result i32) (i32.const 3))
  (func (export "opa_heap_ptr_get") (result i32) (global.get $heap))
  (func (export "opa_heap_ptr_set") (param i32) (global.set $heap (local.get 0)))
  (func (export "opa_eval") (param i32) (param $ep i32) (param i32 i32 i32) (param $heapPtr i32) (param i32) (result i32)
    (global.set $heap (local.get $heapPtr))
    ${evalBody})
)`;
  const mod = binaryen.parseText(wat);
  try {
    if (!mod.validate()) throw new Error('const-wasm: invalid module');
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

/** A module answering `decision` for the given entrypoint (default `sip/decision`). */
export function constDecisionModule(decision: unknown, entrypoint = 'sip/decision'): Uint8Array {
  return buildConstModule({ entrypoints: { [entrypoint]: { resultSet: [{ result: decision }] } } });
}
