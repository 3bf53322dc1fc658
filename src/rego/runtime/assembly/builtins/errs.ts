// Error helpers for builtins whose messages carry dynamic text (offsets, bytes, type names).
import { errBegin, errStr, errAbort, errInt, errBytes, errByte } from "../abort";
import { kindOf, STRING, strLen, strPtr } from "../value";
import { typeNameOf, typeError } from "./util";

/** Starts `eval_builtin_error: <fn>: `; finish with the err* appenders and errAbort(). */
export function builtinErrBegin(fn: string): void {
  errBegin();
  errStr("eval_builtin_error: ");
  errStr(fn);
  errStr(": ");
}

/** Starts `eval_type_error: <fn>: operand <n> `. */
export function operandErrBegin(fn: string, operand: i32): void {
  errBegin();
  errStr("eval_type_error: ");
  errStr(fn);
  errStr(": operand ");
  errInt(operand);
  errByte(32);
}

/** OPA's NewOperandErr: `eval_type_error: <fn>: operand <n> <msg>`. */
export function operandErr(fn: string, operand: i32, msg: string): void {
  operandErrBegin(fn, operand);
  errStr(msg);
  errAbort();
}

/** OPA's NewOperandElementErr: `operand <n> must be <coll> of <want>s but got <coll> containing <type>`. */
export function elementErr(fn: string, operand: i32, coll: usize, elem: usize, want: string): void {
  operandErrBegin(fn, operand);
  errStr("must be ");
  errStr(typeNameOf(kindOf(coll)));
  errStr(" of ");
  errStr(want);
  errStr("s but got ");
  errStr(typeNameOf(kindOf(coll)));
  errStr(" containing ");
  errStr(typeNameOf(kindOf(elem)));
  errAbort();
}

export function needString(fn: string, operand: i32, v: usize): void {
  if (kindOf(v) != STRING) typeError(fn, operand, "string", v);
}

export { errStr, errInt, errBytes, errByte, errAbort, strLen, strPtr };
