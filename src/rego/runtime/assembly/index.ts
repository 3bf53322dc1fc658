// Entry of the AssemblyScript runtime. Exports:
//  - OPA's WASM ABI (what @open-policy-agent/opa-wasm and other hosts call);
//  - `__rt_*` services for the generated policy code: the back end (src/rego/wasm) finds
//    them by export name, calls them, and strips these exports when linking;
//  - `__rt_b_<name>` builtins (dots in OPA's name become `__`): a builtin with such an
//    export is called directly, any other goes to the host via opa_builtinN.
// Policy hooks are imported from the reserved module "policy" (see eval.ts).
import { malloc, heapGet, heapSet } from "./alloc";
import { jsonParse, jsonDump, valueDump } from "./json";
import { ctxNew, evalCtx, builtinsValue, entrypointsValue, fastEval, memoInit, memoPush, memoPop, memoGet, memoSet } from "./eval";
import {
  makeNull, makeBool, makeInt, makeNumRef, makeString, makeArray, arrAppend, makeObject, makeSet, makeOrderedSet, kindOf, strLen, strPtr,
} from "./value";
import { collInsert, setAdd, shallowCopy } from "./collection";
import { valueCompare, valueEqual } from "./compare";
import { valueGet, valueLength, iterPrepare, iterKey, iterValue, valueMerge, numberSetInt, addPath, removePath } from "./ops";
import { errBegin, errStr, errAbort, errByte, errBytes, errInt, builtinErrorDefer, builtinErrorReset, builtinErrorRaisePending, builtinErrorUncaught } from "./abort";
import { hostCall0, hostCall1, hostCall2, hostCall3, hostCall4 } from "./hostcall";

// ---------------------------------------------------------------- ABI

export const opa_wasm_abi_version: i32 = 1;
export const opa_wasm_abi_minor_version: i32 = 2;

export function opa_malloc(n: usize): usize { return malloc(n); }
export function opa_free(p: usize): void {}
export function opa_heap_ptr_get(): usize { return heapGet(); }
export function opa_heap_ptr_set(p: usize): void { heapSet(p); }
export function opa_json_parse(p: usize, n: usize): usize { return jsonParse(p, n); }
export function opa_value_parse(p: usize, n: usize): usize { return jsonParse(p, n); }
export function opa_json_dump(v: usize): usize { return jsonDump(v); }
export function opa_value_dump(v: usize): usize { return valueDump(v); }
export function opa_value_add_path(data: usize, path: usize, v: usize): i32 { return addPath(data, path, v); }
export function opa_value_remove_path(data: usize, path: usize): i32 { return removePath(data, path); }

export function opa_eval_ctx_new(): usize { return ctxNew(); }
export function opa_eval_ctx_set_input(ctx: usize, v: usize): void { store<i32>(ctx, <i32>v); }
export function opa_eval_ctx_set_data(ctx: usize, v: usize): void { store<i32>(ctx, <i32>v, 4); }
export function opa_eval_ctx_set_entrypoint(ctx: usize, e: i32): void { store<i32>(ctx, e, 12); }
export function opa_eval_ctx_get_result(ctx: usize): usize { return <usize>load<i32>(ctx, 8); }
export { evalCtx as eval };
export function builtins(): usize { return builtinsValue(); }
export function entrypoints(): usize { return entrypointsValue(); }

export function opa_eval(reserved: usize, entrypoint: i32, data: usize, input: usize, inputLen: usize, heapPtr: usize, format: i32): usize {
  return fastEval(entrypoint, data, input, inputLen, heapPtr, format);
}

// ---------------------------------------------------------------- services

export function __rt_null(): usize { return makeNull(); }
export function __rt_boolean(b: i32): usize { return makeBool(b != 0); }
export function __rt_number_int(x: i64): usize { return makeInt(x); }
export function __rt_number_ref(p: usize, n: usize): usize { return makeNumRef(p, n); }
export function __rt_number_set_int(v: usize, x: i64): void { numberSetInt(v, x); }
export function __rt_string(p: usize, n: usize): usize { return makeString(p, n); }
export function __rt_array_with_cap(cap: i32): usize { return makeArray(cap); }
export function __rt_array_append(a: usize, v: usize): void { arrAppend(a, v); }
export function __rt_object(): usize { return makeObject(); }
export function __rt_object_insert(o: usize, k: usize, v: usize): void { collInsert(o, k, v); }
export function __rt_set(): usize { return makeSet(); }
export function __rt_result_set(): usize { return makeOrderedSet(); }
export function __rt_set_add(s: usize, v: usize): void { setAdd(s, v); }
export function __rt_value_get(v: usize, k: usize): usize { return valueGet(v, k); }
export function __rt_value_compare(a: usize, b: usize): i32 { return valueCompare(a, b); }
export function __rt_value_equal(a: usize, b: usize): i32 { return valueEqual(a, b) ? 1 : 0; }
export function __rt_value_type(v: usize): i32 { return v == 0 ? 0 : kindOf(v); }
export function __rt_value_length(v: usize): i32 { return valueLength(v); }
export function __rt_value_merge(a: usize, b: usize): usize { return valueMerge(a, b); }
export function __rt_value_shallow_copy(v: usize): usize { return shallowCopy(v); }
export function __rt_iter_prepare(v: usize): i32 { return iterPrepare(v); }
export function __rt_iter_key(v: usize, i: i32): usize { return iterKey(v, i); }
export function __rt_iter_value(v: usize, i: i32): usize { return iterValue(v, i); }
export function __rt_memo_init(n: i32): void { memoInit(n); }
export function __rt_memo_push(): void { memoPush(); }
export function __rt_memo_pop(): void { memoPop(); }
export function __rt_memo_get(i: i32): usize { return memoGet(i); }
export function __rt_memo_set(i: i32, v: usize): void { memoSet(i, v); }
export function __rt_host_call0(id: i32): usize { return hostCall0(id); }
export function __rt_host_call1(id: i32, a: usize): usize { return hostCall1(id, a); }
export function __rt_host_call2(id: i32, a: usize, b: usize): usize { return hostCall2(id, a, b); }
export function __rt_host_call3(id: i32, a: usize, b: usize, c: usize): usize { return hostCall3(id, a, b, c); }
export function __rt_host_call4(id: i32, a: usize, b: usize, c: usize, d: usize): usize { return hostCall4(id, a, b, c, d); }

// Builtin errors caught by the generated code (see abort.ts).
export function __rt_builtin_error_defer(): void { builtinErrorDefer(); }
export function __rt_builtin_error_reset(): void { builtinErrorReset(); }
export function __rt_builtin_error_raise_pending(): void { builtinErrorRaisePending(); }
export function __rt_builtin_error_uncaught(): void { builtinErrorUncaught(); }

/** Aborts evaluation with one of the compiler's fixed errors. */
export function __rt_error(which: i32): void {
  errBegin();
  errMessage(which);
}

/**
 * __rt_error with the location of the rule or expression: `<file>:<row>:<col>: eval_conflict_error: ...`
 * (file: a string value). The host turns it into OPA's error with its location
 * (src/rego/builtins/eval-error.ts).
 */
export function __rt_error_at(which: i32, file: usize, row: i32, col: i32): void {
  errBegin();
  errBytes(strPtr(file), strLen(file));
  errByte(58);
  errInt(<i64>row);
  errByte(58);
  errInt(<i64>col);
  errByte(58);
  errByte(32);
  errMessage(which);
}

function errMessage(which: i32): void {
  if (which == 0) errStr("eval_conflict_error: complete rules must not produce multiple outputs");
  else if (which == 1) errStr("eval_conflict_error: functions must not produce multiple outputs for same inputs");
  else if (which == 2) errStr("eval_conflict_error: object keys must be unique");
  else if (which == 3) errStr("internal_error: illegal entrypoint id");
  else errStr("internal_error: unknown error");
  errAbort();
}

// ---------------------------------------------------------------- builtins

export * from "./builtins/exports";
