// strings.replace_n, strings.any_prefix_match, strings.any_suffix_match, array.flatten,
// json.marshal_with_options.
import {
  STRING, ARRAY, SET, OBJECT, BOOLEAN, kindOf, boolOf, makeBool, makeString, strLen, strPtr, collLen, collKey, collVal,
  makeArray, arrAppend, arrLen, arrGet,
} from "../value";
import { collGet } from "../collection";
import { collSort } from "../compare";
import { malloc } from "../alloc";
import { jsonDumpString, jsonParse } from "../json";
import { typeError, typeNameOf } from "./util";
import { operandErr, operandErrBegin, elementErr, needString, errStr, errBytes, errAbort } from "./errs";

// ---------------------------------------------------------------- strings.replace_n

/**
 * Go's strings.NewReplacer over the pattern keys in OPA's (sorted) order: at each position
 * the first key that matches wins, which for keys that are prefixes of one another is the
 * shortest. An empty key matches between every byte, as in Go's generic replacer.
 */
export function b_strings__replace_n(patterns: usize, s: usize): usize {
  if (kindOf(patterns) != OBJECT) typeError("strings.replace_n", 1, "object", patterns);
  needString("strings.replace_n", 2, s);
  collSort(patterns);
  let np = collLen(patterns);
  let maxNew: usize = 0;
  let hasEmpty = false;
  for (let i = 0; i < np; i++) {
    let k = collKey(patterns, i);
    if (kindOf(k) != STRING) operandErr("strings.replace_n", 1, "non-string key found in pattern object");
    let v = collVal(patterns, i);
    if (kindOf(v) != STRING) operandErr("strings.replace_n", 1, "non-string value found in pattern object");
    if (strLen(v) > maxNew) maxNew = strLen(v);
    if (strLen(k) == 0) hasEmpty = true;
  }
  let p = strPtr(s), n = strLen(s);
  // two passes: measure, then write
  let total: usize = 0;
  for (let pass = 0; pass < 2; pass++) {
    let out: usize = pass == 1 ? malloc(total) : 0;
    let o: usize = 0;
    let i: usize = 0;
    let prevEmpty = false;
    while (i <= n) {
      let hit = -1;
      if (hasEmpty && !prevEmpty) hit = 0; // "" sorts first: highest priority
      else {
        for (let j = 0; j < np; j++) {
          let k = collKey(patterns, j);
          let kl = strLen(k);
          if (kl == 0 || kl > n - i) continue;
          if (memory.compare(p + i, strPtr(k), kl) == 0) { hit = j; break; }
        }
      }
      if (hit >= 0) {
        let v = collVal(patterns, hit);
        if (pass == 1) memory.copy(out + o, strPtr(v), strLen(v));
        o += strLen(v);
        let kl = strLen(collKey(patterns, hit));
        prevEmpty = kl == 0;
        i += kl;
        continue;
      }
      prevEmpty = false;
      if (i < n) { if (pass == 1) store<u8>(out + o, load<u8>(p + i)); o++; }
      i++;
    }
    if (pass == 0) total = o;
    else return makeString(out, o);
  }
  return 0;
}

// ---------------------------------------------------------------- any_prefix/suffix_match

/** Checks the operand (string, or array/set of strings); returns the element count. */
function strList(fn: string, operand: i32, v: usize): i32 {
  let k = kindOf(v);
  if (k == STRING) return 1;
  if (k != ARRAY && k != SET) {
    operandErrBegin(fn, operand);
    errStr("must be one of {string, set, array} but got ");
    errStr(typeNameOf(k));
    errAbort();
  }
  if (k == SET) collSort(v);
  let n = k == ARRAY ? arrLen(v) : collLen(v);
  for (let i = 0; i < n; i++) {
    let e = k == ARRAY ? arrGet(v, i) : collKey(v, i);
    if (kindOf(e) != STRING) elementErr(fn, operand, v, e, "string");
  }
  return n;
}

@inline function strItem(v: usize, i: i32): usize {
  let k = kindOf(v);
  return k == STRING ? v : (k == ARRAY ? arrGet(v, i) : collKey(v, i));
}

function anyMatch(fn: string, a: usize, b: usize, suffix: bool): usize {
  let na = strList(fn, 1, a), nb = strList(fn, 2, b);
  for (let i = 0; i < na; i++) {
    let s = strItem(a, i);
    let sl = strLen(s);
    for (let j = 0; j < nb; j++) {
      let t = strItem(b, j);
      let tl = strLen(t);
      if (tl > sl) continue;
      let at = suffix ? strPtr(s) + sl - tl : strPtr(s);
      if (memory.compare(at, strPtr(t), tl) == 0) return makeBool(true);
    }
  }
  return makeBool(false);
}

export function b_strings__any_prefix_match(a: usize, b: usize): usize { return anyMatch("strings.any_prefix_match", a, b, false); }
export function b_strings__any_suffix_match(a: usize, b: usize): usize { return anyMatch("strings.any_suffix_match", a, b, true); }

// ---------------------------------------------------------------- array.flatten

/** One level only, as OPA. */
function flattenInto(out: usize, a: usize): void {
  let n = arrLen(a);
  for (let i = 0; i < n; i++) {
    let e = arrGet(a, i);
    if (kindOf(e) == ARRAY) { let m = arrLen(e); for (let j = 0; j < m; j++) arrAppend(out, arrGet(e, j)); }
    else arrAppend(out, e);
  }
}

export function b_array__flatten(a: usize): usize {
  if (kindOf(a) != ARRAY) typeError("array.flatten", 1, "array", a);
  let r = makeArray(arrLen(a));
  flattenInto(r, a);
  return r;
}

// ---------------------------------------------------------------- json.marshal_with_options

function litIs(v: usize, s: string): bool {
  let n = <usize>s.length;
  if (strLen(v) != n) return false;
  for (let i: usize = 0; i < n; i++) if (<i32>load<u8>(strPtr(v) + i) != s.charCodeAt(<i32>i)) return false;
  return true;
}

/** Go's json.Indent applied to compact JSON text, with OPA's prefix before the first line. */
function indentJson(p: usize, n: usize, pre: usize, ind: usize): usize {
  let pl = strLen(pre), il = strLen(ind);
  // measure depth-weighted size: each newline costs prefix + depth * indent
  let total: usize = pl;
  let depth: usize = 0;
  let inStr = false;
  for (let pass = 0; pass < 2; pass++) {
    let out: usize = pass == 1 ? malloc(total) : 0;
    let o: usize = 0;
    depth = 0; inStr = false;
    if (pass == 1) memory.copy(out, strPtr(pre), pl);
    o = pl;
    for (let i: usize = 0; i < n; i++) {
      let c = load<u8>(p + i);
      if (inStr) {
        if (pass == 1) store<u8>(out + o, c);
        o++;
        if (c == 92 && i + 1 < n) { i++; if (pass == 1) store<u8>(out + o, load<u8>(p + i)); o++; }
        else if (c == 34) inStr = false;
        continue;
      }
      if (c == 34) { inStr = true; if (pass == 1) store<u8>(out + o, c); o++; continue; }
      if (c == 123 || c == 91) {
        if (pass == 1) store<u8>(out + o, c);
        o++;
        if (i + 1 < n && (load<u8>(p + i + 1) == 125 || load<u8>(p + i + 1) == 93)) {
          i++; if (pass == 1) store<u8>(out + o, load<u8>(p + i)); o++;
          continue;
        }
        depth++;
        o = newline(out, o, pass, pre, ind, depth);
        continue;
      }
      if (c == 125 || c == 93) {
        depth--;
        o = newline(out, o, pass, pre, ind, depth);
        if (pass == 1) store<u8>(out + o, c);
        o++;
        continue;
      }
      if (c == 44) { if (pass == 1) store<u8>(out + o, c); o++; o = newline(out, o, pass, pre, ind, depth); continue; }
      if (c == 58) { if (pass == 1) { store<u8>(out + o, 58); store<u8>(out + o + 1, 32); } o += 2; continue; }
      if (pass == 1) store<u8>(out + o, c);
      o++;
    }
    if (pass == 0) total = o;
    else return makeString(out, o);
  }
  return 0;
}

function newline(out: usize, o: usize, pass: i32, pre: usize, ind: usize, depth: usize): usize {
  if (pass == 1) store<u8>(out + o, 10);
  o++;
  if (pass == 1) memory.copy(out + o, strPtr(pre), strLen(pre));
  o += strLen(pre);
  for (let d: usize = 0; d < depth; d++) {
    if (pass == 1) memory.copy(out + o, strPtr(ind), strLen(ind));
    o += strLen(ind);
  }
  return o;
}

const TAB = memory.data<u8>([9]);

export function b_json__marshal_with_options(v: usize, opts: usize): usize {
  const fn = "json.marshal_with_options";
  if (kindOf(opts) != OBJECT) typeError(fn, 2, "object", opts);
  let prefix = makeString(TAB, 0);
  let indent = makeString(TAB, 1);
  let implicit = false, explicitSet = false, pretty = false;
  collSort(opts);
  let n = collLen(opts);
  for (let i = 0; i < n; i++) {
    let k = collKey(opts, i), val = collVal(opts, i);
    if (kindOf(k) != STRING) operandErr(fn, 2, "failed to stringify key");
    if (litIs(k, "prefix")) {
      if (kindOf(val) != STRING) operandErr(fn, 2, "key prefix failed cast to string");
      prefix = val; implicit = true;
    } else if (litIs(k, "indent")) {
      if (kindOf(val) != STRING) operandErr(fn, 2, "key indent failed cast to string");
      indent = val; implicit = true;
    } else if (litIs(k, "pretty")) {
      explicitSet = true;
      if (kindOf(val) != BOOLEAN) operandErr(fn, 2, "key pretty failed cast to bool");
      pretty = boolOf(val);
    } else {
      operandErrBegin(fn, 2);
      errStr("object contained unknown key ");
      errBytes(strPtr(k), strLen(k));
      errAbort();
    }
  }
  if (!explicitSet) pretty = implicit;
  let compact = jsonDumpString(v);
  if (!pretty) return compact;
  return indentJson(strPtr(compact), strLen(compact), prefix, indent);
}

export { collGet };

// ---------------------------------------------------------------- json.is_valid

/** json.is_valid: false for non-strings (OPA), otherwise whether the text is one JSON document. */
export function b_json__is_valid(s: usize): usize {
  if (kindOf(s) != STRING) return makeBool(false);
  return makeBool(jsonParse(strPtr(s), strLen(s)) != 0);
}
