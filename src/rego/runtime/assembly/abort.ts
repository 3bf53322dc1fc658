// Errors leave the module through env.opa_abort with a NUL-terminated message
// `<code>: <message>`. Messages are built in a static buffer: aborting must never
// allocate (the heap may be what ran out).
@external("env", "opa_abort")
declare function opa_abort(msg: usize): void;

// Builtin errors (`eval_type_error`, `eval_builtin_error`) unwind instead: the linker
// (src/rego/wasm/template.ts) turns this import into a WASM `throw` of the runtime's one
// exception tag, and the generated code catches it around every call of a runtime builtin
// (src/rego/wasm/codegen.ts): OPA's topdown makes a failing builtin call undefined and goes on,
// and with StrictBuiltinErrors reports the first such error once evaluation is over.
@external("eh", "throw_builtin_error")
declare function throw_builtin_error(): void;

const ERR_CAP: usize = 1024;
const errBuf = memory.data(1024);
let errLen: usize = 0;

export function errBegin(): void {
  errLen = 0;
}

export function errByte(b: u32): void {
  if (errLen < ERR_CAP - 1) {
    store<u8>(errBuf + errLen, <u8>b);
    errLen++;
  }
}

/** Appends an AS string literal (ASCII). Reading a static string does not allocate. */
export function errStr(s: string): void {
  for (let i = 0; i < s.length; i++) errByte(<u32>s.charCodeAt(i));
}

export function errBytes(p: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) errByte(<u32>load<u8>(p + i));
}

export function errInt(v: i64): void {
  if (v < 0) { errByte(45); v = -v; }
  let digits = memory.data(24);
  let n = 0;
  do { store<u8>(digits + n, <u8>(48 + <i32>(v % 10))); n++; v /= 10; } while (v > 0);
  while (n > 0) { n--; errByte(<u32>load<u8>(digits + n)); }
}

export function errAbort(): void {
  store<u8>(errBuf + errLen, 0);
  if (isBuiltinError()) throw_builtin_error();
  opa_abort(errBuf);
  unreachable();
}

/** The message being built is `eval_type_error: ...` or `eval_builtin_error: ...`. */
function isBuiltinError(): bool {
  if (errLen < 6 || load<u32>(errBuf) != 0x6c617665 /* "eval" */ || load<u8>(errBuf + 4) != 95) return false;
  let c = load<u8>(errBuf + 5);
  return c == 116 /* t */ || c == 98 /* b */;
}

// StrictBuiltinErrors: the first builtin error of an evaluation, kept until it ends.
const pendingBuf = memory.data(1024);
let pending = false;

/** Called where generated code caught a builtin error, in strict mode. */
export function builtinErrorDefer(): void {
  if (pending) return;
  memory.copy(pendingBuf, errBuf, errLen + 1);
  pending = true;
}

export function builtinErrorReset(): void {
  pending = false;
}

/** End of a strict evaluation: aborts with the first builtin error, if one was caught. */
export function builtinErrorRaisePending(): void {
  if (!pending) return;
  pending = false;
  opa_abort(pendingBuf);
  unreachable();
}

/** A builtin error nobody caught (raised outside a builtin call): aborts with it. */
export function builtinErrorUncaught(): void {
  opa_abort(errBuf);
  unreachable();
}

/** Aborts with one of a few fixed messages. 0: out of memory. */
export function abortStatic(which: i32): void {
  errBegin();
  if (which == 0) errStr("internal_error: out of memory");
  else errStr("internal_error: runtime failure");
  errAbort();
}

/** Aborts with `<code>: <msg>`. */
export function abortWith(code: string, msg: string): void {
  errBegin();
  errStr(code);
  errStr(": ");
  errStr(msg);
  errAbort();
}

// Target of AssemblyScript's own `abort` (--use abort=...): never reached by design.
export function rt_abort(message: usize, fileName: usize, line: u32, column: u32): void {
  abortStatic(1);
}
