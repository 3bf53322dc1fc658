// Text of AST values as OPA's String() methods write them (v1/ast/term.go), for the few places
// where the formatter writes a term as is: bracketed ref keys, numbers, literals.
import type { Body, Expr, Term, Value } from '../ast/types.js';

export const KEYWORDS_V1 = new Set(['as', 'contains', 'default', 'else', 'every', 'false', 'if', 'in', 'import', 'not', 'null', 'package', 'some', 'true', 'with']);

const VAR_COMPATIBLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const isVarCompatible = (s: string): boolean => VAR_COMPATIBLE.test(s);

/** Go's strconv.Quote: printable characters as they are, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0x80 && c !== 0x20 && /[\p{C}\p{Z}]/u.test(ch)) out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

export const varString = (name: string): string => (name.startsWith('$') ? '_' : name);

export function refString(ref: Term[]): string {
  if (ref.length === 0) return '';
  let s = termString(ref[0]!);
  for (const p of ref.slice(1)) {
    if (p.value.type === 'string' && isVarCompatible(p.value.value) && !KEYWORDS_V1.has(p.value.value)) s += '.' + p.value.value;
    else s += '[' + termString(p) + ']';
  }
  return s;
}

export function termString(t: Term): string {
  return valueString(t.value);
}

function exprString(e: Expr): string {
  let s = e.negated ? 'not ' : '';
  const t = e.terms;
  if (Array.isArray(t)) s += `${termString(t[0]!)}(${t.slice(1).map(termString).join(', ')})`;
  else if ('type' in t && t.type === 'some') s += 'some ' + t.symbols.map(termString).join(', ');
  else if ('type' in t && t.type === 'every') s += `every ${t.key ? termString(t.key) + ', ' : ''}${termString(t.value)} in ${termString(t.domain)} { ${bodyString(t.body)} }`;
  else s += termString(t as Term);
  for (const w of e.with) s += ` with ${termString(w.target)} as ${termString(w.value)}`;
  return s;
}

const bodyString = (b: Body): string => b.map(exprString).join('; ');

export function valueString(v: Value): string {
  switch (v.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(v.value);
    case 'number':
      return v.value;
    case 'string':
      return goQuote(v.value);
    case 'var':
      return varString(v.value);
    case 'ref':
      return refString(v.value);
    case 'array':
      return '[' + v.value.map(termString).join(', ') + ']';
    case 'object':
      return '{' + v.value.map(([k, x]) => `${termString(k)}: ${termString(x)}`).join(', ') + '}';
    case 'set':
      return v.value.length === 0 ? 'set()' : '{' + v.value.map(termString).join(', ') + '}';
    case 'arraycomprehension':
      return `[${termString(v.term)} | ${bodyString(v.body)}]`;
    case 'setcomprehension':
      return `{${termString(v.term)} | ${bodyString(v.body)}}`;
    case 'objectcomprehension':
      return `{${termString(v.key)}: ${termString(v.value)} | ${bodyString(v.body)}}`;
    case 'call':
      return `${termString(v.value[0]!)}(${v.value.slice(1).map(termString).join(', ')})`;
    case 'templatestring':
      return '$"' + v.parts.map((p) => (p.kind === 'text' ? escapeTemplateText(goQuote(p.value).slice(1, -1)) : `{${exprString(p.expr)}}`)).join('') + '"';
  }
}

/** A literal part of a template string: an opening brace would start an expression. */
export const escapeTemplateText = (s: string): string => s.replace(/\{/g, '\\{');
