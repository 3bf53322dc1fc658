// regex.globs_match: whether two "globs" (OPA's regex subset: literal characters, `.`, `[...]`
// sets with ranges, `*` and `+` flags, `\` escapes) match at least one common string, following the
// semantics of github.com/yashtewari/glob-intersection, which OPA uses.

interface Token {
  any: boolean; // `.`
  set: Set<number>; // when !any: the code points accepted
  star: boolean; // zero or more (a `+` token is expanded into one plus a starred copy)
}

function invalid(input: string, pos: number, msg: string): Error {
  return new Error(`input:${input}, pos:${pos}, ${msg}: the input provided is invalid`);
}

export function tokenizeGlob(input: string): Token[] {
  const runes = [...input].map((c) => c.codePointAt(0) as number);
  const tokens: Token[] = [];
  let i = 0;
  // next rune, honouring `\` escapes
  const next = (): { r: number; escaped: boolean } | undefined => {
    if (i >= runes.length) return undefined;
    if (runes[i] === 0x5c) {
      if (i === runes.length - 1) throw invalid(input, i, 'input ends with a \\ (escape) character');
      i += 2;
      return { r: runes[i - 1], escaped: true };
    }
    return { r: runes[i++], escaped: false };
  };
  for (let n = next(); n; n = next()) {
    const ch = String.fromCodePoint(n.r);
    if (!n.escaped && (ch === '+' || ch === '*')) {
      const prev = tokens[tokens.length - 1];
      if (!prev || prev.star || (prev as Token & { plus?: boolean }).plus) {
        throw invalid(input, i, `flag '${ch}' must be preceded by a non-flag`);
      }
      if (ch === '*') prev.star = true;
      else {
        (prev as Token & { plus?: boolean }).plus = true;
        tokens.push({ any: prev.any, set: prev.set, star: true });
        // mark the copy so that a following flag is rejected too
        (tokens[tokens.length - 1] as Token & { plus?: boolean }).plus = true;
      }
      continue;
    }
    if (!n.escaped && ch === '.') {
      tokens.push({ any: true, set: new Set(), star: false });
      continue;
    }
    if (!n.escaped && ch === ']') throw invalid(input, i, "set-close ']' with no preceding '['");
    if (!n.escaped && ch === '[') {
      const set = new Set<number>();
      let prev: number | undefined;
      let complete = false;
      for (let m = next(); m; m = next()) {
        const c = String.fromCodePoint(m.r);
        if (!m.escaped && c === ']') {
          complete = true;
          break;
        }
        if (!m.escaped && c === '-') {
          if (prev === undefined) throw invalid(input, i, "range character '-' must be preceded by a Unicode character");
          const hi = next();
          if (!hi) throw invalid(input, i, "range character '-' must be followed by a Unicode character");
          const hc = String.fromCodePoint(hi.r);
          if (!hi.escaped && (hc === ']' || hc === '-')) throw invalid(input, i, "range character '-' cannot be followed by a special symbol");
          if (hi.r < prev) {
            throw invalid(input, i, `range is out of order: '${hc}' comes before '${String.fromCodePoint(prev)}' in Unicode`);
          }
          for (let x = prev; x <= hi.r; x++) set.add(x);
          prev = undefined;
          continue;
        }
        set.add(m.r);
        prev = m.r;
      }
      if (!complete) throw invalid(input, i, 'found [ without matching ]');
      tokens.push({ any: false, set, star: false });
      continue;
    }
    tokens.push({ any: false, set: new Set([n.r]), star: false });
  }
  return tokens;
}

function overlap(a: Token, b: Token): boolean {
  if (a.any) return b.any || b.set.size > 0;
  if (b.any) return a.set.size > 0;
  const [small, big] = a.set.size <= b.set.size ? [a.set, b.set] : [b.set, a.set];
  for (const r of small) if (big.has(r)) return true;
  return false;
}

/** True when some string matches both globs. */
export function globsIntersect(g1: string, g2: string): boolean {
  const t1 = tokenizeGlob(g1);
  const t2 = tokenizeGlob(g2);
  const seen = new Set<number>();
  const width = t2.length + 1;
  const stack: Array<[number, number]> = [[0, 0]];
  while (stack.length > 0) {
    const [i, j] = stack.pop() as [number, number];
    const key = i * width + j;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === t1.length && j === t2.length) return true;
    if (i < t1.length && t1[i].star) stack.push([i + 1, j]);
    if (j < t2.length && t2[j].star) stack.push([i, j + 1]);
    if (i < t1.length && j < t2.length && overlap(t1[i], t2[j])) {
      stack.push([t1[i].star ? i : i + 1, t2[j].star ? j : j + 1]);
    }
  }
  return false;
}
