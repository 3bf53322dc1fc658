// Shared helpers for builtins: OPA's type errors and operand checks.
import { errBegin, errStr, errByte, errInt, errAbort } from "../abort";
import { kindOf, NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT, SET } from "../value";

export function typeNameOf(kind: i32): string {
  switch (kind) {
    case NULL: return "null";
    case BOOLEAN: return "boolean";
    case NUMBER: return "number";
    case STRING: return "string";
    case ARRAY: return "array";
    case OBJECT: return "object";
    case SET: return "set";
  }
  return "unknown";
}

/** Aborts with OPA's `eval_type_error: <fn>: operand <n> must be <want> but got <type>`. */
export function typeError(fn: string, operand: i32, want: string, got: usize): void {
  errBegin();
  errStr("eval_type_error: ");
  errStr(fn);
  errStr(": operand ");
  errInt(operand);
  errStr(" must be ");
  errStr(want);
  errStr(" but got ");
  errStr(typeNameOf(kindOf(got)));
  errAbort();
}

/** Aborts with `<code>: <fn>: <msg>`. */
export function builtinError(code: string, fn: string, msg: string): void {
  errBegin();
  errStr(code);
  errStr(": ");
  errStr(fn);
  errStr(": ");
  errStr(msg);
  errAbort();
}

export function needKind(fn: string, operand: i32, v: usize, kind: i32): void {
  if (kindOf(v) != kind) typeError(fn, operand, typeNameOf(kind), v);
}

export function errChar(c: u32): void { errByte(c); }
