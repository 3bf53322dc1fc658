// Rendering of AST nodes as OPA's String() methods do (v1/ast/term.go, policy.go). The one
// printer of the toolchain: error messages quote it, so the output must match OPA's text:
// `data.test.p`, `input.x[i]`, `data["a-b"]`, `x = 1` (the only infix form), `plus(a, b)`,
// `not f(x) with input as 1`, `set()`, sets and objects in OPA's key order.
import { compareTerms, sortTerms } from './compare.js';
import type { Body, Every, Expr, Head, Import, Module, Package, Rule, SomeDecl, Term, Value, With } from './types.js';

const KEYWORDS = new Set([
  'as', 'default', 'else', 'false', 'import', 'not', 'null', 'package', 'some', 'true', 'with',
  'contains', 'every', 'if', 'in',
]);

const VAR_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Go's strconv.Quote, closely enough: printable characters stay, others are escaped. */
export function quoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0x80 && (/[\p{C}\p{Z}]/u.test(ch) && c !== 0x20)) {
      out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

export function termToString(t: Term): string {
  return valueToString(t.value);
}

export function varToString(name: string): string {
  return name.startsWith('$') ? '_' : name;
}

/** OPA's Ref.String(): `data.a["b-c"][x]` (a string that is not a plain name is bracketed as is). */
export function refToString(ref: Term[]): string {
  if (ref.length === 0) return '';
  let s = termToString(ref[0]!);
  for (let i = 1; i < ref.length; i++) {
    const p = ref[i]!;
    if (p.value.type === 'string') {
      const str = p.value.value;
      s += VAR_RE.test(str) && !KEYWORDS.has(str) ? '.' + str : '["' + str + '"]';
    } else s += '[' + termToString(p) + ']';
  }
  return s;
}

export function valueToString(v: Value): string {
  switch (v.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return v.value ? 'true' : 'false';
    case 'number':
      return v.value;
    case 'string':
      return quoteString(v.value);
    case 'var':
      return varToString(v.value);
    case 'ref':
      return refToString(v.value);
    case 'array':
      return '[' + v.value.map(termToString).join(', ') + ']';
    case 'object':
      return '{' + [...v.value].sort((a, b) => compareTerms(a[0], b[0])).map(([k, x]) => `${termToString(k)}: ${termToString(x)}`).join(', ') + '}';
    case 'set':
      if (v.value.length === 0) return 'set()';
      return '{' + sortTerms(v.value).map(termToString).join(', ') + '}';
    case 'arraycomprehension':
      return `[${termToString(v.term)} | ${bodyToString(v.body)}]`;
    case 'setcomprehension':
      return `{${termToString(v.term)} | ${bodyToString(v.body)}}`;
    case 'objectcomprehension':
      return `{${termToString(v.key)}: ${termToString(v.value)} | ${bodyToString(v.body)}}`;
    case 'call':
      return `${termToString(v.value[0]!)}(${v.value.slice(1).map(termToString).join(', ')})`;
    case 'templatestring': {
      const q = v.multiLine ? '`' : '"';
      let s = '$' + q;
      for (const p of v.parts) {
        if (p.kind === 'text') {
          const esc = v.multiLine ? p.value : quoteString(p.value).slice(1, -1);
          s += esc.replace(/\{/g, '\\{');
        } else s += '{' + exprToString(p.expr) + '}';
      }
      return s + q;
    }
  }
}

export function bodyToString(body: Body): string {
  return body.map(exprToString).join('; ');
}

export function withToString(w: With): string {
  return `with ${termToString(w.target)} as ${termToString(w.value)}`;
}

function someToString(d: SomeDecl): string {
  const first = d.symbols[0];
  if (first && first.value.type === 'call') {
    const c = first.value.value;
    if (c.length === 4) return `some ${termToString(c[1]!)}, ${termToString(c[2]!)} in ${termToString(c[3]!)}`;
    return `some ${termToString(c[1]!)} in ${termToString(c[2]!)}`;
  }
  return 'some ' + d.symbols.map(termToString).join(', ');
}

function everyToString(e: Every): string {
  if (e.key) return `every ${termToString(e.key)}, ${termToString(e.value)} in ${termToString(e.domain)} { ${bodyToString(e.body)} }`;
  return `every ${termToString(e.value)} in ${termToString(e.domain)} { ${bodyToString(e.body)} }`;
}

export function exprToString(expr: Expr): string {
  const buf: string[] = [];
  if (expr.negated) buf.push('not');
  const t = expr.terms;
  if (Array.isArray(t)) {
    const op = t[0];
    const isEq = op && op.value.type === 'ref' && op.value.value.length === 1 &&
      op.value.value[0]!.value.type === 'var' && op.value.value[0]!.value.value === 'eq';
    if (isEq && t.length === 3) buf.push(`${termToString(t[1]!)} = ${termToString(t[2]!)}`);
    else buf.push(valueToString({ type: 'call', value: t }));
  } else if ('type' in t) {
    buf.push(t.type === 'some' ? someToString(t) : everyToString(t));
  } else {
    buf.push(termToString(t));
  }
  for (const w of expr.with) buf.push(withToString(w));
  return buf.join(' ');
}

/** Head as OPA prints it in v1 syntax: `p`, `a.b[x] contains y`, `f(x) := y`. */
export function headToString(h: Head): string {
  let s = refToString(h.reference.length > 0 ? h.reference : [{ value: { type: 'var', value: h.name } }]);
  let containsAdded = false;
  if (h.args && h.args.length > 0) s += '(' + h.args.map(termToString).join(', ') + ')';
  else if (h.reference.length === 1 && h.key) {
    containsAdded = true;
    s += ' contains ' + termToString(h.key);
  }
  if (h.value) s += (h.assign ? ' := ' : ' = ') + termToString(h.value);
  else if (!containsAdded && h.name === '' && h.key) s += ' contains ' + termToString(h.key);
  return s;
}

export function ruleToString(r: Rule): string {
  const buf: string[] = [];
  if (r.default) buf.push('default');
  buf.push(headToString(r.head));
  if (!r.default) buf.push('if', '{', bodyToString(r.body), '}');
  for (let e = r.else; e; e = e.else) {
    buf.push('else');
    if (e.head.value) buf.push('=', termToString(e.head.value));
    buf.push('if', '{', bodyToString(e.body), '}');
  }
  return buf.join(' ');
}

/** OPA's Package.String(): `package a.b` (the `data` head omitted). */
export function packageToString(pkg: Package): string {
  const first = pkg.path[1];
  if (!first || first.value.type !== 'string') return `package <illegal path ${refToString(pkg.path)}>`;
  return 'package ' + refToString([{ value: { type: 'var', value: first.value.value } }, ...pkg.path.slice(2)]);
}

/** OPA's Import.String(): `data.foo.bar as baz`. */
export function importToString(imp: Import): string {
  return termToString(imp.path) + (imp.alias ? ` as ${imp.alias}` : '');
}

/**
 * OPA's Module.String() for a v1 module: the package, the imports, then one rule per line
 * (annotations are not printed). Shows compiled modules the way OPA's debug output does.
 */
export function moduleToString(m: Module): string {
  const lines = [packageToString(m.package)];
  if (m.imports.length > 0) lines.push('', ...m.imports.map((i) => 'import ' + importToString(i)));
  if (m.rules.length > 0) lines.push('', ...m.rules.map(ruleToString));
  return lines.join('\n');
}
