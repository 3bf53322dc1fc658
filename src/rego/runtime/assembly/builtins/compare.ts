// eq, equal, neq, lt, lte, gt, gte.
import { makeBool } from "../value";
import { valueCompare, valueEqual } from "../compare";

export function b_equal(a: usize, b: usize): usize { return makeBool(valueEqual(a, b)); }
export function b_neq(a: usize, b: usize): usize { return makeBool(!valueEqual(a, b)); }
export function b_lt(a: usize, b: usize): usize { return makeBool(valueCompare(a, b) < 0); }
export function b_lte(a: usize, b: usize): usize { return makeBool(valueCompare(a, b) <= 0); }
export function b_gt(a: usize, b: usize): usize { return makeBool(valueCompare(a, b) > 0); }
export function b_gte(a: usize, b: usize): usize { return makeBool(valueCompare(a, b) >= 0); }
