// regex.* with Go RE2 semantics (OPA's topdown/regex.go). regex.split is also one of the SDK's own
// (JavaScript RegExp) builtins, which shadow customBuiltins: policies reach ours through its
// private alias (HOST_BUILTIN_ALIASES).
import { builtinError, int, str } from './errors.js';
import { compileGo, goSplit, goFindAll, goFindAllSubmatch, goMatch, goQuoteMeta, goReplaceAll, type GoRegexp } from './re2.js';
import { globsIntersect } from './glob-intersection.js';
import type { BuiltinTable } from './types.js';

function regexp(name: string, pattern: string): GoRegexp {
  try {
    return compileGo(pattern);
  } catch (err) {
    throw builtinError(name, (err as Error).message);
  }
}

function isValid(pattern: unknown): boolean {
  if (typeof pattern !== 'string') return false;
  try {
    compileGo(pattern);
    return true;
  } catch {
    return false;
  }
}

function match(name: string) {
  return (pattern: unknown, value: unknown): boolean => {
    const p = str(name, pattern, 1);
    const v = str(name, value, 2);
    return goMatch(regexp(name, p), v);
  };
}

/** Builds `^quoted(var)quoted...$` from a template such as `urn:foo:{.*}` (gorilla/mux style). */
export function templateToRegexp(name: string, template: string, open: string, close: string): string {
  const idxs: number[] = [];
  let level = 0;
  let startIdx = 0;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === open) {
      if (++level === 1) startIdx = i;
    } else if (c === close) {
      if (--level === 0) idxs.push(startIdx, i + 1);
      else if (level < 0) throw builtinError(name, `unbalanced braces in ${JSON.stringify(template)}`);
    }
  }
  if (level !== 0) throw builtinError(name, `unbalanced braces in ${JSON.stringify(template)}`);
  let pattern = '^';
  let end = 0;
  for (let i = 0; i < idxs.length; i += 2) {
    const raw = template.slice(end, idxs[i]);
    end = idxs[i + 1];
    pattern += `${goQuoteMeta(raw)}(${template.slice(idxs[i] + 1, end - 1)})`;
  }
  return `${pattern}${goQuoteMeta(template.slice(end))}$`;
}

export const regexBuiltins: BuiltinTable = {
  'regex.is_valid': isValid,
  'regex.match': match('regex.match'),
  re_match: match('re_match'),
  'regex.split': (pattern, value) => {
    const name = 'regex.split';
    const p = str(name, pattern, 1);
    const v = str(name, value, 2);
    return goSplit(regexp(name, p), p, v);
  },
  'regex.find_n': (pattern, value, n) => {
    const name = 'regex.find_n';
    const p = str(name, pattern, 1);
    const v = str(name, value, 2);
    const count = int(name, n, 3);
    return goFindAll(regexp(name, p), v, count);
  },
  'regex.find_all_string_submatch_n': (pattern, value, n) => {
    const name = 'regex.find_all_string_submatch_n';
    const p = str(name, pattern, 1);
    const v = str(name, value, 2);
    const count = int(name, n, 3);
    return goFindAllSubmatch(regexp(name, p), v, count);
  },
  'regex.replace': (s, pattern, value) => {
    const name = 'regex.replace';
    const base = str(name, s, 1);
    const p = str(name, pattern, 2);
    const repl = str(name, value, 3);
    return goReplaceAll(regexp(name, p), base, repl);
  },
  'regex.template_match': (template, value, start, end) => {
    const name = 'regex.template_match';
    const t = str(name, template, 1);
    const v = str(name, value, 2);
    const open = str(name, start, 3);
    const close = str(name, end, 4);
    // OPA counts bytes; the message for a bad end delimiter reports the start's length (as OPA does).
    const len = (x: string) => Buffer.byteLength(x, 'utf8');
    if (len(open) !== 1) throw builtinError(name, `start delimiter has to be exactly one character long but is ${len(open)} long`);
    if (len(close) !== 1) throw builtinError(name, `end delimiter has to be exactly one character long but is ${len(open)} long`);
    return goMatch(regexp(name, templateToRegexp(name, t, open, close)), v);
  },
  'regex.globs_match': (a, b) => {
    const name = 'regex.globs_match';
    const g1 = str(name, a, 1);
    const g2 = str(name, b, 2);
    try {
      return globsIntersect(g1, g2);
    } catch (err) {
      throw builtinError(name, (err as Error).message);
    }
  },
};
