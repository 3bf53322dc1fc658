// The one heap of the runtime: a resettable bump allocator. Everything the runtime and the
// generated policy code allocate comes from here; opa_heap_ptr_set rewinds it (the SDK does
// that between evaluations), so nothing is ever freed individually.
import { abortStatic } from "./abort";

// Initialised in AS's start function (the linker moves it past the policy's static data).
export let heap_ptr: usize = (__heap_base + 7) & ~(<usize>7);

// The memory size in bytes as last seen (capped below 4 GiB). Memory only ever grows (the
// host grows it too), so this is a lower bound that only the slow path has to refresh.
let heap_limit: usize = 0;

/** Bump allocation, 8-byte aligned; the common case is a compare and an add. */
@inline export function malloc(size: usize): usize {
  let p = (heap_ptr + 7) & ~(<usize>7);
  let end = p + size;
  if (end > heap_limit || end < p) return mallocSlow(size);
  heap_ptr = end;
  return p;
}

function mallocSlow(size: usize): usize {
  let p = (heap_ptr + 7) & ~(<usize>7);
  let end = p + size;
  if (end < p || end > 0xFFFF0000) abortStatic(0);
  let cur = <usize>memory.size() << 16;
  if (end > cur) {
    let need = <i32>((end - cur + 0xFFFF) >>> 16);
    if (memory.grow(need) < 0) abortStatic(0);
    cur = <usize>memory.size() << 16;
  }
  heap_limit = cur == 0 || cur > 0xFFFF0000 ? 0xFFFF0000 : cur;
  heap_ptr = end;
  return p;
}

export function mallocZero(size: usize): usize {
  let p = malloc(size);
  memory.fill(p, 0, size);
  return p;
}

export function heapGet(): usize {
  return heap_ptr;
}

export function heapSet(p: usize): void {
  heap_ptr = p;
}
