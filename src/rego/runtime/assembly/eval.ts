// Evaluation context, the fast-path entry (opa_eval) and memoization of rules.
import { malloc, mallocZero, heapSet } from "./alloc";
import { jsonParse, jsonDump, valueDump } from "./json";
import { abortWith } from "./abort";
import { hostCacheReset } from "./hostcall";

// Hooks the back end replaces with generated code (reserved import module "policy").
@external("policy", "eval")
declare function policy_eval(ctx: usize): void;
@external("policy", "builtins_json")
declare function policy_builtins_json(): usize;
@external("policy", "entrypoints_json")
declare function policy_entrypoints_json(): usize;

// ctx layout: +0 input, +4 data, +8 result, +12 entrypoint id
export function ctxNew(): usize {
  let ctx = mallocZero(16);
  return ctx;
}

export function evalCtx(ctx: usize): i32 {
  policy_eval(ctx);
  return 0;
}

function cstrlen(p: usize): usize {
  let n: usize = 0;
  while (load<u8>(p + n) != 0) n++;
  return n;
}

export function builtinsValue(): usize {
  let p = policy_builtins_json();
  return jsonParse(p, cstrlen(p));
}

export function entrypointsValue(): usize {
  let p = policy_entrypoints_json();
  return jsonParse(p, cstrlen(p));
}

/** ABI 1.2 one-shot evaluation: the host wrote the input JSON at `input`; heap restarts at heapPtr. */
export function fastEval(entrypoint: i32, data: usize, input: usize, inputLen: usize, heapPtr: usize, format: i32): usize {
  heapSet(heapPtr);
  let inputV: usize = 0;
  if (inputLen > 0) {
    inputV = jsonParse(input, inputLen);
    if (inputV == 0) abortWith("internal_error", "invalid input: not valid JSON");
  }
  let ctx = ctxNew();
  store<i32>(ctx, <i32>inputV);
  store<i32>(ctx, <i32>data, 4);
  store<i32>(ctx, entrypoint, 12);
  policy_eval(ctx);
  let result = <usize>load<i32>(ctx, 8);
  return format == 0 ? jsonDump(result) : valueDump(result);
}

// ---- memoization: one slot per planned function, one frame per `with` nesting ----
// frame layout: +0 previous frame, +4 slots...
let memoFrame: usize = 0;
let memoSlots: i32 = 0;

export function memoInit(n: i32): void {
  hostCacheReset(); // memo_init starts every evaluation
  memoSlots = n;
  memoFrame = 0;
  memoPush();
}

export function memoPush(): void {
  let f = mallocZero(4 + (<usize>memoSlots << 2));
  store<i32>(f, <i32>memoFrame);
  memoFrame = f;
}

export function memoPop(): void {
  memoFrame = <usize>load<i32>(memoFrame);
}

export function memoGet(i: i32): usize {
  return <usize>load<i32>(memoFrame + 4 + (<usize>i << 2));
}

export function memoSet(i: i32, v: usize): void {
  store<i32>(memoFrame + 4 + (<usize>i << 2), <i32>v);
}
