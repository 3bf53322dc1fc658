// The builtin table: each export `__rt_b_<name>` (OPA name, `.` written `__`) is a builtin
// the runtime implements natively. Add new builtins in their own module and list them here.
export { b_equal as __rt_b_equal, b_equal as __rt_b_eq, b_neq as __rt_b_neq, b_lt as __rt_b_lt, b_lte as __rt_b_lte, b_gt as __rt_b_gt, b_gte as __rt_b_gte } from "./compare";
export { b_plus as __rt_b_plus, b_minus as __rt_b_minus, b_mul as __rt_b_mul, b_div as __rt_b_div, b_rem as __rt_b_rem, b_abs as __rt_b_abs, b_round as __rt_b_round, b_ceil as __rt_b_ceil, b_floor as __rt_b_floor } from "./arith";
