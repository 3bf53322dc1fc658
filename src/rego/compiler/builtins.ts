// OPA's built-in functions (v1/ast/builtins.go, DefaultBuiltins), as a table the compiler,
// planner and WASM back end share. Each entry gives the OPA name, the declared argument and
// result types (OPA's `types` package: number, string, boolean, null, any, array, set,
// object, unions), and the flags OPA attaches: infix operator, relation (produces several
// results, e.g. `walk`), nondeterministic, deprecated, and void (no result, e.g. `print`).
//
// The arity of a builtin is `args.length`; it decides, during safety analysis, which call
// operands are inputs and which one (the extra last operand) is the output.

// ---------------------------------------------------------------- types

import { A, B, N, NL, S, arr, funcArgsString, obj, objStatic, set, tuple, typeToString, union, type FunctionType, type RegoType } from './typesys.js';
export { A, B, N, NL, S, arr, obj, set, tuple, typeToString, union, type RegoType } from './typesys.js';

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
  /** The result's name in OPA's declaration (shown in type errors' `want:` lines). */
  resultName?: string;
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
function def(name: string, args: ArgSpec[], result: ArgSpec | undefined, flags: Flags = {}): void {
  const b: Builtin = {
    name,
    args: args.map((a) => (Array.isArray(a) ? { name: a[0], type: a[1] } : { type: a })),
    ...flags,
  };
  if (Array.isArray(result)) {
    b.resultName = result[0];
    b.result = result[1];
  } else if (result) b.result = result;
  table.push(b);
}

const xy = (t: RegoType): ArgSpec[] => [['x', t], ['y', t]];
const NumOrSet = union(N, SetOfAny);
const res = (t: RegoType): ArgSpec => ['result', t];
const out = (t: RegoType): ArgSpec => ['output', t];

// Unification, assignment, membership (unnamed in OPA)
def('eq', [A, A], B, { infix: '=' });
def('assign', [A, A], B, { infix: ':=' });
def('internal.member_2', [A, A], B, { infix: 'in' });
def('internal.member_3', [A, A, A], B, { infix: 'in' });
// Comparisons
def('gt', xy(A), res(B), { infix: '>' });
def('gte', xy(A), res(B), { infix: '>=' });
def('lt', xy(A), res(B), { infix: '<' });
def('lte', xy(A), res(B), { infix: '<=' });
def('neq', xy(A), res(B), { infix: '!=' });
def('equal', xy(A), res(B), { infix: '==' });
// Arithmetic
def('plus', xy(N), ['z', N], { infix: '+' });
def('minus', xy(NumOrSet), ['z', NumOrSet], { infix: '-' });
def('mul', xy(N), ['z', N], { infix: '*' });
def('div', xy(N), ['z', N], { infix: '/' });
def('ceil', [['x', N]], ['y', N]);
def('floor', [['x', N]], ['y', N]);
def('round', [['x', N]], ['y', N]);
def('abs', [['x', N]], ['y', N]);
def('rem', xy(N), ['z', N], { infix: '%' });
// Bitwise
def('bits.or', xy(N), ['z', N]);
def('bits.and', xy(N), ['z', N]);
def('bits.negate', [['x', N]], ['z', N]);
def('bits.xor', xy(N), ['z', N]);
def('bits.lsh', [['x', N], ['s', N]], ['z', N]);
def('bits.rsh', [['x', N], ['s', N]], ['z', N]);
// Sets
def('and', xy(SetOfAny), ['z', SetOfAny], { infix: '&' });
def('or', xy(SetOfAny), ['z', SetOfAny], { infix: '|' });
// Aggregates
const Collection = union(SetOfAny, ArrOfAny, ObjAny, S);
def('count', [['collection', Collection]], ['n', N]);
def('sum', [['collection', union(set(N), arr(N))]], ['n', N]);
def('product', [['collection', union(set(N), arr(N))]], ['n', N]);
def('max', [['collection', union(SetOfAny, ArrOfAny)]], ['n', A]);
def('min', [['collection', union(SetOfAny, ArrOfAny)]], ['n', A]);
def('any', [union(SetOfAny, ArrOfAny)], B, { deprecated: true });
def('all', [union(SetOfAny, ArrOfAny)], B, { deprecated: true });
// Arrays
def('array.concat', [['x', ArrOfAny], ['y', ArrOfAny]], ['z', ArrOfAny]);
def('array.slice', [['arr', ArrOfAny], ['start', N], ['stop', N]], ['slice', ArrOfAny]);
def('array.reverse', [['arr', ArrOfAny]], ['rev', ArrOfAny]);
def('array.flatten', [['arr', ArrOfAny]], ['flattened', ArrOfAny]);
// Conversions
def('to_number', [['x', union(N, S, B, NL)]], ['num', N]);
// Casts (deprecated)
def('cast_object', [A], ObjAny, { deprecated: true });
def('cast_null', [A], NL, { deprecated: true });
def('cast_boolean', [A], B, { deprecated: true });
def('cast_string', [A], S, { deprecated: true });
def('cast_set', [A], SetOfAny, { deprecated: true });
def('cast_array', [A], ArrOfAny, { deprecated: true });
// Regular expressions
def('regex.is_valid', [['pattern', S]], res(B));
def('regex.match', [['pattern', S], ['value', S]], res(B));
def('re_match', [S, S], B, { deprecated: true });
def('regex.split', [['pattern', S], ['value', S]], out(ArrOfStr));
def('regex.globs_match', [['glob1', S], ['glob2', S]], res(B));
def('regex.template_match', [['template', S], ['value', S], ['delimiter_start', S], ['delimiter_end', S]], res(B));
def('regex.find_n', [['pattern', S], ['value', S], ['number', N]], out(ArrOfStr));
def('regex.find_all_string_submatch_n', [['pattern', S], ['value', S], ['number', N]], out(arr(ArrOfStr)));
def('regex.replace', [['s', S], ['pattern', S], ['value', S]], out(S));
// Sets
def('set_diff', [SetOfAny, SetOfAny], SetOfAny, { deprecated: true });
def('intersection', [['xs', set(SetOfAny)]], ['y', SetOfAny]);
def('union', [['xs', set(SetOfAny)]], ['y', SetOfAny]);
// Strings
const StrOrColl = union(S, SetOfStr, ArrOfStr);
def('strings.any_prefix_match', [['search', StrOrColl], ['base', StrOrColl]], res(B));
def('strings.any_suffix_match', [['search', StrOrColl], ['base', StrOrColl]], res(B));
def('concat', [['delimiter', S], ['collection', union(SetOfStr, ArrOfStr)]], out(S));
def('format_int', [['number', N], ['base', N]], out(S));
def('indexof', [['haystack', S], ['needle', S]], out(N));
def('indexof_n', [['haystack', S], ['needle', S]], out(arr(N)));
def('substring', [['value', S], ['offset', N], ['length', N]], out(S));
def('lower', [['x', S]], ['y', S]);
def('upper', [['x', S]], ['y', S]);
def('contains', [['haystack', S], ['needle', S]], res(B));
def('strings.count', [['search', S], ['substring', S]], out(N));
def('startswith', [['search', S], ['base', S]], res(B));
def('endswith', [['search', S], ['base', S]], res(B));
def('split', [['x', S], ['delimiter', S]], ['ys', ArrOfStr]);
def('replace', [['x', S], ['old', S], ['new', S]], ['y', S]);
def('strings.replace_n', [['patterns', obj(S, S)], ['value', S]], out(S));
def('trim', [['value', S], ['cutset', S]], out(S));
def('trim_left', [['value', S], ['cutset', S]], out(S));
def('trim_prefix', [['value', S], ['prefix', S]], out(S));
def('trim_right', [['value', S], ['cutset', S]], out(S));
def('trim_suffix', [['value', S], ['suffix', S]], out(S));
def('trim_space', [['value', S]], out(S));
def('sprintf', [['format', S], ['values', ArrOfAny]], out(S));
def('strings.reverse', [['x', S]], ['y', S]);
def('strings.render_template', [['value', S], ['vars', ObjStrAny]], res(S));
def('internal.template_string', [ArrOfAny], S);
// Numbers
def('numbers.range', [['a', N], ['b', N]], ['range', arr(N)]);
def('numbers.range_step', [['a', N], ['b', N], ['step', N]], ['range', arr(N)]);
def('rand.intn', [['str', S], ['n', N]], ['y', N], { nondeterministic: true });
// Encoding
def('json.marshal', [['x', A]], ['y', S]);
def('json.marshal_with_options', [['x', A], ['opts', objStatic([['pretty', B], ['indent', S], ['prefix', S]], [S, A])]], ['y', S]);
def('json.unmarshal', [['x', S]], ['y', A]);
def('json.is_valid', [['x', S]], res(B));
def('base64.encode', [['x', S]], ['y', S]);
def('base64.decode', [['x', S]], ['y', S]);
def('base64.is_valid', [['x', S]], res(B));
def('base64url.encode', [['x', S]], ['y', S]);
def('base64url.encode_no_pad', [['x', S]], ['y', S]);
def('base64url.decode', [['x', S]], ['y', S]);
def('urlquery.decode', [['x', S]], ['y', S]);
def('urlquery.encode', [['x', S]], ['y', S]);
def('urlquery.encode_object', [['object', obj(S, union(S, ArrOfStr, SetOfStr))]], ['y', S]);
def('urlquery.decode_object', [['x', S]], ['object', obj(S, ArrOfStr)]);
def('yaml.marshal', [['x', A]], ['y', S]);
def('yaml.unmarshal', [['x', S]], ['y', A]);
def('yaml.is_valid', [['x', S]], res(B));
def('hex.encode', [['x', S]], ['y', S]);
def('hex.decode', [['x', S]], ['y', S]);
// Objects
const Keys = union(ArrOfAny, SetOfAny, ObjAny);
def('object.union', [['a', ObjAny], ['b', ObjAny]], out(A));
def('object.union_n', [['objects', arr(ObjAny)]], out(A));
def('object.remove', [['object', ObjAny], ['keys', Keys]], out(A));
def('object.filter', [['object', ObjAny], ['keys', Keys]], ['filtered', A]);
def('object.get', [['object', ObjAny], ['key', A], ['default', A]], ['value', A]);
def('object.keys', [['object', ObjAny]], ['value', SetOfAny]);
def('object.subset', [['super', union(ObjAny, SetOfAny, ArrOfAny)], ['sub', union(ObjAny, SetOfAny, ArrOfAny)]], res(A));
const Paths = union(arr(union(S, ArrOfAny)), set(union(S, ArrOfAny)));
def('json.filter', [['object', ObjAny], ['paths', Paths]], ['filtered', A]);
def('json.remove', [['object', ObjAny], ['paths', Paths]], out(A));
def('json.patch', [['object', A], ['patches', arr(objStatic([['op', S], ['path', A]], [A, A]))]], out(A));
// Tokens
def('io.jwt.decode', [['jwt', S]], out(tuple(ObjAny, ObjAny, S)));
for (const alg of ['rs256', 'rs384', 'rs512', 'ps256', 'ps384', 'ps512', 'es256', 'es384', 'es512', 'eddsa', 'hs256', 'hs384', 'hs512']) {
  def(`io.jwt.verify_${alg}`, [['jwt', S], [alg.startsWith('hs') ? 'secret' : 'certificate', S]], res(B));
}
def('io.jwt.decode_verify', [['jwt', S], ['constraints', ObjStrAny]], out(tuple(B, ObjAny, ObjAny)), { nondeterministic: true });
def('io.jwt.encode_sign_raw', [['headers', S], ['payload', S], ['key', S]], out(S), { nondeterministic: true });
def('io.jwt.encode_sign', [['headers', ObjStrAny], ['payload', ObjStrAny], ['key', ObjStrAny]], out(S), { nondeterministic: true });
// Time
const TimeNs = union(N, tuple(N, S));
def('time.now_ns', [], ['now', N], { nondeterministic: true });
def('time.parse_ns', [['layout', S], ['value', S]], ['ns', N]);
def('time.parse_rfc3339_ns', [['value', S]], ['ns', N]);
def('time.parse_duration_ns', [['duration', S]], ['ns', N]);
def('time.format', [['x', union(N, tuple(N, S), tuple(N, S, S))]], ['formatted timestamp', S]);
def('time.date', [['x', TimeNs]], ['date', tuple(N, N, N)]);
def('time.clock', [['x', TimeNs]], out(tuple(N, N, N)));
def('time.weekday', [['x', TimeNs]], ['day', S]);
def('time.add_date', [['ns', N], ['years', N], ['months', N], ['days', N]], out(N));
def('time.diff', [['ns1', TimeNs], ['ns2', TimeNs]], out(tuple(N, N, N, N, N, N)));
// Crypto
def('crypto.x509.parse_certificates', [['certs', S]], out(arr(ObjStrAny)));
def('crypto.x509.parse_and_verify_certificates', [['certs', S]], out(tuple(B, arr(ObjStrAny))));
def('crypto.x509.parse_and_verify_certificates_with_options', [['certs', S], ['options', ObjStrAny]], out(tuple(B, arr(ObjStrAny))));
def('crypto.md5', [['x', S]], ['y', S]);
def('crypto.sha1', [['x', S]], ['y', S]);
def('crypto.sha256', [['x', S]], ['y', S]);
def('crypto.x509.parse_certificate_request', [['csr', S]], out(ObjStrAny));
def('crypto.x509.parse_rsa_private_key', [['pem', S]], out(ObjStrAny));
def('crypto.x509.parse_keypair', [['cert', S], ['pem', S]], out(ObjStrAny));
def('crypto.parse_private_keys', [['keys', S]], out(arr(ObjStrAny)));
def('crypto.hmac.md5', [['x', S], ['key', S]], ['y', S]);
def('crypto.hmac.sha1', [['x', S], ['key', S]], ['y', S]);
def('crypto.hmac.sha256', [['x', S], ['key', S]], ['y', S]);
def('crypto.hmac.sha512', [['x', S], ['key', S]], ['y', S]);
def('crypto.hmac.equal', [['mac1', S], ['mac2', S]], res(B));
// Graphs
def('walk', [['x', A]], out(tuple(ArrOfAny, A)), { relation: true });
const Graph = obj(A, union(SetOfAny, ArrOfAny));
def('graph.reachable', [['graph', Graph], ['initial', union(SetOfAny, ArrOfAny)]], out(SetOfAny));
def('graph.reachable_paths', [['graph', Graph], ['initial', union(SetOfAny, ArrOfAny)]], out(set(ArrOfAny)));
// Sort
def('sort', [['collection', union(ArrOfAny, SetOfAny)]], ['n', ArrOfAny]);
// Types
for (const n of ['is_number', 'is_string', 'is_boolean', 'is_array', 'is_set', 'is_object', 'is_null']) def(n, [['x', A]], res(B));
def('type_name', [['x', A]], ['type', S]);
// HTTP
def('http.send', [['request', ObjStrAny]], ['response', ObjAny], { nondeterministic: true });
// GraphQL
const StrOrObj = union(S, ObjAny);
def('graphql.parse', [['query', StrOrObj], ['schema', StrOrObj]], out(tuple(ObjAny, ObjAny)));
def('graphql.parse_and_verify', [['query', StrOrObj], ['schema', StrOrObj]], out(tuple(B, ObjAny, ObjAny)));
def('graphql.parse_query', [['query', S]], out(ObjAny));
def('graphql.parse_schema', [['schema', S]], out(ObjAny));
def('graphql.is_valid', [['query', StrOrObj], ['schema', StrOrObj]], out(B));
def('graphql.schema_is_valid', [['schema', StrOrObj]], out(B));
// JSON Schema
def('json.verify_schema', [['schema', StrOrObj]], out(tuple(B, union(S, NL))));
def('json.match_schema', [['document', StrOrObj], ['schema', StrOrObj]], out(tuple(B, arr(objStatic([['error', S], ['type', S], ['field', S], ['desc', S]])))));
// Cloud providers
def('providers.aws.sign_req', [['request', ObjStrAny], ['aws_config', ObjStrAny], ['time_ns', N]], ['signed_request', ObjAny]);
// Rego
def('rego.parse_module', [['filename', S], ['rego', S]], out(ObjStrAny));
def('rego.metadata.chain', [], ['chain', ArrOfAny]);
def('rego.metadata.rule', [], out(A));
// OPA
def('opa.runtime', [], out(ObjStrAny), { nondeterministic: true });
// OPA's test helper (topdown/test.go); host implementation in src/rego/builtins/misc.ts
def('test.sleep', [['duration', S]], res(NL), { nondeterministic: true });
// Tracing
def('trace', [['note', S]], res(B));
// Networking
def('net.cidr_overlap', [S, S], B, { deprecated: true });
def('net.cidr_intersects', [['cidr1', S], ['cidr2', S]], res(B));
def('net.cidr_contains', [['cidr', S], ['cidr_or_ip', S]], res(B));
const CidrColl = union(S, arr(union(S, ArrOfAny)), set(union(S, ArrOfAny)), obj(S, union(S, ArrOfAny)));
def('net.cidr_contains_matches', [['cidrs', CidrColl], ['cidrs_or_ips', CidrColl]], out(set(tuple(A, A))));
def('net.cidr_expand', [['cidr', S]], ['hosts', SetOfStr]);
def('net.cidr_merge', [['addrs', union(arr(union(S)), SetOfStr)]], out(SetOfStr));
def('net.lookup_ip_addr', [['name', S]], ['addrs', SetOfStr], { nondeterministic: true });
def('net.cidr_is_valid', [['cidr', S]], res(B));
// Glob
def('glob.match', [['pattern', S], ['delimiters', union(ArrOfStr, NL)], ['match', S]], res(B));
def('glob.quote_meta', [['pattern', S]], out(S));
// Units
def('units.parse', [['x', S]], ['y', N]);
def('units.parse_bytes', [['x', S]], ['y', N]);
// UUIDs
def('uuid.rfc4122', [['k', S]], out(S), { nondeterministic: true });
def('uuid.parse', [['uuid', S]], res(ObjStrAny));
// SemVer
def('semver.is_valid', [['vsn', A]], res(B));
def('semver.compare', [['a', S], ['b', S]], res(N));
// Printing
def('print', [], undefined, { variadic: A });
def('internal.print', [arr(SetOfAny)], undefined);
// Testing
def('internal.test_case', [ArrOfAny], undefined);

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

// ---------------------------------------------------------------- declarations as function types

const declCache = new Map<Builtin, FunctionType>();

/** The builtin's declaration as a function type (OPA's Builtin.Decl), argument/result names kept. */
export function builtinDecl(b: Builtin): FunctionType {
  let f = declCache.get(b);
  if (!f) {
    f = { kind: 'function', args: b.args.map((a) => a.type), argNames: b.args.map((a) => a.name) };
    if (b.result) {
      f.result = b.result;
      if (b.resultName) f.resultName = b.resultName;
    }
    if (b.variadic) f.variadic = b.variadic;
    declCache.set(b, f);
  }
  return f;
}

/** `(x: number, y: number)` as OPA prints a builtin's wanted arguments (NamedFuncArgs). */
export function wantString(b: Builtin): string {
  return funcArgsString(builtinDecl(b), false);
}
