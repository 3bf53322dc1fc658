// OPA's built-in functions (v1/ast/builtins.go, DefaultBuiltins), as a table the compiler,
// planner and WASM back end share. Each entry gives the OPA name, the declared argument and
// result types (OPA's `types` package: number, string, boolean, null, any, array, set,
// object, unions), and the flags OPA attaches: infix operator, relation (produces several
// results, e.g. `walk`), nondeterministic, deprecated, and void (no result, e.g. `print`).
//
// The arity of a builtin is `args.length`; it decides, during safety analysis, which call
// operands are inputs and which one (the extra last operand) is the output.

// ---------------------------------------------------------------- types

export type RegoType =
  | { kind: 'any'; of?: RegoType[] } // `of` absent: any value; otherwise a union (OPA's types.Any)
  | { kind: 'null' }
  | { kind: 'boolean' }
  | { kind: 'number' }
  | { kind: 'string' }
  | { kind: 'array'; static?: RegoType[]; dynamic?: RegoType }
  | { kind: 'set'; of: RegoType }
  | { kind: 'object'; static?: Array<[string | number | boolean | null, RegoType]>; dynamic?: { key: RegoType; value: RegoType } }
  | { kind: 'function'; args: RegoType[]; result?: RegoType; variadic?: RegoType };

export const A: RegoType = { kind: 'any' };
export const N: RegoType = { kind: 'number' };
export const S: RegoType = { kind: 'string' };
export const B: RegoType = { kind: 'boolean' };
export const NL: RegoType = { kind: 'null' };
export const arr = (of: RegoType): RegoType => ({ kind: 'array', dynamic: of });
export const tuple = (...items: RegoType[]): RegoType => ({ kind: 'array', static: items });
export const set = (of: RegoType): RegoType => ({ kind: 'set', of });
export const obj = (key: RegoType, value: RegoType): RegoType => ({ kind: 'object', dynamic: { key, value } });
export const union = (...of: RegoType[]): RegoType => ({ kind: 'any', of });

const SetOfAny = set(A);
const ArrOfAny = arr(A);
const ObjAny = obj(A, A);
const ObjStrAny = obj(S, A);
const ArrOfStr = arr(S);
const SetOfStr = set(S);

// ---------------------------------------------------------------- table

export interface BuiltinArg {
  name?: string;
  type: RegoType;
}

export interface Builtin {
  name: string;
  args: BuiltinArg[];
  /** Result type; absent for void functions (`print`, `internal.print`, `internal.test_case`). */
  result?: RegoType;
  /** Variadic argument type (`print` only). */
  variadic?: RegoType;
  infix?: string;
  relation?: boolean;
  nondeterministic?: boolean;
  deprecated?: boolean;
}

type ArgSpec = RegoType | [string, RegoType];
interface Flags {
  infix?: string;
  relation?: boolean;
  nondeterministic?: boolean;
  deprecated?: boolean;
  variadic?: RegoType;
}

const table: Builtin[] = [];
function def(name: string, args: ArgSpec[], result: RegoType | undefined, flags: Flags = {}): void {
  const b: Builtin = {
    name,
    args: args.map((a) => (Array.isArray(a) ? { name: a[0], type: a[1] } : { type: a })),
    ...flags,
  };
  if (result) b.result = result;
  table.push(b);
}

const xy = (t: RegoType): ArgSpec[] => [['x', t], ['y', t]];
const NumOrSet = union(N, SetOfAny);

// Unification, assignment, membership
def('eq', [A, A], B, { infix: '=' });
def('assign', [A, A], B, { infix: ':=' });
def('internal.member_2', [A, A], B, { infix: 'in' });
def('internal.member_3', [A, A, A], B, { infix: 'in' });
// Comparisons
def('gt', xy(A), B, { infix: '>' });
def('gte', xy(A), B, { infix: '>=' });
def('lt', xy(A), B, { infix: '<' });
def('lte', xy(A), B, { infix: '<=' });
def('neq', xy(A), B, { infix: '!=' });
def('equal', xy(A), B, { infix: '==' });
// Arithmetic
def('plus', xy(N), N, { infix: '+' });
def('minus', xy(NumOrSet), NumOrSet, { infix: '-' });
def('mul', xy(N), N, { infix: '*' });
def('div', xy(N), N, { infix: '/' });
def('ceil', [['x', N]], N);
def('floor', [['x', N]], N);
def('round', [['x', N]], N);
def('abs', [['x', N]], N);
def('rem', xy(N), N, { infix: '%' });
// Bitwise
def('bits.or', xy(N), N);
def('bits.and', xy(N), N);
def('bits.negate', [['x', N]], N);
def('bits.xor', xy(N), N);
def('bits.lsh', [['x', N], ['s', N]], N);
def('bits.rsh', [['x', N], ['s', N]], N);
// Sets
def('and', xy(SetOfAny), SetOfAny, { infix: '&' });
def('or', xy(SetOfAny), SetOfAny, { infix: '|' });
// Aggregates
const Collection = union(SetOfAny, ArrOfAny, ObjAny, S);
def('count', [['collection', Collection]], N);
def('sum', [['collection', union(set(N), arr(N))]], N);
def('product', [['collection', union(set(N), arr(N))]], N);
def('max', [['collection', union(SetOfAny, ArrOfAny)]], A);
def('min', [['collection', union(SetOfAny, ArrOfAny)]], A);
def('any', [['collection', union(SetOfAny, ArrOfAny)]], B, { deprecated: true });
def('all', [['collection', union(SetOfAny, ArrOfAny)]], B, { deprecated: true });
// Arrays
def('array.concat', [['x', ArrOfAny], ['y', ArrOfAny]], ArrOfAny);
def('array.slice', [['arr', ArrOfAny], ['start', N], ['stop', N]], ArrOfAny);
def('array.reverse', [['arr', ArrOfAny]], ArrOfAny);
def('array.flatten', [['arr', ArrOfAny]], ArrOfAny);
// Conversions
def('to_number', [['x', union(N, S, B, NL)]], N);
// Casts (deprecated)
def('cast_object', [['x', A]], ObjAny, { deprecated: true });
def('cast_null', [['x', A]], NL, { deprecated: true });
def('cast_boolean', [['x', A]], B, { deprecated: true });
def('cast_string', [['x', A]], S, { deprecated: true });
def('cast_set', [['x', A]], SetOfAny, { deprecated: true });
def('cast_array', [['x', A]], ArrOfAny, { deprecated: true });
// Regular expressions
def('regex.is_valid', [['pattern', A]], B);
def('regex.match', [['pattern', S], ['value', S]], B);
def('re_match', [['pattern', S], ['value', S]], B, { deprecated: true });
def('regex.split', [['pattern', S], ['value', S]], ArrOfStr);
def('regex.globs_match', [['glob1', S], ['glob2', S]], B);
def('regex.template_match', [['template', S], ['value', S], ['delimiter_start', S], ['delimiter_end', S]], B);
def('regex.find_n', [['pattern', S], ['value', S], ['number', N]], ArrOfStr);
def('regex.find_all_string_submatch_n', [['pattern', S], ['value', S], ['number', N]], arr(ArrOfStr));
def('regex.replace', [['s', S], ['pattern', S], ['value', S]], S);
// Sets
def('set_diff', [['s1', SetOfAny], ['s2', SetOfAny]], SetOfAny, { deprecated: true });
def('intersection', [['xs', set(SetOfAny)]], SetOfAny);
def('union', [['xs', set(SetOfAny)]], SetOfAny);
// Strings
const StrOrColl = union(S, SetOfStr, ArrOfStr);
def('strings.any_prefix_match', [['search', StrOrColl], ['base', StrOrColl]], B);
def('strings.any_suffix_match', [['search', StrOrColl], ['base', StrOrColl]], B);
def('concat', [['delimiter', S], ['collection', union(SetOfStr, ArrOfStr)]], S);
def('format_int', [['number', N], ['base', N]], S);
def('indexof', [['haystack', S], ['needle', S]], N);
def('indexof_n', [['haystack', S], ['needle', S]], arr(N));
def('substring', [['value', S], ['offset', N], ['length', N]], S);
def('lower', [['x', S]], S);
def('upper', [['x', S]], S);
def('contains', [['haystack', S], ['needle', S]], B);
def('strings.count', [['search', S], ['substring', S]], N);
def('startswith', [['search', S], ['base', S]], B);
def('endswith', [['search', S], ['base', S]], B);
def('split', [['x', S], ['delimiter', S]], ArrOfStr);
def('replace', [['x', S], ['old', S], ['new', S]], S);
def('strings.replace_n', [['patterns', obj(S, S)], ['value', S]], S);
def('trim', [['value', S], ['cutset', S]], S);
def('trim_left', [['value', S], ['cutset', S]], S);
def('trim_prefix', [['value', S], ['prefix', S]], S);
def('trim_right', [['value', S], ['cutset', S]], S);
def('trim_suffix', [['value', S], ['suffix', S]], S);
def('trim_space', [['value', S]], S);
def('sprintf', [['format', S], ['values', ArrOfAny]], S);
def('strings.reverse', [['x', S]], S);
def('strings.render_template', [['value', S], ['vars', ObjStrAny]], S);
def('internal.template_string', [['parts', ArrOfAny]], S);
// Numbers
def('numbers.range', [['a', N], ['b', N]], arr(N));
def('numbers.range_step', [['a', N], ['b', N], ['step', N]], arr(N));
def('rand.intn', [['str', S], ['n', N]], N, { nondeterministic: true });
// Encoding
def('json.marshal', [['x', A]], S);
def('json.marshal_with_options', [['x', A], ['opts', obj(S, A)]], S);
def('json.unmarshal', [['x', S]], A);
def('json.is_valid', [['x', S]], B);
def('base64.encode', [['x', S]], S);
def('base64.decode', [['x', S]], S);
def('base64.is_valid', [['x', S]], B);
def('base64url.encode', [['x', S]], S);
def('base64url.encode_no_pad', [['x', S]], S);
def('base64url.decode', [['x', S]], S);
def('urlquery.decode', [['x', S]], S);
def('urlquery.encode', [['x', S]], S);
def('urlquery.encode_object', [['object', obj(S, union(S, ArrOfStr, SetOfStr))]], S);
def('urlquery.decode_object', [['x', S]], obj(S, ArrOfStr));
def('yaml.marshal', [['x', A]], S);
def('yaml.unmarshal', [['x', S]], A);
def('yaml.is_valid', [['x', S]], B);
def('hex.encode', [['x', S]], S);
def('hex.decode', [['x', S]], S);
// Objects
def('object.union', [['a', ObjAny], ['b', ObjAny]], A);
def('object.union_n', [['objects', arr(ObjAny)]], A);
def('object.remove', [['object', ObjAny], ['keys', union(ArrOfAny, SetOfAny, ObjAny)]], A);
def('object.filter', [['object', ObjAny], ['keys', union(ArrOfAny, SetOfAny, ObjAny)]], A);
def('object.get', [['object', ObjAny], ['key', A], ['default', A]], A);
def('object.keys', [['object', ObjAny]], SetOfAny);
def('object.subset', [['super', union(ObjAny, SetOfAny, ArrOfAny)], ['sub', union(ObjAny, SetOfAny, ArrOfAny)]], A);
const Paths = union(arr(union(S, ArrOfAny)), set(union(S, ArrOfAny)));
def('json.filter', [['object', ObjAny], ['paths', Paths]], A);
def('json.remove', [['object', ObjAny], ['paths', Paths]], A);
def('json.patch', [['object', A], ['patches', arr(obj(A, A))]], A);
// Tokens
def('io.jwt.decode', [['jwt', S]], tuple(A, A, S));
for (const alg of ['rs256', 'rs384', 'rs512', 'ps256', 'ps384', 'ps512', 'es256', 'es384', 'es512', 'eddsa', 'hs256', 'hs384', 'hs512']) {
  def(`io.jwt.verify_${alg}`, [['jwt', S], [alg.startsWith('hs') ? 'secret' : 'certificate', S]], B);
}
def('io.jwt.decode_verify', [['jwt', S], ['constraints', obj(S, A)]], tuple(B, A, A), { nondeterministic: true });
def('io.jwt.encode_sign_raw', [['headers', S], ['payload', S], ['key', S]], S, { nondeterministic: true });
def('io.jwt.encode_sign', [['headers', obj(S, A)], ['payload', obj(S, A)], ['key', obj(S, A)]], S, { nondeterministic: true });
// Time
const TimeNs = union(N, tuple(N, S));
def('time.now_ns', [], N, { nondeterministic: true });
def('time.parse_ns', [['layout', S], ['value', S]], N);
def('time.parse_rfc3339_ns', [['value', S]], N);
def('time.parse_duration_ns', [['duration', S]], N);
def('time.format', [['x', union(N, tuple(N, S), tuple(N, S, S))]], S);
def('time.date', [['x', TimeNs]], tuple(N, N, N));
def('time.clock', [['x', TimeNs]], tuple(N, N, N));
def('time.weekday', [['x', TimeNs]], S);
def('time.add_date', [['ns', N], ['years', N], ['months', N], ['days', N]], N);
def('time.diff', [['ns1', TimeNs], ['ns2', TimeNs]], tuple(N, N, N, N, N, N));
// Crypto
def('crypto.x509.parse_certificates', [['certs', S]], arr(obj(S, A)));
def('crypto.x509.parse_and_verify_certificates', [['certs', S]], tuple(B, arr(obj(S, A))));
def('crypto.x509.parse_and_verify_certificates_with_options', [['certs', S], ['options', obj(S, A)]], tuple(B, arr(obj(S, A))));
def('crypto.md5', [['x', S]], S);
def('crypto.sha1', [['x', S]], S);
def('crypto.sha256', [['x', S]], S);
def('crypto.x509.parse_certificate_request', [['csr', S]], obj(S, A));
def('crypto.x509.parse_rsa_private_key', [['pem', S]], obj(S, A));
def('crypto.x509.parse_keypair', [['cert', S], ['pem', S]], obj(S, A));
def('crypto.parse_private_keys', [['keys', S]], arr(obj(S, A)));
def('crypto.hmac.md5', [['x', S], ['key', S]], S);
def('crypto.hmac.sha1', [['x', S], ['key', S]], S);
def('crypto.hmac.sha256', [['x', S], ['key', S]], S);
def('crypto.hmac.sha512', [['x', S], ['key', S]], S);
def('crypto.hmac.equal', [['mac1', S], ['mac2', S]], B);
// Graphs
def('walk', [['x', A]], tuple(ArrOfAny, A), { relation: true });
const Graph = obj(A, union(ArrOfAny, SetOfAny));
def('graph.reachable', [['graph', Graph], ['initial', union(ArrOfAny, SetOfAny)]], SetOfAny);
def('graph.reachable_paths', [['graph', Graph], ['initial', union(ArrOfAny, SetOfAny)]], set(ArrOfAny));
// Sort
def('sort', [['collection', union(ArrOfAny, SetOfAny)]], ArrOfAny);
// Types
for (const n of ['is_number', 'is_string', 'is_boolean', 'is_array', 'is_set', 'is_object', 'is_null']) def(n, [['x', A]], B);
def('type_name', [['x', A]], S);
// HTTP
def('http.send', [['request', obj(S, A)]], obj(A, A), { nondeterministic: true });
// GraphQL
const SchemaArg = union(S, obj(A, A));
def('graphql.parse', [['query', S], ['schema', SchemaArg]], tuple(obj(A, A), obj(A, A)));
def('graphql.parse_and_verify', [['query', S], ['schema', SchemaArg]], tuple(B, obj(A, A), obj(A, A)));
def('graphql.parse_query', [['query', S]], obj(A, A));
def('graphql.parse_schema', [['schema', S]], obj(A, A));
def('graphql.is_valid', [['query', S], ['schema', SchemaArg]], B);
def('graphql.schema_is_valid', [['schema', SchemaArg]], B);
// JSON Schema
def('json.verify_schema', [['schema', union(S, obj(A, A))]], tuple(B, union(NL, S)));
def('json.match_schema', [['document', A], ['schema', union(S, obj(A, A))]], tuple(B, arr(obj(S, A))));
// Cloud providers
def('providers.aws.sign_req', [['request', obj(S, A)], ['aws_config', obj(S, A)], ['time_ns', N]], obj(A, A));
// Rego
def('rego.parse_module', [['filename', S], ['rego', S]], obj(S, A));
def('rego.metadata.chain', [], arr(A));
def('rego.metadata.rule', [], A);
// OPA
def('opa.runtime', [], obj(S, A), { nondeterministic: true });
// Tracing
def('trace', [['note', S]], B);
// Networking
def('net.cidr_overlap', [['cidr', S], ['ip', S]], B, { deprecated: true });
def('net.cidr_intersects', [['cidr1', S], ['cidr2', S]], B);
def('net.cidr_contains', [['cidr', S], ['cidr_or_ip', S]], B);
const CidrColl = union(S, arr(union(S, ArrOfAny)), set(union(S, ArrOfAny)), obj(S, union(S, ArrOfAny)));
def('net.cidr_contains_matches', [['cidrs', CidrColl], ['cidrs_or_ips', CidrColl]], set(tuple(A, A)));
def('net.cidr_expand', [['cidr', S]], SetOfStr);
def('net.cidr_merge', [['addrs', union(arr(S), set(S))]], SetOfStr);
def('net.lookup_ip_addr', [['name', S]], SetOfStr, { nondeterministic: true });
def('net.cidr_is_valid', [['cidr', S]], B);
// Glob
def('glob.match', [['pattern', S], ['delimiters', union(ArrOfStr, NL)], ['match', S]], B);
def('glob.quote_meta', [['pattern', S]], S);
// Units
def('units.parse', [['x', S]], N);
def('units.parse_bytes', [['x', S]], N);
// UUIDs
def('uuid.rfc4122', [['k', S]], S, { nondeterministic: true });
def('uuid.parse', [['uuid', S]], obj(S, A));
// SemVer
def('semver.is_valid', [['vsn', A]], B);
def('semver.compare', [['a', S], ['b', S]], N);
// Printing
def('print', [], undefined, { variadic: A });
def('internal.print', [['msg', arr(SetOfAny)]], undefined);
// Testing
def('internal.test_case', [['test_case', obj(S, A)]], undefined);

/** All builtins by OPA name. */
export const BUILTINS: ReadonlyMap<string, Builtin> = new Map(table.map((b) => [b.name, b]));

export function lookupBuiltin(name: string): Builtin | undefined {
  return BUILTINS.get(name);
}

/** Arity (declared argument count); -1 for unknown names. Variadic `print` reports 0. */
export function builtinArity(name: string): number {
  const b = BUILTINS.get(name);
  return b ? b.args.length : -1;
}

// ---------------------------------------------------------------- type rendering (OPA's types String())

export function typeToString(t: RegoType | undefined): string {
  if (!t) return '???';
  switch (t.kind) {
    case 'any':
      if (!t.of || t.of.length === 0) return 'any';
      return `any<${t.of.map(typeToString).join(', ')}>`;
    case 'null':
    case 'boolean':
    case 'number':
    case 'string':
      return t.kind;
    case 'array':
      if (t.static && !t.dynamic) return `array<${t.static.map(typeToString).join(', ')}>`;
      if (t.static && t.dynamic) return `array<${t.static.map(typeToString).join(', ')}>[${typeToString(t.dynamic)}]`;
      return `array[${typeToString(t.dynamic)}]`;
    case 'set':
      return `set[${typeToString(t.of)}]`;
    case 'object': {
      const st = (t.static ?? []).map(([k, v]) => `${JSON.stringify(k)}: ${typeToString(v)}`).join(', ');
      if (t.dynamic && !t.static?.length) return `object[${typeToString(t.dynamic.key)}: ${typeToString(t.dynamic.value)}]`;
      if (t.dynamic) return `object<${st}>[${typeToString(t.dynamic.key)}: ${typeToString(t.dynamic.value)}]`;
      return `object<${st}>`;
    }
    case 'function':
      return `(${t.args.map(typeToString).join(', ')}) => ${typeToString(t.result)}`;
  }
}

/** `(x: number, y: number)` as OPA prints a builtin's wanted arguments. */
export function wantString(b: Builtin): string {
  const parts = b.args.map((a) => (a.name ? `${a.name}: ${typeToString(a.type)}` : typeToString(a.type)));
  return `(${parts.join(', ')})`;
}
