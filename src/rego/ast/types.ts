// The Rego abstract syntax tree. It mirrors OPA's Go `ast` package (v1/ast/term.go,
// policy.go) so that OPA's compiler and planner can serve as the reference for every
// stage that consumes it. Values are plain data (JSON-serialisable), discriminated by `type`.

export interface Location {
  file: string;
  row: number; // 1-based
  col: number; // 1-based, in characters
  offset: number; // 0-based character offset into the file's text
  text?: string; // the source text the node spans (optional; for error messages)
}

export interface Term {
  value: Value;
  location?: Location;
}

export type Value =
  | NullValue
  | BooleanValue
  | NumberValue
  | StringValue
  | VarValue
  | RefValue
  | ArrayValue
  | ObjectValue
  | SetValue
  | ArrayComprehension
  | ObjectComprehension
  | SetComprehension
  | CallValue
  | TemplateStringValue;

export interface NullValue { type: 'null' }
export interface BooleanValue { type: 'boolean'; value: boolean }
/** Numbers keep their source text (`1e400`, `0.1`, big integers) so no precision is lost. */
export interface NumberValue { type: 'number'; value: string }
export interface StringValue { type: 'string'; value: string }
/** Variables. Generated ones start with `__` (e.g. `__local0__`), wildcards are `$0`, `$1`, ... as in OPA. */
export interface VarValue { type: 'var'; value: string }
/** A reference: head term (a var such as `data`, `input`, a local; or a call/composite) then operands. */
export interface RefValue { type: 'ref'; value: Term[] }
export interface ArrayValue { type: 'array'; value: Term[] }
export interface ObjectValue { type: 'object'; value: Array<[Term, Term]> }
export interface SetValue { type: 'set'; value: Term[] }
export interface ArrayComprehension { type: 'arraycomprehension'; term: Term; body: Body }
export interface ObjectComprehension { type: 'objectcomprehension'; key: Term; value: Term; body: Body }
export interface SetComprehension { type: 'setcomprehension'; term: Term; body: Body }
/** A call: value[0] is the operator (a ref term), the rest are the arguments. */
export interface CallValue { type: 'call'; value: Term[] }
/**
 * String interpolation `$"a {x} b"` / `$\`...\``. `parts` alternate literal text and
 * embedded expressions, in source order.
 */
export interface TemplateStringValue {
  type: 'templatestring';
  parts: Array<{ kind: 'text'; value: string } | { kind: 'expr'; expr: Expr }>;
  multiLine: boolean;
}

/** `some x, y` or `some k, v in xs` (the latter is a single `internal.member_2/3` call term). */
export interface SomeDecl { type: 'some'; symbols: Term[]; location?: Location }

/** `every k, v in domain { body }` */
export interface Every {
  type: 'every';
  key?: Term;
  value: Term;
  domain: Term;
  body: Body;
  location?: Location;
}

export interface With { target: Term; value: Term; location?: Location }

/**
 * An expression. `terms` is:
 *  - a Term[] for a call (terms[0] the operator ref, e.g. `eq`, `assign`, `plus`, `data.pkg.f`),
 *  - a single Term for a bare term (`input.x`, `true`),
 *  - a SomeDecl or an Every.
 */
export interface Expr {
  index: number;
  negated: boolean;
  generated?: boolean;
  terms: Term | Term[] | SomeDecl | Every;
  with: With[];
  location?: Location;
}

export type Body = Expr[];

export interface Head {
  /** Simple name, when the head reference is a single var (`p`, `f`); empty for ref heads like `a.b[x]`. */
  name: string;
  /** The full head reference: first term a var, e.g. `a.b[x]` is [var a, string "b", var x]. */
  reference: Term[];
  args?: Term[]; // function arguments
  key?: Term; // partial set (`contains`) element / partial object key
  value?: Term; // value (`:=`, `=`, or implied `true`)
  assign: boolean; // `:=` was used
  /** The rule kind as written: `contains` (multi-value) or single-value. */
  multiValue?: boolean;
  location?: Location;
}

export interface Rule {
  default: boolean;
  head: Head;
  body: Body;
  else?: Rule;
  location?: Location;
}

export interface Import { path: Term; alias?: string; location?: Location }

export interface Package { path: Term[]; location?: Location } // ref, e.g. [var data, string "a", string "b"]

export interface Comment { text: string; location: Location }

export interface Module {
  package: Package;
  imports: Import[];
  rules: Rule[];
  comments: Comment[];
  /** Raw METADATA annotation blocks, if any (parsed YAML objects with their scope). */
  annotations?: Array<{ scope: string; location?: Location; [key: string]: unknown }>;
  file?: string;
}

/** Errors of every stage share OPA's shape: `file:row:col: code: message`. */
export interface RegoError {
  code:
    | 'rego_parse_error'
    | 'rego_compile_error'
    | 'rego_type_error'
    | 'rego_unsafe_var_error'
    | 'rego_recursion_error'
    | string;
  message: string;
  location?: Location;
  details?: unknown;
}
