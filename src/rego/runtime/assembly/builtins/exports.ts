// The builtin table: each export `__rt_b_<name>` (OPA name, `.` written `__`) is a builtin
// the runtime implements natively; the back end calls it directly when the arity matches.
// Any builtin without an export here goes to the host through opa_builtinN. To add builtins,
// write them in their own module under builtins/ and list them here.
export { b_equal as __rt_b_equal, b_neq as __rt_b_neq, b_lt as __rt_b_lt, b_lte as __rt_b_lte, b_gt as __rt_b_gt, b_gte as __rt_b_gte } from "./compare";
export { b_plus as __rt_b_plus, b_minus as __rt_b_minus, b_mul as __rt_b_mul, b_div as __rt_b_div, b_rem as __rt_b_rem, b_abs as __rt_b_abs, b_round as __rt_b_round, b_ceil as __rt_b_ceil, b_floor as __rt_b_floor } from "./arith";
export { b_count as __rt_b_count, b_sum as __rt_b_sum, b_product as __rt_b_product, b_max as __rt_b_max, b_min as __rt_b_min, b_sort as __rt_b_sort } from "./aggregates";
export {
  b_startswith as __rt_b_startswith, b_endswith as __rt_b_endswith, b_contains as __rt_b_contains,
  b_lower as __rt_b_lower, b_upper as __rt_b_upper, b_concat as __rt_b_concat, b_split as __rt_b_split,
  b_trim as __rt_b_trim, b_trim_left as __rt_b_trim_left, b_trim_right as __rt_b_trim_right,
  b_trim_space as __rt_b_trim_space, b_trim_prefix as __rt_b_trim_prefix, b_trim_suffix as __rt_b_trim_suffix,
  b_indexof as __rt_b_indexof, b_indexof_n as __rt_b_indexof_n, b_substring as __rt_b_substring,
  b_replace as __rt_b_replace, b_strings__reverse as __rt_b_strings__reverse, b_strings__count as __rt_b_strings__count,
} from "./strings";
export {
  b_is_number as __rt_b_is_number, b_is_string as __rt_b_is_string, b_is_boolean as __rt_b_is_boolean,
  b_is_array as __rt_b_is_array, b_is_set as __rt_b_is_set, b_is_object as __rt_b_is_object,
  b_is_null as __rt_b_is_null, b_type_name as __rt_b_type_name,
} from "./types";
export {
  b_and as __rt_b_and, b_or as __rt_b_or, b_intersection as __rt_b_intersection, b_union as __rt_b_union,
  b_internal__member_2 as __rt_b_internal__member_2, b_internal__member_3 as __rt_b_internal__member_3,
  b_object__get as __rt_b_object__get, b_object__keys as __rt_b_object__keys, b_object__remove as __rt_b_object__remove,
  b_object__filter as __rt_b_object__filter, b_object__union as __rt_b_object__union, b_object__union_n as __rt_b_object__union_n,
  b_object__subset as __rt_b_object__subset,
  b_array__concat as __rt_b_array__concat, b_array__slice as __rt_b_array__slice, b_array__reverse as __rt_b_array__reverse,
} from "./collections";
export {
  b_to_number as __rt_b_to_number, b_format_int as __rt_b_format_int, b_numbers__range as __rt_b_numbers__range,
  b_numbers__range_step as __rt_b_numbers__range_step,
  b_bits__or as __rt_b_bits__or, b_bits__and as __rt_b_bits__and, b_bits__xor as __rt_b_bits__xor,
  b_bits__negate as __rt_b_bits__negate, b_bits__lsh as __rt_b_bits__lsh, b_bits__rsh as __rt_b_bits__rsh,
  b_json__marshal as __rt_b_json__marshal, b_json__unmarshal as __rt_b_json__unmarshal,
  b_internal__template_string as __rt_b_internal__template_string,
} from "./misc";
export {
  b_base64__encode as __rt_b_base64__encode, b_base64__decode as __rt_b_base64__decode, b_base64__is_valid as __rt_b_base64__is_valid,
  b_base64url__encode as __rt_b_base64url__encode, b_base64url__encode_no_pad as __rt_b_base64url__encode_no_pad,
  b_base64url__decode as __rt_b_base64url__decode, b_hex__encode as __rt_b_hex__encode, b_hex__decode as __rt_b_hex__decode,
  b_urlquery__encode as __rt_b_urlquery__encode, b_urlquery__decode as __rt_b_urlquery__decode,
  b_urlquery__encode_object as __rt_b_urlquery__encode_object, b_urlquery__decode_object as __rt_b_urlquery__decode_object,
} from "./encoding";
export {
  b_crypto__md5 as __rt_b_crypto__md5, b_crypto__sha1 as __rt_b_crypto__sha1, b_crypto__sha256 as __rt_b_crypto__sha256,
  b_crypto__hmac__md5 as __rt_b_crypto__hmac__md5, b_crypto__hmac__sha1 as __rt_b_crypto__hmac__sha1,
  b_crypto__hmac__sha256 as __rt_b_crypto__hmac__sha256, b_crypto__hmac__sha512 as __rt_b_crypto__hmac__sha512,
  b_crypto__hmac__equal as __rt_b_crypto__hmac__equal,
} from "./crypto";
export { b_json__filter as __rt_b_json__filter, b_json__remove as __rt_b_json__remove, b_json__patch as __rt_b_json__patch } from "./jsonpath";
export { b_walk as __rt_b_walk, b_graph__reachable as __rt_b_graph__reachable, b_graph__reachable_paths as __rt_b_graph__reachable_paths } from "./graph";
export {
  b_strings__replace_n as __rt_b_strings__replace_n, b_strings__any_prefix_match as __rt_b_strings__any_prefix_match,
  b_strings__any_suffix_match as __rt_b_strings__any_suffix_match, b_array__flatten as __rt_b_array__flatten,
  b_json__marshal_with_options as __rt_b_json__marshal_with_options, b_json__is_valid as __rt_b_json__is_valid,
} from "./strings2";
export { b_sprintf as __rt_b_sprintf } from "./sprintf";
