// glob.match / glob.quote_meta with github.com/gobwas/glob semantics as OPA uses them: `*` matches
// any run of non-delimiter characters, `**` any run at all, `?` one non-delimiter character,
// `[abc]`, `[a-z]`, `[!...]` character classes, `{a,b}` alternatives, `\` escapes. The pattern is
// translated once into a JS regular expression (we generate it, so JS syntax is safe here).
import { builtinError, elementError, str, typeError } from './errors.js';
import type { BuiltinTable } from './types.js';

const cache = new Map<string, RegExp>();
const CACHE_MAX = 200;

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function classEscape(c: string): string {
  return /[\\\]^-]/.test(c) ? `\\${c}` : c;
}

export function globToRegExp(pattern: string, delimiters: string[]): RegExp {
  const chars = [...pattern];
  const notSep = delimiters.length === 0 ? '[^]' : `[^${delimiters.map(classEscape).join('')}]`;
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(msg);
  };

  // Parses a sequence until `stop` characters (inside `{}`) or the end.
  function seq(inTerms: boolean): string {
    let out = '';
    while (i < chars.length) {
      const c = chars[i];
      if (inTerms && (c === ',' || c === '}')) return out;
      i++;
      switch (c) {
        case '\\':
          if (i >= chars.length) fail('unexpected end of input: escape at end of pattern');
          out += escapeChar(chars[i++]);
          break;
        case '*':
          if (chars[i] === '*') {
            while (chars[i] === '*') i++;
            out += '[^]*';
          } else out += `${notSep}*`;
          break;
        case '?':
          out += notSep;
          break;
        case '[': {
          let negate = false;
          if (chars[i] === '!') {
            negate = true;
            i++;
          }
          let cls = '';
          let closed = false;
          while (i < chars.length) {
            const d = chars[i++];
            if (d === ']') {
              closed = true;
              break;
            }
            if (d === '\\' && i < chars.length) {
              cls += classEscape(chars[i++]);
              continue;
            }
            if (chars[i] === '-' && i + 1 < chars.length && chars[i + 1] !== ']') {
              const hi = chars[i + 1];
              if (hi < d) fail(`invalid range: ${d}-${hi}`);
              cls += `${classEscape(d)}-${classEscape(hi)}`;
              i += 2;
              continue;
            }
            cls += classEscape(d);
          }
          if (!closed) fail('unexpected end of input: unclosed [');
          if (cls === '') fail('empty character class');
          out += negate ? `[^${cls}]` : `[${cls}]`;
          break;
        }
        case '{': {
          const alts: string[] = [];
          for (;;) {
            alts.push(seq(true));
            if (i >= chars.length) fail('unexpected end of input: unclosed {');
            const d = chars[i++];
            if (d === '}') break;
          }
          out += `(?:${alts.join('|')})`;
          break;
        }
        default:
          out += escapeChar(c);
      }
    }
    return out;
  }

  const body = seq(false);
  return new RegExp(`^(?:${body})$`, 'u');
}

function compiled(pattern: string, delimiters: string[]): RegExp {
  const key = `${pattern}\u0000${delimiters.join('')}`;
  let re = cache.get(key);
  if (!re) {
    re = globToRegExp(pattern, delimiters);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, re);
  }
  return re;
}

/** gobwas QuoteMeta: escapes `* ? \ [ ] { }`. */
export function globQuoteMeta(s: string): string {
  return s.replace(/[*?\\[\]{}]/g, '\\$&');
}

export const globBuiltins: BuiltinTable = {
  'glob.match': (pattern, delimiters, match) => {
    const name = 'glob.match';
    const p = str(name, pattern, 1);
    let delims: string[];
    if (delimiters === null) delims = [];
    else if (Array.isArray(delimiters)) {
      delims = delimiters.map((d) => {
        if (typeof d !== 'string') throw elementError(name, 2, delimiters, d, 'string');
        if ([...d].length !== 1) throw elementError(name, 2, delimiters, d, 'rune');
        return d;
      });
      if (delims.length === 0) delims = ['.'];
    } else throw typeError(name, 2, delimiters, 'array', 'null');
    const m = str(name, match, 3);
    let re: RegExp;
    try {
      re = compiled(p, delims);
    } catch (err) {
      throw builtinError(name, (err as Error).message);
    }
    return re.test(m);
  },
  'glob.quote_meta': (pattern) => globQuoteMeta(str('glob.quote_meta', pattern, 1)),
};
