// OPA's error texts for built-in functions, so that policies see the same messages as under `opa eval`.
// Type errors: `eval_type_error: <name>: operand N must be <type> but got <type>`.
// Other failures: `eval_builtin_error: <name>: <message>`.

/** A failure raised by a host builtin; `message` is the full OPA text (code, builtin name, detail). */
export class BuiltinError extends Error {
  constructor(
    readonly code: 'eval_type_error' | 'eval_builtin_error',
    readonly builtin: string,
    readonly detail: string,
  ) {
    super(`${code}: ${builtin}: ${detail}`);
    this.name = 'BuiltinError';
  }
}

/** A set argument, for builtins called with tagged arguments (HOST_BUILTIN_SET_ARGS): its elements. */
export class SetArg {
  constructor(readonly items: unknown[]) {}
}

/**
 * OPA's type name of a JSON value. Sets cross the SDK boundary as arrays, so a set operand
 * reports "array" here where OPA would say "set".
 */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof SetArg) return 'set';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'object';
  }
}

/** `operand N must be T but got U` (one expected type) or `must be one of {T, U} ...`. */
export function typeError(builtin: string, pos: number, got: unknown, ...expected: string[]): BuiltinError {
  const want = expected.length === 1 ? expected[0] : `one of {${expected.join(', ')}}`;
  return new BuiltinError('eval_type_error', builtin, `operand ${pos} must be ${want} but got ${typeName(got)}`);
}

/** `operand N must be array of Ts but got array containing U`. */
export function elementError(builtin: string, pos: number, composite: unknown, got: unknown, ...expected: string[]): BuiltinError {
  const tpe = typeName(composite);
  const detail =
    expected.length === 1
      ? `operand ${pos} must be ${tpe} of ${expected[0]}s but got ${tpe} containing ${typeName(got)}`
      : `operand ${pos} must be ${tpe} of (any of) {${expected.join(', ')}} but got ${tpe} containing ${typeName(got)}`;
  return new BuiltinError('eval_type_error', builtin, detail);
}

export function operandError(builtin: string, pos: number, detail: string): BuiltinError {
  return new BuiltinError('eval_type_error', builtin, `operand ${pos} ${detail}`);
}

export function builtinError(builtin: string, detail: string): BuiltinError {
  return new BuiltinError('eval_builtin_error', builtin, detail);
}

// Operand readers, each throwing OPA's type error.
export function str(builtin: string, v: unknown, pos: number): string {
  if (typeof v !== 'string') throw typeError(builtin, pos, v, 'string');
  return v;
}

export function num(builtin: string, v: unknown, pos: number): number {
  if (typeof v !== 'number') throw typeError(builtin, pos, v, 'number');
  return v;
}

export function bool(builtin: string, v: unknown, pos: number): boolean {
  if (typeof v !== 'boolean') throw typeError(builtin, pos, v, 'boolean');
  return v;
}

export function arr(builtin: string, v: unknown, pos: number): unknown[] {
  if (!Array.isArray(v)) throw typeError(builtin, pos, v, 'array');
  return v;
}

export function obj(builtin: string, v: unknown, pos: number): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw typeError(builtin, pos, v, 'object');
  return v as Record<string, unknown>;
}

/** OPA's IntOperand: a number that is an integer (`operand N must be integer number but got floating-point number`). */
export function int(builtin: string, v: unknown, pos: number): number {
  const n = num(builtin, v, pos);
  if (!Number.isInteger(n)) throw operandError(builtin, pos, 'must be integer number but got floating-point number');
  return n;
}

/** Set-or-array operands (sets arrive as arrays through the SDK). */
export function setOrArray(builtin: string, v: unknown, pos: number): unknown[] {
  if (!Array.isArray(v)) throw typeError(builtin, pos, v, 'set', 'array');
  return v;
}
