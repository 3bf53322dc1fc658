// Go regexp (RE2) semantics through re2js, a pure-JS port of RE2: the same accepted syntax and the
// same leftmost-first matching as Go's `regexp` package, which OPA uses.
import { RE2JS } from 're2js';

type RE2 = ReturnType<RE2JS['re2']>;

export interface GoRegexp {
  re: RE2;
  named: Record<string, number>;
}

const cache = new Map<string, GoRegexp | Error>();
const CACHE_MAX = 200;

/** Compiles like Go's regexp.Compile; the error text is Go's (`error parsing regexp: ...`). */
export function compileGo(pattern: string): GoRegexp {
  let hit = cache.get(pattern);
  if (hit === undefined) {
    try {
      const compiled = RE2JS.compile(pattern);
      hit = { re: compiled.re2(), named: compiled.namedGroups() };
    } catch (err) {
      hit = new Error(err instanceof Error ? err.message : String(err));
    }
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, hit);
  }
  if (hit instanceof Error) throw hit;
  return hit;
}

export function goMatch(g: GoRegexp, s: string): boolean {
  return g.re.match(s);
}

/** FindAllString(s, n): n < 0 means all. */
export function goFindAll(g: GoRegexp, s: string, n: number): string[] {
  if (n === 0) return [];
  return (g.re.findAll(s, n < 0 ? s.length + 1 : n) ?? []) as string[];
}

/** FindAllStringSubmatch(s, n); groups that did not take part are "" as in Go. */
export function goFindAllSubmatch(g: GoRegexp, s: string, n: number): string[][] {
  if (n === 0) return [];
  const all = (g.re.findAllSubmatch(s, n < 0 ? s.length + 1 : n) ?? []) as Array<Array<string | null>>;
  return all.map((m) => m.map((x) => x ?? ''));
}

/** Go's Regexp.Split(s, -1). */
export function goSplit(g: GoRegexp, pattern: string, s: string): string[] {
  if (pattern !== '' && s === '') return [''];
  const matches = (g.re.findAllSubmatchIndex(s, s.length + 1) ?? []) as number[][];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of matches) {
    end = m[0];
    if (m[1] !== 0) out.push(s.slice(beg, end));
    beg = m[1];
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** ReplaceAllString(src, repl) with Go's `$1`, `${name}`, `$$` expansion. */
export function goReplaceAll(g: GoRegexp, src: string, repl: string): string {
  const matches = (g.re.findAllSubmatchIndex(src, src.length + 1) ?? []) as number[][];
  let out = '';
  let last = 0;
  for (const m of matches) {
    out += src.slice(last, m[0]);
    out += expand(g, repl, src, m);
    last = m[1];
  }
  return out + src.slice(last);
}

function isNameChar(c: string): boolean {
  return /[\p{L}\p{Nd}_]/u.test(c);
}

// Go's Regexp.expand.
function expand(g: GoRegexp, template: string, src: string, m: number[]): string {
  let out = '';
  let t = template;
  for (;;) {
    const i = t.indexOf('$');
    if (i < 0) break;
    out += t.slice(0, i);
    t = t.slice(i + 1);
    if (t.startsWith('$')) {
      out += '$';
      t = t.slice(1);
      continue;
    }
    const ex = extractName(t);
    if (!ex) {
      out += '$'; // malformed: the `$` is kept as text
      continue;
    }
    t = ex.rest;
    let idx = ex.num;
    if (idx < 0) idx = g.named[ex.name] ?? -1;
    if (idx >= 0 && 2 * idx + 1 < m.length && m[2 * idx] >= 0) out += src.slice(m[2 * idx], m[2 * idx + 1]);
  }
  return out + t;
}

function extractName(t: string): { name: string; num: number; rest: string } | undefined {
  let brace = false;
  let s = t;
  if (s.startsWith('{')) {
    brace = true;
    s = s.slice(1);
  }
  const chars = [...s];
  let i = 0;
  let consumed = 0;
  while (i < chars.length && isNameChar(chars[i])) {
    consumed += chars[i].length;
    i++;
  }
  if (i === 0) return undefined;
  const name = s.slice(0, consumed);
  let rest = s.slice(consumed);
  if (brace) {
    if (!rest.startsWith('}')) return undefined;
    rest = rest.slice(1);
  }
  let num = 0;
  for (const c of name) {
    if (c < '0' || c > '9' || num >= 1e8) {
      num = -1;
      break;
    }
    num = num * 10 + (c.charCodeAt(0) - 48);
  }
  return { name, num, rest };
}

/** Go's regexp.QuoteMeta. */
export function goQuoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
