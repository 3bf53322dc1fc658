// The Rego tokenizer, modelled on OPA's v1/ast/internal/scanner. The scanner is
// position-based and its whole state is three numbers, so the parser can save and
// restore it cheaply when it backtracks (OPA's parser relies on that heavily).
//
// Offsets are JavaScript string indices (UTF-16 code units); columns count code
// points, as OPA's scanner counts runes.

export enum Tok {
  Illegal,
  EOF,
  Whitespace,
  Ident,
  Comment,
  Package,
  Import,
  As,
  Default,
  Else,
  Not,
  Some,
  With,
  Null,
  True,
  False,
  Number,
  String,
  TemplateStringPart,
  TemplateStringEnd,
  RawTemplateStringPart,
  RawTemplateStringEnd,
  LBrack,
  RBrack,
  LBrace,
  RBrace,
  LParen,
  RParen,
  Comma,
  Colon,
  Add,
  Sub,
  Mul,
  Quo,
  Rem,
  And,
  Or,
  Unify,
  Equal,
  Assign,
  In,
  Neq,
  Gt,
  Lt,
  Gte,
  Lte,
  Dot,
  Semicolon,
  Dollar,
  Every,
  Contains,
  If,
}

/** OPA's token names (tokens.Token.String()), used verbatim in error messages. */
export const TOKEN_NAMES: Record<Tok, string> = {
  [Tok.Illegal]: 'illegal',
  [Tok.EOF]: 'eof',
  [Tok.Whitespace]: 'whitespace',
  [Tok.Ident]: 'ident',
  [Tok.Comment]: 'comment',
  [Tok.Package]: 'package',
  [Tok.Import]: 'import',
  [Tok.As]: 'as',
  [Tok.Default]: 'default',
  [Tok.Else]: 'else',
  [Tok.Not]: 'not',
  [Tok.Some]: 'some',
  [Tok.With]: 'with',
  [Tok.Null]: 'null',
  [Tok.True]: 'true',
  [Tok.False]: 'false',
  [Tok.Number]: 'number',
  [Tok.String]: 'string',
  [Tok.TemplateStringPart]: 'template-string-part',
  [Tok.TemplateStringEnd]: 'template-string-end',
  [Tok.RawTemplateStringPart]: 'raw-template-string-part',
  [Tok.RawTemplateStringEnd]: 'raw-template-string-end',
  [Tok.LBrack]: '[',
  [Tok.RBrack]: ']',
  [Tok.LBrace]: '{',
  [Tok.RBrace]: '}',
  [Tok.LParen]: '(',
  [Tok.RParen]: ')',
  [Tok.Comma]: ',',
  [Tok.Colon]: ':',
  [Tok.Add]: 'plus',
  [Tok.Sub]: 'minus',
  [Tok.Mul]: 'mul',
  [Tok.Quo]: 'div',
  [Tok.Rem]: 'rem',
  [Tok.And]: 'and',
  [Tok.Or]: 'or',
  [Tok.Unify]: 'eq',
  [Tok.Equal]: 'equal',
  [Tok.Assign]: 'assign',
  [Tok.In]: 'in',
  [Tok.Neq]: 'neq',
  [Tok.Gt]: 'gt',
  [Tok.Lt]: 'lt',
  [Tok.Gte]: 'gte',
  [Tok.Lte]: 'lte',
  [Tok.Dot]: '.',
  [Tok.Semicolon]: ';',
  [Tok.Dollar]: 'dollar',
  [Tok.Every]: 'every',
  [Tok.Contains]: 'contains',
  [Tok.If]: 'if',
};

/** Keywords of Rego v1 (OPA's base keywords plus the former future keywords). */
export const KEYWORDS: ReadonlyMap<string, Tok> = new Map<string, Tok>([
  ['package', Tok.Package],
  ['import', Tok.Import],
  ['as', Tok.As],
  ['default', Tok.Default],
  ['else', Tok.Else],
  ['not', Tok.Not],
  ['some', Tok.Some],
  ['with', Tok.With],
  ['null', Tok.Null],
  ['true', Tok.True],
  ['false', Tok.False],
  ['in', Tok.In],
  ['every', Tok.Every],
  ['contains', Tok.Contains],
  ['if', Tok.If],
]);

/** The former future keywords, which `import` paths may still name (`import future.keywords.in`). */
export const FUTURE_KEYWORDS: ReadonlySet<string> = new Set(['in', 'every', 'contains', 'if']);

/** Tokens that are keywords of OPA's base language (tokens.IsKeyword), for "keyword"/"token" wording. */
const BASE_KEYWORD_TOKENS: ReadonlySet<Tok> = new Set([
  Tok.Package, Tok.Import, Tok.As, Tok.Default, Tok.Else, Tok.Not, Tok.Some, Tok.With, Tok.Null, Tok.True, Tok.False,
]);

export function isKeywordToken(t: Tok): boolean {
  return BASE_KEYWORD_TOKENS.has(t) || FUTURE_KEYWORDS.has(TOKEN_NAMES[t]);
}

export function isKeyword(s: string): boolean {
  return KEYWORDS.has(s);
}

export interface ScanPos {
  offset: number; // index of `curr` in the source
  row: number;
  col: number; // column of `curr` (1-based once a char has been read)
}

export interface ScanResult {
  tok: Tok;
  lit: string;
  offset: number; // token start
  end: number; // token end
  row: number;
  col: number;
  errors: Array<{ message: string; offset: number; row: number; col: number }>;
}

const BOM = 0xfeff;

function isLetter(ch: number): boolean {
  return (ch >= 97 && ch <= 122) || (ch >= 65 && ch <= 90) || ch === 95;
}
function isDecimal(ch: number): boolean {
  return ch >= 48 && ch <= 57;
}
function isDigit(ch: number): boolean {
  return isDecimal(ch) || (ch >= 0x80 && /\p{Nd}/u.test(String.fromCodePoint(ch)));
}

/**
 * A scanner over a source string. `pos` is the position of the current (not yet
 * consumed) character; callers snapshot and restore it via `pos`.
 */
export class Scanner {
  readonly src: string;
  private offset = 0;
  private row = 1;
  private col = 1;
  /** When false, the former future keywords scan as identifiers (import paths). */
  futureKeywords = true;
  private errs: ScanResult['errors'] = [];

  constructor(src: string) {
    this.src = src;
    if (src.codePointAt(0) === BOM) {
      this.offset = 1;
      this.col = 2;
    }
  }

  /** A snapshot of the position (the parser saves and restores it when backtracking). */
  get pos(): ScanPos {
    return { offset: this.offset, row: this.row, col: this.col };
  }
  set pos(p: ScanPos) {
    this.offset = p.offset;
    this.row = p.row;
    this.col = p.col;
  }

  private curr(): number {
    const c = this.src.charCodeAt(this.offset);
    if (c !== c) return -1; // NaN: end of input
    if (c >= 0xd800 && c <= 0xdbff) return this.src.codePointAt(this.offset)!;
    return c;
  }

  private peekAt(off: number): number {
    const c = this.src.codePointAt(off);
    return c === undefined ? -1 : c;
  }

  private next(): void {
    const c = this.curr();
    if (c < 0) return;
    this.offset += c > 0xffff ? 2 : 1;
    if (c === 10) {
      this.row++;
      this.col = 1;
    } else this.col++;
    const n = this.curr();
    if (n === 0) this.error('illegal null character');
    else if (n === BOM) this.error('illegal byte-order mark');
  }

  private error(message: string): void {
    this.errs.push({ message, offset: this.offset, row: this.row, col: this.col });
  }

  keyword(lit: string): Tok {
    const t = KEYWORDS.get(lit);
    if (t === undefined) return Tok.Ident;
    if (!this.futureKeywords && FUTURE_KEYWORDS.has(lit)) return Tok.Ident;
    return t;
  }

  scan(continueTemplate?: { raw: boolean }): ScanResult {
    if (this.errs.length > 0) this.errs = [];
    const start = this.pos;
    let tok: Tok = Tok.Illegal;
    let lit = '';
    const ch = this.curr();
    if (continueTemplate) {
      // the token starts at the `}` that closed the previous template expression
      [lit, tok] = continueTemplate.raw ? this.scanRawTemplate(start.offset - 1) : this.scanTemplate(start.offset - 1);
      return this.result(tok, lit, start);
    } else if (ch === 32 || ch === 9 || ch === 10 || ch === 13) {
      lit = String.fromCharCode(ch);
      this.next();
      tok = Tok.Whitespace;
    } else if (isLetter(ch)) {
      const s = this.offset;
      while (isLetter(this.curr()) || isDigit(this.curr())) this.next();
      lit = this.src.slice(s, this.offset);
      tok = this.keyword(lit);
    } else if (isDecimal(ch)) {
      lit = this.scanNumber();
      tok = Tok.Number;
    } else {
      this.next();
      switch (ch) {
        case -1:
          tok = Tok.EOF;
          break;
        case 0x23: // #
          lit = this.scanComment(start.offset);
          tok = Tok.Comment;
          break;
        case 0x22: // "
          lit = this.scanString(start.offset);
          tok = Tok.String;
          break;
        case 0x60: // `
          lit = this.scanRawString(start.offset);
          tok = Tok.String;
          break;
        case 0x5b: tok = Tok.LBrack; break;
        case 0x5d: tok = Tok.RBrack; break;
        case 0x7b: tok = Tok.LBrace; break;
        case 0x7d: tok = Tok.RBrace; break;
        case 0x28: tok = Tok.LParen; break;
        case 0x29: tok = Tok.RParen; break;
        case 0x2c: tok = Tok.Comma; break;
        case 0x3a:
          if (this.curr() === 0x3d) { this.next(); tok = Tok.Assign; } else tok = Tok.Colon;
          break;
        case 0x2b: tok = Tok.Add; break;
        case 0x2d: tok = Tok.Sub; break;
        case 0x2a: tok = Tok.Mul; break;
        case 0x2f: tok = Tok.Quo; break;
        case 0x25: tok = Tok.Rem; break;
        case 0x26: tok = Tok.And; break;
        case 0x7c: tok = Tok.Or; break;
        case 0x3d:
          if (this.curr() === 0x3d) { this.next(); tok = Tok.Equal; } else tok = Tok.Unify;
          break;
        case 0x3e:
          if (this.curr() === 0x3d) { this.next(); tok = Tok.Gte; } else tok = Tok.Gt;
          break;
        case 0x3c:
          if (this.curr() === 0x3d) { this.next(); tok = Tok.Lte; } else tok = Tok.Lt;
          break;
        case 0x21:
          if (this.curr() === 0x3d) { this.next(); tok = Tok.Neq; } else this.error('illegal ! character');
          break;
        case 0x3b: tok = Tok.Semicolon; break;
        case 0x2e: tok = Tok.Dot; break;
        case 0x24: // $
          if (this.curr() === 0x60) {
            this.next();
            [lit, tok] = this.scanRawTemplate(start.offset + 1);
          } else if (this.curr() === 0x22) {
            this.next();
            [lit, tok] = this.scanTemplate(start.offset + 1);
          } else this.error('illegal $ character');
          break;
        default:
          // OPA leaves the token as Illegal without a scanner error for unknown characters.
          break;
      }
    }
    return this.result(tok, lit, start);
  }

  private result(tok: Tok, lit: string, start: ScanPos): ScanResult {
    return { tok, lit, offset: start.offset, end: this.offset, row: start.row, col: start.col, errors: this.errs };
  }

  private scanNumber(): string {
    const s = this.offset;
    if (this.curr() !== 0x2e) while (isDecimal(this.curr())) this.next();
    if (this.curr() === 0x2e) {
      this.next();
      let found = false;
      while (isDecimal(this.curr())) { this.next(); found = true; }
      if (!found) this.error('expected fraction');
    }
    if (this.curr() === 0x65 || this.curr() === 0x45) {
      this.next();
      if (this.curr() === 0x2b || this.curr() === 0x2d) this.next();
      let found = false;
      while (isDecimal(this.curr())) { this.next(); found = true; }
      if (!found) this.error('expected exponent');
    }
    if (isLetter(this.curr())) {
      this.error('illegal number format');
      while (isLetter(this.curr()) || isDigit(this.curr())) this.next();
    }
    return this.src.slice(s, this.offset);
  }

  /** `start` is the offset of the opening quote. Returns the literal including quotes. */
  private scanString(start: number): string {
    for (;;) {
      const ch = this.curr();
      if (ch === 10 || ch < 0) {
        this.error('non-terminated string');
        break;
      }
      this.next();
      if (ch === 0x22) break;
      if (ch === 0x5c) {
        switch (this.curr()) {
          case 0x5c: case 0x22: case 0x2f: case 0x62: case 0x66: case 0x6e: case 0x72: case 0x74:
            this.next();
            break;
          case 0x75:
            this.next(); this.next(); this.next(); this.next();
            break;
          default:
            this.error('illegal escape sequence');
        }
      }
    }
    return this.src.slice(start, this.offset);
  }

  private scanRawString(start: number): string {
    for (;;) {
      const ch = this.curr();
      this.next();
      if (ch === 0x60) break;
      if (ch < 0) {
        this.error('non-terminated string');
        break;
      }
    }
    return this.src.slice(start, this.offset);
  }

  /**
   * Scans a part of a `$"..."` template from the delimiter at `start` (a `"` or the
   * `}` closing an expression) up to and including the next `{` or closing `"`.
   * Escaped braces (`\{`) lose their backslash, as in OPA.
   */
  private scanTemplate(start: number): [string, Tok] {
    let tok = Tok.TemplateStringPart;
    const escapes: number[] = [];
    for (;;) {
      const ch = this.curr();
      if (ch === 10 || ch < 0) {
        this.error('non-terminated string');
        break;
      }
      this.next();
      if (ch === 0x22) { tok = Tok.TemplateStringEnd; break; }
      if (ch === 0x7b) break;
      if (ch === 0x5c) {
        switch (this.curr()) {
          case 0x5c: case 0x22: case 0x2f: case 0x62: case 0x66: case 0x6e: case 0x72: case 0x74:
            this.next();
            break;
          case 0x7b:
            escapes.push(this.offset - 1); // the backslash
            this.next();
            break;
          case 0x75:
            this.next(); this.next(); this.next(); this.next();
            break;
          default:
            this.error('illegal escape sequence');
        }
      }
    }
    return [this.removeEscapes(start, escapes), tok];
  }

  private scanRawTemplate(start: number): [string, Tok] {
    let tok = Tok.RawTemplateStringPart;
    const escapes: number[] = [];
    for (;;) {
      const ch = this.curr();
      if (ch < 0) {
        this.error('non-terminated string');
        break;
      }
      this.next();
      if (ch === 0x60) { tok = Tok.RawTemplateStringEnd; break; }
      if (ch === 0x7b) break;
      if (ch === 0x5c && this.curr() === 0x7b) {
        escapes.push(this.offset - 1);
        this.next();
      }
    }
    return [this.removeEscapes(start, escapes), tok];
  }

  private removeEscapes(start: number, escapes: number[]): string {
    let out = '';
    let from = start;
    for (const e of escapes) {
      out += this.src.slice(from, e);
      from = e + 1;
    }
    return out + this.src.slice(from, this.offset);
  }

  /** Returns the comment text including the leading `#`, without a trailing `\r`. */
  private scanComment(start: number): string {
    while (this.curr() !== 10 && this.curr() !== -1) this.next();
    let end = this.offset;
    if (end > start && this.src.charCodeAt(end - 1) === 13) end--;
    return this.src.slice(start, end);
  }

  /** Peeks whether the character at `off` exists (used to avoid unused warnings). */
  charAt(off: number): number {
    return this.peekAt(off);
  }
}
