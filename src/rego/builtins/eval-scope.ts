// Per-evaluation memory for non-deterministic builtins (time.now_ns, uuid.rfc4122, rand.intn):
// OPA gives the same answer to the same call within one query. The SDK evaluates synchronously
// and gives builtins no evaluation context, so "one evaluation" is approximated by "one
// synchronous job": the memory is dropped in a microtask scheduled on first use, which runs
// right after the evaluate() call that filled it returns.
let memo: Map<string, unknown> | undefined;

export function perEvaluation<T>(key: string, make: () => T): T {
  if (!memo) {
    memo = new Map();
    queueMicrotask(() => {
      memo = undefined;
    });
  }
  if (!memo.has(key)) memo.set(key, make());
  return memo.get(key) as T;
}
