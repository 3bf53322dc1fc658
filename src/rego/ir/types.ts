// The planner's intermediate representation. A faithful TypeScript rendering of OPA's
// `v1/ir/ir.go`: the planner (src/rego/planner) produces it, the WASM back end
// (src/rego/wasm) consumes it. Statement names and fields follow OPA so OPA's planner and
// its `internal/compiler/wasm` are direct references for both sides.

/** A plan-scoped variable. Local 0 is the input document, local 1 the data document. */
export type Local = number;
export const INPUT: Local = 0;
export const DATA: Local = 1;
export const FIRST_FREE_LOCAL: Local = 2;

/** An operand: a local, an index into Static.strings, or a boolean constant. */
export type Operand =
  | { type: 'local'; value: Local }
  | { type: 'string_index'; value: number }
  | { type: 'bool'; value: boolean };

export interface Location { file: number; row: number; col: number }

export interface Policy {
  static: Static;
  plans: Plan[];
  funcs: Func[];
}

export interface Static {
  strings: string[];
  /** Builtins the policy calls, by OPA name (e.g. `plus`, `count`, `sprintf`), with arity. */
  builtinFuncs: Array<{ name: string; arity: number; /** returns a value (false for relations with no result) */ result?: boolean }>;
  files: string[];
}

/** An exposed entrypoint. Its blocks run in order until a ReturnLocal or the end. */
export interface Plan { name: string; blocks: Block[] }

/** A planned rule or function. By convention params[0] is input, params[1] is data. */
export interface Func {
  name: string;
  params: Local[];
  return: Local;
  blocks: Block[];
  /** The data path the function implements (e.g. ['g0', 'data', 'test', 'p']), used by CallDynamic. */
  path?: string[];
}

export interface Block { stmts: Stmt[] }

type At = { location?: Location };

export type Stmt =
  | ({ type: 'ReturnLocalStmt'; source: Local } & At)
  | ({ type: 'CallStmt'; func: string; args: Operand[]; result: Local } & At)
  | ({ type: 'CallDynamicStmt'; args: Local[]; path: Operand[]; result: Local } & At)
  | ({ type: 'BlockStmt'; blocks: Block[] } & At)
  | ({ type: 'BreakStmt'; index: number } & At)
  | ({ type: 'DotStmt'; source: Operand; key: Operand; target: Local } & At)
  | ({ type: 'LenStmt'; source: Operand; target: Local } & At)
  | ({ type: 'ScanStmt'; source: Local; key: Local; value: Local; block: Block } & At)
  | ({ type: 'NotStmt'; block: Block } & At)
  | ({ type: 'AssignIntStmt'; value: number; target: Local } & At)
  | ({ type: 'AssignVarStmt'; source: Operand; target: Local } & At)
  | ({ type: 'AssignVarOnceStmt'; source: Operand; target: Local } & At)
  | ({ type: 'ResetLocalStmt'; target: Local } & At)
  | ({ type: 'MakeNullStmt'; target: Local } & At)
  | ({ type: 'MakeNumberIntStmt'; value: number; target: Local } & At)
  /** A number from its source text, `index` into Static.strings. */
  | ({ type: 'MakeNumberRefStmt'; index: number; target: Local } & At)
  | ({ type: 'MakeArrayStmt'; capacity: number; target: Local } & At)
  | ({ type: 'MakeObjectStmt'; target: Local } & At)
  | ({ type: 'MakeSetStmt'; target: Local } & At)
  | ({ type: 'EqualStmt'; a: Operand; b: Operand } & At)
  | ({ type: 'NotEqualStmt'; a: Operand; b: Operand } & At)
  | ({ type: 'IsArrayStmt'; source: Operand } & At)
  | ({ type: 'IsObjectStmt'; source: Operand } & At)
  | ({ type: 'IsSetStmt'; source: Operand } & At)
  | ({ type: 'IsDefinedStmt'; source: Local } & At)
  | ({ type: 'IsUndefinedStmt'; source: Local } & At)
  | ({ type: 'ArrayAppendStmt'; array: Local; value: Operand } & At)
  | ({ type: 'ObjectInsertStmt'; object: Local; key: Operand; value: Operand } & At)
  | ({ type: 'ObjectInsertOnceStmt'; object: Local; key: Operand; value: Operand } & At)
  | ({ type: 'ObjectMergeStmt'; a: Local; b: Local; target: Local } & At)
  | ({ type: 'SetAddStmt'; set: Local; value: Operand } & At)
  | ({ type: 'WithStmt'; local: Local; path: number[]; value: Operand; block: Block } & At)
  | ({ type: 'ResultSetAddStmt'; value: Local } & At)
  | ({ type: 'NopStmt' } & At);

export type StmtType = Stmt['type'];
