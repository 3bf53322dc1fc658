// is_* and type_name.
import { NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT, SET, kindOf, makeBool, strLit } from "../value";
import { typeNameOf } from "./util";

export function b_is_number(a: usize): usize { return makeBool(kindOf(a) == NUMBER); }
export function b_is_string(a: usize): usize { return makeBool(kindOf(a) == STRING); }
export function b_is_boolean(a: usize): usize { return makeBool(kindOf(a) == BOOLEAN); }
export function b_is_array(a: usize): usize { return makeBool(kindOf(a) == ARRAY); }
export function b_is_set(a: usize): usize { return makeBool(kindOf(a) == SET); }
export function b_is_object(a: usize): usize { return makeBool(kindOf(a) == OBJECT); }
export function b_is_null(a: usize): usize { return makeBool(kindOf(a) == NULL); }
export function b_type_name(a: usize): usize { return strLit(typeNameOf(kindOf(a))); }
