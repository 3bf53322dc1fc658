// A recursive-descent Rego v1 parser that follows OPA's v1/ast/parser.go closely:
// the same grammar functions, the same backtracking (save/restore of the parser
// state), the same term cache, and the same error messages. Where this file says
// "as OPA", the behaviour was taken from that source.
import type {
  Body,
  Comment,
  Every,
  Expr,
  Head,
  Import,
  Location,
  Package,
  RegoError,
  Rule,
  SomeDecl,
  Term,
  Value,
  With,
} from '../ast/types.js';
import { clone } from '../ast/build.js';
import { refToString, termToString } from '../ast/print.js';
import { isGround } from '../ast/walk.js';
import { Scanner, Tok, TOKEN_NAMES, isKeyword, isKeywordToken, type ScanPos } from './scanner.js';

/** Parser state: everything that backtracking must restore. Errors/hints are copy-on-write. */
interface State {
  pos: ScanPos;
  tok: Tok;
  lit: string;
  offset: number;
  row: number;
  col: number;
  tokEnd: number;
  lastEnd: number;
  skippedNL: boolean;
  wildcard: number;
  errors: readonly RegoError[];
  hints: readonly string[];
  /** Comments scanned so far, newest first (a persistent list, so backtracking drops lookahead-only comments). */
  comments: CommentList | undefined;
}

interface CommentList { comment: Comment; next: CommentList | undefined }

interface CacheEntry { offset: number; term: Term | undefined; post: State; next: CacheEntry | undefined }

/** A statement as OPA's parser produces it, before module assembly. */
export type Statement =
  | { kind: 'package'; pkg: Package }
  | { kind: 'import'; imp: Import }
  | { kind: 'rule'; rule: Rule }
  | { kind: 'body'; body: Body };

/** Per-head and per-rule facts OPA keeps in unexported fields (keywords used, generated parts). */
export interface HeadMeta { keywords: Set<'if' | 'contains'>; generatedValue: boolean }
export const headMeta = new WeakMap<Head, HeadMeta>();
export const generatedBodies = new WeakSet<Rule>();

export function metaOf(h: Head): HeadMeta {
  let m = headMeta.get(h);
  if (!m) {
    m = { keywords: new Set(), generatedValue: false };
    headMeta.set(h, m);
  }
  return m;
}

/**
 * OPA's DefaultMaxParsingRecursionDepth, counted at the same functions as OPA's parser (eight
 * levels per parenthesis, two per array bracket), so the same input hits it.
 */
export const MAX_RECURSION_DEPTH = 100000;

class DepthExceeded extends Error {}

const ROOT_DOCS = new Set(['data', 'input']);

export class Parser {
  private sc: Scanner;
  private s: State;
  private readonly file: string;
  private readonly src: string;
  /**
   * OPA's parsed-term cache: a list of (offset, term, state after it) with strictly
   * decreasing offsets. Pushing an entry drops every entry at the same or a larger
   * offset, so only terms enclosing the current position survive; this bounds the
   * backtracking cost and (as in OPA) forgets terms of abandoned alternatives.
   */
  private cache: CacheEntry | undefined;
  private depth = 0;

  constructor(src: string, file: string) {
    this.src = src;
    this.file = file;
    this.sc = new Scanner(src);
    this.s = {
      pos: this.sc.pos,
      tok: Tok.EOF,
      lit: '',
      offset: 0,
      row: 1,
      col: 1,
      tokEnd: 0,
      lastEnd: 0,
      skippedNL: false,
      wildcard: 0,
      errors: [],
      hints: [],
      comments: undefined,
    };
  }

  // ---------------------------------------------------------------- driver

  /** Parses statements as OPA's Parser.Parse does. `skipRules` is set for queries. */
  parseStatements(skipRules: boolean): { stmts: Statement[]; comments: Comment[]; errors: RegoError[]; stackExhausted: boolean } {
    const stmts: Statement[] = [];
    let stackExhausted = false;
    try {
      this.scan();
      while (!this.at(Tok.EOF)) {
        let s = this.save();
        const pkg = this.parsePackage();
        if (pkg) {
          stmts.push({ kind: 'package', pkg });
          continue;
        } else if (this.s.errors.length > 0) break;
        this.restore(s);
        s = this.save();
        const imp = this.parseImport();
        if (imp) {
          const head = (imp.path.value as { value: Term[] }).value[0]!.value;
          if (head.type === 'var' && head.value === 'rego') this.regoV1Import(imp);
          if (head.type === 'var' && head.value === 'future') this.futureImport(imp);
          stmts.push({ kind: 'import', imp });
          continue;
        } else if (this.s.errors.length > 0) break;
        this.restore(s);
        if (!skipRules) {
          s = this.save();
          const rules = this.parseRules();
          if (rules) {
            for (const rule of rules) stmts.push({ kind: 'rule', rule });
            continue;
          } else if (this.s.errors.length > 0) break;
          this.restore(s);
        }
        const body = this.parseQuery(true, Tok.EOF);
        if (body) {
          stmts.push({ kind: 'body', body });
          continue;
        }
        break;
      }
    } catch (e) {
      if (e instanceof DepthExceeded || e instanceof RangeError) {
        // a RangeError is this thread's stack running out before OPA's limit (see deep.ts)
        stackExhausted = !(e instanceof DepthExceeded);
        this.error(this.loc(), 'max parsing recursion depth exceeded');
      } else throw e;
    }
    const comments: Comment[] = [];
    for (let c = this.s.comments; c; c = c.next) comments.push(c.comment);
    comments.reverse();
    return { stmts, comments, errors: [...this.s.errors], stackExhausted };
  }

  // ---------------------------------------------------------------- state

  private save(): State {
    return { ...this.s, pos: this.sc.pos };
  }

  private restore(s: State): void {
    this.s = { ...s };
    this.sc.pos = s.pos;
  }

  /** Tests the current token (a method, so TypeScript does not narrow `tok` across scans). */
  private cur(): Tok {
    return this.s.tok;
  }

  private at(t: Tok): boolean {
    return this.s.tok === t;
  }

  private enter(): void {
    if (++this.depth > MAX_RECURSION_DEPTH) throw new DepthExceeded();
  }
  private leave(): void {
    this.depth--;
  }

  /** Location of the current token. */
  private loc(): Location {
    return {
      file: this.file,
      row: this.s.row,
      col: this.s.col,
      offset: this.s.offset,
      text: this.text(this.s.offset, this.s.tokEnd),
    };
  }

  private text(offset: number, end: number): string | undefined {
    if (offset >= 0 && offset < this.src.length && end >= offset && end <= this.src.length) {
      return this.src.slice(offset, end);
    }
    return undefined;
  }

  private scan(): void {
    this.doScan(true);
  }
  private scanWS(): void {
    this.doScan(false);
  }

  private doScan(skipws: boolean, template?: { raw: boolean }): void {
    if (!this.at(Tok.Whitespace)) {
      this.s.lastEnd = this.s.tokEnd;
      this.s.skippedNL = false;
    }
    let first = true;
    for (;;) {
      const r = this.sc.scan(first ? template : undefined);
      first = false;
      this.s.tok = r.tok;
      this.s.lit = r.lit;
      this.s.offset = r.offset;
      this.s.row = r.row;
      this.s.col = r.col;
      this.s.tokEnd = r.end;
      for (const e of r.errors) this.error(this.loc(), e.message);
      if (r.errors.length > 0) this.s.tok = Tok.Illegal;
      if (this.at(Tok.Whitespace)) {
        if (this.s.lit === '\n') this.s.skippedNL = true;
        if (skipws) continue;
      }
      if (!this.at(Tok.Comment)) break;
      this.s.comments = { comment: { text: r.lit.slice(1), location: this.loc() }, next: this.s.comments };
    }
  }

  // ---------------------------------------------------------------- errors

  private error(loc: Location, reason: string): void {
    let msg = reason;
    if (this.s.hints.length === 1) msg += ` (hint: ${this.s.hints[0]})`;
    else if (this.s.hints.length > 1) msg += ` (hints: ${this.s.hints.join(', ')})`;
    this.s.errors = [...this.s.errors, { code: 'rego_parse_error', message: msg, location: loc }];
    this.s.hints = [];
  }

  private hint(h: string): void {
    this.s.hints = [...this.s.hints, h];
  }

  private illegal(note: string): void {
    if (this.at(Tok.Illegal)) {
      this.error(this.loc(), 'illegal token');
      return;
    }
    const tok = TOKEN_NAMES[this.s.tok];
    const kind = isKeywordToken(this.s.tok) ? 'keyword' : 'token';
    this.error(this.loc(), note ? `unexpected ${tok} ${kind}: ${note}` : `unexpected ${tok} ${kind}`);
  }

  private illegalToken(): void {
    this.illegal('');
  }

  // ---------------------------------------------------------------- keywords in refs

  /** Keywords may be used as ref operands and ref heads (OPA's FeatureKeywordsInRefs). */
  private isAllowedRefKeyword(t: Tok): boolean {
    return t !== Tok.Ident && isKeyword(TOKEN_NAMES[t]);
  }

  private isIdentOrAllowedRefKeyword(): boolean {
    if (this.at(Tok.Ident)) return true;
    if (this.isAllowedRefKeyword(this.s.tok)) {
      this.s.tok = Tok.Ident;
      return true;
    }
    return false;
  }

  /** If the current token is a keyword followed directly by `.` or `[`, retag it as an identifier. */
  private scanAheadRef(): boolean {
    if (this.isAllowedRefKeyword(this.s.tok)) {
      const s = this.save();
      this.scanWS();
      const tok = this.s.tok;
      this.restore(s);
      if (tok === Tok.Dot || tok === Tok.LBrack) {
        this.s.tok = Tok.Ident;
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- package / import

  private parsePackage(): Package | undefined {
    if (!this.at(Tok.Package)) return undefined;
    const loc = this.loc();
    this.scanWS();
    if (this.at(Tok.Dot) || this.at(Tok.LBrack)) return undefined; // `package.x` is a ref
    if (this.at(Tok.Whitespace)) this.scan();
    if (!this.isIdentOrAllowedRefKeyword()) {
      this.illegalToken();
      return undefined;
    }
    const term = this.parseTerm();
    let path: Term[] | undefined;
    if (term) {
      const v = term.value;
      if (v.type === 'var') {
        path = [mk({ type: 'var', value: 'data' }, term.location), mk({ type: 'string', value: v.value }, term.location)];
      } else if (v.type === 'ref') {
        const head = v.value[0]!;
        if (head.value.type !== 'var') {
          this.error(head.location!, `unexpected ${valueName(head.value)} token: expecting var`);
          return undefined;
        }
        path = [mk({ type: 'var', value: 'data' }, head.location), mk({ type: 'string', value: head.value.value }, head.location)];
        for (const t of v.value.slice(1)) {
          if (t.value.type !== 'string') {
            this.error(t.location!, `unexpected ${valueName(t.value)} token: expecting string`);
            return undefined;
          }
          path.push(t);
        }
      } else {
        this.illegalToken();
        return undefined;
      }
    }
    if (!path) {
      if (this.s.errors.length === 0) this.error(this.loc(), 'expected path');
      return undefined;
    }
    return { path, location: loc };
  }

  private parseImport(): Import | undefined {
    if (!this.at(Tok.Import)) return undefined;
    const loc = this.loc();
    this.scanWS();
    if (this.at(Tok.Dot) || this.at(Tok.LBrack)) return undefined; // `import.x` is a ref
    if (this.at(Tok.Whitespace)) this.scan();
    if (!this.isIdentOrAllowedRefKeyword()) {
      this.illegalToken();
      return undefined;
    }
    // OPA parses the path with a parser that does not know the former future
    // keywords, so `import future.keywords.in` works.
    this.sc.futureKeywords = false;
    let path: Term | undefined;
    try {
      const term = this.parseTerm();
      if (term) {
        const v = term.value;
        if (v.type === 'var') path = mk({ type: 'ref', value: [term] }, term.location);
        else if (v.type === 'ref') {
          for (const t of v.value.slice(1)) {
            if (t.value.type !== 'string') {
              this.error(t.location!, `unexpected ${valueName(t.value)} token: expecting string`);
              return undefined;
            }
          }
          path = term;
        }
      }
    } finally {
      this.sc.futureKeywords = true;
      this.cache = undefined; // terms cached while keywords were off must not be reused
    }
    if (!path) {
      this.error(this.loc(), 'expected path');
      return undefined;
    }
    const ref = (path.value as { value: Term[] }).value;
    const head = ref[0]!.value;
    const headName = head.type === 'var' ? head.value : '';
    if (!['data', 'input', 'future', 'rego'].includes(headName)) {
      this.hint('if this is unexpected, try updating OPA');
      this.error(path.location!, `unexpected import path, must begin with one of: {data, future, input, rego}, got: ${termToString(ref[0]!)}`);
      return undefined;
    }
    const imp: Import = { path, location: loc };
    if (this.at(Tok.As)) {
      this.scan();
      if (!this.at(Tok.Ident)) {
        this.illegal('expected var');
        return undefined;
      }
      const alias = this.parseTerm();
      if (alias && alias.value.type === 'var') {
        imp.alias = alias.value.value;
        this.finishImportLoc(imp);
        return imp;
      }
      this.illegal('expected var');
      return undefined;
    }
    if (ref.length === 1) {
      if (isKeyword(headName)) {
        this.error(ref[0]!.location!, `unexpected import path, must not end with a keyword, got: ${headName}`);
        this.hint('import a different path or use an alias');
      }
    } else if (headName !== 'future') {
      const last = ref[ref.length - 1]!;
      const name = last.value.type === 'string' ? last.value.value : '';
      if (isKeyword(name)) {
        this.error(last.location!, `unexpected import path, must not end with a keyword, got: ${name}`);
        this.hint('import a different path or use an alias');
      }
    }
    this.finishImportLoc(imp);
    return imp;
  }

  private finishImportLoc(imp: Import): void {
    if (imp.location) imp.location.text = this.text(imp.location.offset, this.s.lastEnd);
  }

  private futureImport(imp: Import): void {
    const path = (imp.path.value as { value: Term[] }).value;
    const p1 = path[1]?.value;
    if (path.length === 1 || !(p1?.type === 'string' && p1.value === 'keywords')) {
      this.error(imp.path.location!, 'invalid import, must be `future.keywords`');
      return;
    }
    if (imp.alias) {
      this.error(imp.path.location!, '`future` imports cannot be aliased');
      return;
    }
    if (path.length === 3) {
      const kw = path[2]!.value;
      if (kw.type !== 'string') {
        this.error(imp.path.location!, 'invalid import, must be `future.keywords.x`, e.g. `import future.keywords.in`');
        return;
      }
      if (!['contains', 'every', 'if', 'in'].includes(kw.value)) {
        this.error(imp.path.location!, 'unexpected keyword, must be one of [contains every if in]');
      }
    }
    // In v1 all of these are keywords already: nothing to enable.
  }

  private regoV1Import(imp: Import): void {
    const path = (imp.path.value as { value: Term[] }).value;
    const p1 = path[1]?.value;
    if (path.length !== 2 || !(p1?.type === 'string' && p1.value === 'v1')) {
      this.error(imp.path.location!, `invalid import \`${refToString(path)}\`, must be \`rego.v1\``);
    }
    // `import rego.v1` is a no-op when parsing Rego v1.
  }

  // ---------------------------------------------------------------- rules

  private parseRules(): Rule[] | undefined {
    const rule: Rule = { default: false, head: undefined as unknown as Head, body: [], location: this.loc() };
    this.scanAheadRef();
    if (this.at(Tok.Default)) {
      this.scan();
      rule.default = true;
      this.scanAheadRef();
    }
    if (!this.at(Tok.Ident)) return undefined;

    const parsed = this.parseHead(rule.default);
    if (!parsed) return undefined;
    const [head, usesContains] = parsed;
    rule.head = head;
    const meta = metaOf(head);
    if (usesContains) meta.keywords.add('contains');

    if (rule.default) {
      if (!this.validateDefaultRuleValue(rule)) return undefined;
      if (head.args && head.args.length > 0 && !this.validateDefaultRuleArgs(rule)) return undefined;
      rule.body = [mkExpr(mk({ type: 'boolean', value: true }, rule.location), 0, rule.location)];
      return [rule];
    }

    const hasIf = this.at(Tok.If);
    const ref = head.reference;

    // `p[x] if ...` is a single-value rule p[x]
    if (hasIf && !usesContains && ref.length === 2) {
      const v = ref[1]!;
      if ((!isGround(v.value) || v.value.type === 'ref') && !(head.args && head.args.length)) head.key = v;
      if (!head.value) {
        meta.generatedValue = true;
        head.value = mk({ type: 'boolean', value: true }, head.location);
      } else {
        const h0 = ref[0]!.value;
        if (h0.type !== 'var') return undefined;
        head.name = h0.value;
      }
    }

    // `p[x]` without `if` is (v0's) multi-value rule p
    if (!hasIf && !usesContains && !(head.args && head.args.length) && ref.length === 2) {
      const h0 = ref[0]!.value;
      if (h0.type !== 'var') return undefined;
      head.name = h0.value;
      head.key = ref[1];
      if (!head.value) head.reference = ref.slice(0, ref.length - 1);
    }

    let parsedBody = false;
    if (hasIf) {
      meta.keywords.add('if');
      this.scan();
      const s = this.save();
      const expr = this.parseLiteral();
      if (expr) {
        // `p if { true }` must not become a rule whose body is a set literal
        const t = expr.terms;
        const isSetLiteral = !Array.isArray(t) && 'value' in t && (t as Term).value.type === 'set';
        if (!isSetLiteral) {
          expr.index = 0;
          rule.body = [expr];
          parsedBody = true;
        }
      }
      if (!parsedBody) this.restore(s);
    }
    if (!parsedBody) {
      if (this.at(Tok.LBrace)) {
        this.scan();
        const body = this.parseBody(Tok.RBrace);
        if (!body) return undefined;
        rule.body = body;
        this.scan();
      } else if (hasIf) {
        // OPA falls through to the brace case, which fails to parse a body here
        this.scan();
        const body = this.parseBody(Tok.RBrace);
        if (!body) return undefined;
        rule.body = body;
        this.scan();
      } else if (usesContains) {
        rule.body = [mkExpr(mk({ type: 'boolean', value: true }, rule.location), 0, rule.location)];
        generatedBodies.add(rule);
        rule.location = head.location;
        return [rule];
      } else {
        return undefined;
      }
    }

    if (this.at(Tok.Else)) {
      // it might just be a ref head rule starting with `else`
      if (!this.scanAheadRef()) {
        const r = head.reference;
        if (r.length > 1 && !r.slice(1).every((t) => isGround(t.value))) {
          this.error(this.loc(), 'else keyword cannot be used on rules with variables in head');
          return undefined;
        }
        if (head.key) {
          this.error(this.loc(), 'else keyword cannot be used on multi-value rules');
          return undefined;
        }
        const els = this.parseElse(head);
        if (!els) return undefined;
        rule.else = els;
      }
    }

    rule.location!.text = this.text(rule.location!.offset, this.s.lastEnd);
    const rules: Rule[] = [rule];

    while (this.at(Tok.LBrace)) {
      if (rule.else) {
        this.error(this.loc(), 'expected else keyword');
        return undefined;
      }
      const loc = this.loc();
      this.scan();
      const body = this.parseBody(Tok.RBrace);
      if (!body) return undefined;
      this.scan();
      loc.text = this.text(loc.offset, this.s.lastEnd);
      // chained rule bodies keep the rule's head, located at the body
      const nextHead = copyHead(head);
      metaOf(nextHead).keywords = new Set(meta.keywords);
      metaOf(nextHead).generatedValue = meta.generatedValue;
      if (nextHead.args) {
        for (const a of nextHead.args) if (a.value.type === 'var' && a.value.value.startsWith('$')) a.value = this.genwildcard();
      }
      setLocRecursive(nextHead, loc);
      rules.push({ default: false, head: nextHead, body, location: loc });
    }
    return rules;
  }

  private parseElse(head: Head): Rule | undefined {
    const rule: Rule = { default: false, head: copyHead(head), body: [], location: this.loc() };
    const meta = metaOf(rule.head);
    meta.generatedValue = false;
    if (rule.head.args) {
      for (const a of rule.head.args) if (a.value.type === 'var' && a.value.value.startsWith('$')) a.value = this.genwildcard();
    }
    rule.head.location = this.loc();
    const finish = (r: Rule | undefined): Rule | undefined => {
      rule.location!.text = this.text(rule.location!.offset, this.s.lastEnd);
      return r;
    };

    this.scan();
    switch (this.cur()) {
      case Tok.LBrace:
      case Tok.If:
        meta.generatedValue = true;
        rule.head.value = mk({ type: 'boolean', value: true });
        break;
      case Tok.Assign:
      case Tok.Unify: {
        rule.head.assign = this.at(Tok.Assign);
        this.scan();
        const v = this.parseTermInfixCall();
        if (!v) return finish(undefined);
        rule.head.value = v;
        rule.head.location!.text = this.text(rule.head.location!.offset, this.s.lastEnd);
        break;
      }
      default:
        this.illegal('expected else value term or rule body');
        return finish(undefined);
    }

    const hasIf = this.at(Tok.If);
    const hasLBrace = this.at(Tok.LBrace);
    if (!hasIf && !hasLBrace) {
      rule.body = [mkExpr(mk({ type: 'boolean', value: true }), 0)];
      generatedBodies.add(rule);
      setLocRecursive(rule.body, rule.location!);
      return finish(rule);
    }
    if (hasIf) {
      meta.keywords.add('if');
      this.scan();
    }
    if (this.at(Tok.LBrace)) {
      this.scan();
      const body = this.parseBody(Tok.RBrace);
      if (!body) return finish(undefined);
      rule.body = body;
      this.scan();
    } else if (!this.at(Tok.EOF)) {
      const expr = this.parseLiteral();
      if (!expr) return finish(undefined);
      expr.index = 0;
      rule.body = [expr];
      setLocRecursive(rule.body, rule.location!);
    } else {
      this.illegal('rule body expected');
      return finish(undefined);
    }
    if (this.at(Tok.Else)) {
      const els = this.parseElse(head);
      if (!els) return finish(undefined);
      rule.else = els;
    }
    return finish(rule);
  }

  private parseHead(defaultRule: boolean): [Head, boolean] | undefined {
    const loc = this.loc();
    const term = this.parseVar();
    const ref = this.parseHeadFinish(term);
    if (!ref) {
      this.illegal('expected rule head name');
      return undefined;
    }
    let head: Head;
    const v = ref.value;
    if (v.type === 'var') {
      head = { name: v.value, reference: [ref], assign: false };
    } else if (v.type === 'ref') {
      head = refHead(v.value);
    } else if (v.type === 'call') {
      const [op, ...args] = v.value;
      let r: Term[];
      if (op!.value.type === 'var') r = [op!];
      else if (op!.value.type === 'ref') {
        if (op!.value.value[0]!.value.type !== 'var') {
          this.illegal(`rule head ref ${termToString(op!)} invalid`);
          return undefined;
        }
        r = op!.value.value;
      } else return undefined;
      head = refHead(r);
      head.args = args;
    } else {
      return undefined;
    }
    const finish = (h: Head, contains: boolean): [Head, boolean] => {
      h.location = { ...loc, text: this.text(loc.offset, this.s.lastEnd) };
      return [h, contains];
    };

    const name = refToString(head.reference);
    switch (this.cur()) {
      case Tok.Contains: {
        if (head.args) {
          this.illegal(`the contains keyword can only be used with multi-value rule definitions (e.g., ${name} contains <VALUE> { ... })`);
        }
        this.scan();
        const key = this.parseTermInfixCall();
        if (!key) this.illegal(`expected rule key term (e.g., ${name} contains <VALUE> { ... })`);
        else head.key = key;
        head.multiValue = true;
        return finish(head, true);
      }
      case Tok.Unify: {
        this.scan();
        const val = this.parseTermInfixCall();
        if (!val) this.illegal(`expected rule value term (e.g., ${name}[${head.key ? termToString(head.key) : '<nil>'}] = <VALUE> { ... })`);
        else head.value = val;
        break;
      }
      case Tok.Assign: {
        this.scan();
        head.assign = true;
        const val = this.parseTermInfixCall();
        if (!val) {
          if (head.args && head.args.length > 0) this.illegal(`expected function value term (e.g., ${name}(...) := <VALUE> { ... })`);
          else if (head.key) this.illegal(`expected partial rule value term (e.g., ${name}[...] := <VALUE> { ... })`);
          else if (defaultRule) this.illegal(`expected default rule value term (e.g., default ${name} := <VALUE>)`);
          else this.illegal(`expected rule value term (e.g., ${name} := <VALUE> { ... })`);
        } else head.value = val;
        break;
      }
    }
    if (!head.value && !head.key) {
      if (head.reference.length !== 2 || (head.args && head.args.length > 0)) {
        metaOf(head).generatedValue = true;
        head.value = mk({ type: 'boolean', value: true }, { ...loc, text: this.text(loc.offset, this.s.lastEnd) });
      }
    }
    return finish(head, false);
  }

  private validateDefaultRuleValue(rule: Rule): boolean {
    if (!rule.head.value) {
      this.error(rule.location!, 'illegal default rule (must have a value)');
      return false;
    }
    let valid = true;
    const visit = (t: Term): void => {
      const v = t.value;
      switch (v.type) {
        case 'arraycomprehension': case 'objectcomprehension': case 'setcomprehension': case 'templatestring':
          return;
        case 'ref': case 'var': case 'call':
          this.error(rule.location!, `illegal default rule (value cannot contain ${typeName(v)})`);
          valid = false;
          return;
        case 'array': case 'set':
          v.value.forEach(visit);
          return;
        case 'object':
          for (const [k, x] of v.value) { visit(k); visit(x); }
          return;
      }
    };
    visit(rule.head.value);
    return valid;
  }

  private validateDefaultRuleArgs(rule: Rule): boolean {
    let valid = true;
    const seen = new Set<string>();
    for (const a of rule.head.args ?? []) {
      if (a.value.type === 'var') {
        if (seen.has(a.value.value)) {
          this.error(rule.location!, `illegal default rule (arguments cannot be repeated ${a.value.value})`);
          valid = false;
        }
        seen.add(a.value.value);
      } else {
        this.error(rule.location!, `illegal default rule (arguments cannot contain ${valueName(a.value)})`);
        valid = false;
      }
    }
    return valid;
  }

  // ---------------------------------------------------------------- bodies and literals

  private parseBody(end: Tok): Body | undefined {
    this.enter();
    try {
      return this.parseQuery(false, end);
    } finally {
      this.leave();
    }
  }

  private parseQuery(requireSemi: boolean, end: Tok): Body | undefined {
    const body: Body = [];
    if (this.at(end)) {
      this.error(this.loc(), 'found empty body');
      return undefined;
    }
    for (;;) {
      const expr = this.parseLiteral();
      if (!expr) return undefined;
      expr.index = body.length;
      body.push(expr);
      if (this.at(Tok.Semicolon)) {
        this.scan();
        continue;
      }
      if (this.at(end) || requireSemi) return body;
      if (!this.s.skippedNL) {
        if (this.s.errors.length === 0) this.illegal(`expected \\n or ${TOKEN_NAMES[Tok.Semicolon]} or ${TOKEN_NAMES[end]}`);
        return undefined;
      }
    }
  }

  parseLiteral(): Expr | undefined {
    const offset = this.s.offset;
    const loc = this.loc();
    const done = (e: Expr | undefined): Expr | undefined => {
      if (e) e.location = { ...loc, text: this.text(offset, this.s.lastEnd) };
      return e;
    };
    if (this.isAllowedRefKeyword(this.s.tok)) {
      const s = this.save();
      this.scanWS();
      const tok = this.s.tok;
      this.restore(s);
      if (tok === Tok.Dot || tok === Tok.LBrack) {
        this.s.tok = Tok.Ident;
        return done(this.parseLiteralExpr(false));
      }
    }
    let negated = false;
    if (this.at(Tok.Not)) {
      const s = this.save();
      this.scanWS();
      const tok = this.s.tok;
      this.restore(s);
      if (tok !== Tok.Dot && tok !== Tok.LBrack) {
        this.scan();
        negated = true;
      }
    }
    switch (this.cur()) {
      case Tok.Some:
        if (negated) {
          this.illegal("illegal negation of 'some'");
          return undefined;
        }
        return done(this.parseSome());
      case Tok.Every:
        if (negated) {
          this.illegal("illegal negation of 'every'");
          return undefined;
        }
        return done(this.parseEvery());
      default:
        return done(this.parseLiteralExpr(negated));
    }
  }

  private parseLiteralExpr(negated: boolean): Expr | undefined {
    const expr = this.parseExpr();
    if (expr) {
      expr.negated = negated;
      if (this.at(Tok.With)) {
        const w = this.parseWith();
        if (!w) return undefined;
        expr.with = w;
      }
    }
    return expr;
  }

  private parseWith(): With[] | undefined {
    const withs: With[] = [];
    for (;;) {
      const loc = this.loc();
      this.scan();
      if (!this.at(Tok.Ident)) {
        this.illegal('expected ident');
        return undefined;
      }
      const target = this.parseTerm();
      if (!target) return undefined;
      if (target.value.type !== 'ref' && target.value.type !== 'var') this.illegal('expected with target path');
      if (!this.at(Tok.As)) {
        this.illegal('expected as keyword');
        return undefined;
      }
      this.scan();
      const value = this.parseTermInfixCall();
      if (!value) return undefined;
      loc.text = this.text(loc.offset, this.s.lastEnd);
      withs.push({ target, value, location: loc });
      if (!this.at(Tok.With)) break;
    }
    return withs;
  }

  private parseSome(): Expr | undefined {
    const declLoc = this.loc();
    const decl: SomeDecl = { type: 'some', symbols: [], location: declLoc };
    // first try `some x in xs` / `some k, v in xs`
    const s = this.save();
    this.scan();
    const term = this.parseTermInfixCall();
    if (term && term.value.type === 'call') {
      const call = term.value.value;
      const op = termToString(call[0]!);
      if (op === 'internal.member_2') {
        if (call.length !== 3) {
          this.illegal('illegal domain');
          return undefined;
        }
      } else if (op === 'internal.member_3') {
        if (call.length !== 4) {
          this.illegal('illegal domain');
          return undefined;
        }
      } else {
        this.illegal('expected `x in xs` or `x, y in xs` expression');
        return undefined;
      }
      decl.symbols = [term];
      const expr = mkExpr(decl, 0, declLoc);
      if (this.at(Tok.With)) {
        const w = this.parseWith();
        if (!w) return undefined;
        expr.with = w;
      }
      return expr;
    }
    this.restore(s);
    for (;;) {
      this.scan();
      if (!this.at(Tok.Ident)) {
        this.illegal('expected var');
        return undefined;
      }
      decl.symbols.push(this.parseVar());
      this.scan();
      if (!this.at(Tok.Comma)) break;
    }
    return mkExpr(decl, 0, declLoc);
  }

  private parseEvery(): Expr | undefined {
    const loc = this.loc();
    this.scan();
    const term = this.parseTermInfixCall();
    if (!term) return undefined;
    if (term.value.type !== 'call') {
      this.illegal('expected `x[, y] in xs { ... }` expression');
      return undefined;
    }
    const call = term.value.value;
    const op = termToString(call[0]!);
    let key: Term | undefined;
    let value: Term;
    let domain: Term;
    if (op === 'internal.member_2') {
      if (call.length !== 3) {
        this.illegal('illegal domain');
        return undefined;
      }
      value = call[1]!;
      domain = call[2]!;
    } else if (op === 'internal.member_3') {
      if (call.length !== 4) {
        this.illegal('illegal domain');
        return undefined;
      }
      key = call[1]!;
      value = call[2]!;
      domain = call[3]!;
      if (key.value.type !== 'var') {
        this.illegal('expected key to be a variable');
        return undefined;
      }
    } else {
      this.illegal('expected `x[, y] in xs { ... }` expression');
      return undefined;
    }
    if (value.value.type !== 'var') {
      this.illegal('expected value to be a variable');
      return undefined;
    }
    if (this.at(Tok.LBrace)) {
      this.scan();
      const body = this.parseBody(Tok.RBrace);
      if (!body) return undefined;
      this.scan();
      const every: Every = { type: 'every', value, domain, body, location: loc };
      if (key) every.key = key;
      const expr = mkExpr(every, 0, loc);
      if (this.at(Tok.With)) {
        const w = this.parseWith();
        if (!w) return undefined;
        expr.with = w;
      }
      return expr;
    }
    this.illegal('missing body');
    return undefined;
  }

  private parseExpr(): Expr | undefined {
    const lhs = this.parseTermInfixCall();
    if (!lhs) return undefined;
    const op = this.parseTermOp(Tok.Assign, Tok.Unify);
    if (op) {
      const rhs = this.parseTermInfixCall();
      if (!rhs) return undefined;
      return mkExpr([op, lhs, rhs], 0);
    }
    // a top-level call becomes the expression itself, as in OPA
    if (lhs.value.type === 'call') return mkExpr(lhs.value.value, 0);
    return mkExpr(lhs, 0);
  }

  // ---------------------------------------------------------------- operators (precedence climbing as OPA)

  parseTermInfixCall(): Term | undefined {
    this.enter();
    try {
      return this.parseTermIn(undefined, true, this.s.offset);
    } finally {
      this.leave();
    }
  }

  private parseTermInfixCallInList(): Term | undefined {
    this.enter();
    try {
      return this.parseTermIn(undefined, false, this.s.offset);
    } finally {
      this.leave();
    }
  }

  private parseTermIn(lhs: Term | undefined, keyVal: boolean, offset: number): Term | undefined {
    this.enter();
    try {
      if (!lhs) lhs = this.parseTermRelation(undefined, offset);
      if (lhs) {
        if (keyVal && this.at(Tok.Comma)) {
          const s = this.save();
          this.scan();
          const mhs = this.parseTermRelation(undefined, offset);
          if (mhs) {
            const op = this.parseTermOpName('member_3', Tok.In);
            if (op) {
              const rhs = this.parseTermRelation(undefined, this.s.offset);
              if (rhs) {
                const call = this.setLoc(mk({ type: 'call', value: [op, lhs, mhs, rhs] }), lhs.location, offset, this.s.lastEnd)!;
                if (this.at(Tok.In)) return this.parseTermIn(call, keyVal, offset);
                return call;
              }
            }
          }
          this.restore(s);
        }
        this.scanAheadRef();
        const op = this.parseTermOpName('member_2', Tok.In);
        if (op) {
          const rhs = this.parseTermRelation(undefined, this.s.offset);
          if (rhs) {
            const call = this.setLoc(mk({ type: 'call', value: [op, lhs, rhs] }), lhs.location, offset, this.s.lastEnd)!;
            if (this.at(Tok.In)) return this.parseTermIn(call, keyVal, offset);
            return call;
          }
        }
      }
      return lhs;
    } finally {
      this.leave();
    }
  }

  private binary(
    lhs: Term | undefined,
    offset: number,
    ops: Tok[],
    next: (offset: number) => Term | undefined,
    self: (lhs: Term, offset: number) => Term | undefined,
    nullOnFail: boolean,
  ): Term | undefined {
    this.enter();
    try {
      if (!lhs) lhs = next(offset);
      if (lhs) {
        const op = this.parseTermOp(...ops);
        if (op) {
          const rhs = next(this.s.offset);
          if (rhs) {
            const call = this.setLoc(mk({ type: 'call', value: [op, lhs, rhs] }), lhs.location, offset, this.s.lastEnd)!;
            if (ops.includes(this.s.tok)) return self(call, offset);
            return call;
          }
          // OPA's relation/arith/factor levels fall back to lhs; or/and return nil
          if (nullOnFail) return lhs;
        }
        return lhs;
      }
      return undefined;
    } finally {
      this.leave();
    }
  }

  private parseTermRelation(lhs: Term | undefined, offset: number): Term | undefined {
    return this.binary(
      lhs, offset,
      [Tok.Equal, Tok.Neq, Tok.Lt, Tok.Gt, Tok.Lte, Tok.Gte],
      (o) => this.parseTermOr(undefined, o),
      (l, o) => this.parseTermRelation(l, o),
      false,
    );
  }

  private parseTermOr(lhs: Term | undefined, offset: number): Term | undefined {
    return this.binary(lhs, offset, [Tok.Or], (o) => this.parseTermAnd(undefined, o), (l, o) => this.parseTermOr(l, o), true);
  }

  private parseTermAnd(lhs: Term | undefined, offset: number): Term | undefined {
    return this.binary(lhs, offset, [Tok.And], (o) => this.parseTermArith(undefined, o), (l, o) => this.parseTermAnd(l, o), true);
  }

  private parseTermArith(lhs: Term | undefined, offset: number): Term | undefined {
    return this.binary(
      lhs, offset, [Tok.Add, Tok.Sub],
      (o) => this.parseTermFactor(undefined, o),
      (l, o) => this.parseTermArith(l, o),
      false,
    );
  }

  private parseTermFactor(lhs: Term | undefined, offset: number): Term | undefined {
    return this.binary(
      lhs, offset, [Tok.Mul, Tok.Quo, Tok.Rem],
      () => this.parseTerm(),
      (l, o) => this.parseTermFactor(l, o),
      false,
    );
  }

  private parseTermOp(...values: Tok[]): Term | undefined {
    if (values.includes(this.s.tok)) {
      const loc = this.loc();
      const r = mk({ type: 'ref', value: [mk({ type: 'var', value: TOKEN_NAMES[this.s.tok] }, loc)] }, { ...loc });
      this.scan();
      return r;
    }
    return undefined;
  }

  private parseTermOpName(member: 'member_2' | 'member_3', tok: Tok): Term | undefined {
    if (this.s.tok === tok) {
      const loc = this.loc();
      const t = mk(
        { type: 'ref', value: [mk({ type: 'var', value: 'internal' }, { ...loc }), mk({ type: 'string', value: member }, { ...loc })] },
        { ...loc },
      );
      this.scan();
      return t;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- terms

  parseTerm(): Term | undefined {
    this.enter();
    try {
      const o0 = this.s.offset;
      for (let h = this.cache; h && h.offset >= o0; h = h.next) {
        if (h.offset === o0) {
          this.restore(h.post);
          return h.term;
        }
      }
      let term: Term | undefined;
      switch (this.cur()) {
        case Tok.Null:
          term = mk({ type: 'null' }, this.loc());
          break;
        case Tok.True:
          term = mk({ type: 'boolean', value: true }, this.loc());
          break;
        case Tok.False:
          term = mk({ type: 'boolean', value: false }, this.loc());
          break;
        case Tok.Sub:
        case Tok.Dot:
        case Tok.Number:
          term = this.parseNumber();
          break;
        case Tok.String:
          term = this.parseString();
          break;
        case Tok.TemplateStringPart:
        case Tok.TemplateStringEnd:
          term = this.parseTemplateString(false);
          break;
        case Tok.RawTemplateStringPart:
        case Tok.RawTemplateStringEnd:
          term = this.parseTemplateString(true);
          break;
        case Tok.Ident:
        case Tok.Contains: // `contains` is only special in rule heads
          term = this.parseVar();
          break;
        case Tok.LBrack:
          term = this.parseArray();
          break;
        case Tok.LBrace:
          term = this.parseSetOrObject();
          break;
        case Tok.LParen: {
          const offset = this.s.offset;
          this.scan();
          const r = this.parseTermInfixCall();
          if (r) {
            if (this.at(Tok.RParen)) {
              if (r.location) r.location.text = this.text(offset, this.s.tokEnd);
              term = r;
            } else {
              this.error(this.loc(), 'non-terminated expression');
            }
          }
          break;
        }
        default:
          this.illegalToken();
      }
      term = this.parseTermFinish(term);
      let e = this.cache;
      while (e && e.offset >= o0) e = e.next;
      this.cache = { offset: o0, term, post: this.save(), next: e };
      return term;
    } finally {
      this.leave();
    }
  }

  private parseTermFinish(head: Term | undefined): Term | undefined {
    if (!head) return undefined;
    const offset = this.s.offset;
    this.scanWS();
    switch (this.cur()) {
      case Tok.LParen:
      case Tok.Dot:
      case Tok.LBrack:
        return this.parseRef(head, offset);
      case Tok.Whitespace:
        this.scan();
      // fallthrough
      default:
        if (head.value.type === 'var' && ROOT_DOCS.has(head.value.value)) {
          return mk({ type: 'ref', value: [head] }, head.location);
        }
        return head;
    }
  }

  private parseHeadFinish(head: Term): Term | undefined {
    const offset = this.s.offset;
    this.scanWS();
    switch (this.cur()) {
      case Tok.Add: case Tok.Sub: case Tok.Mul: case Tok.Quo: case Tok.Rem: case Tok.And: case Tok.Or:
      case Tok.Equal: case Tok.Neq: case Tok.Gt: case Tok.Gte: case Tok.Lt: case Tok.Lte:
        this.illegalToken();
        break;
      case Tok.Whitespace:
        this.doScan(true);
        break;
    }
    switch (this.cur()) {
      case Tok.LParen:
      case Tok.Dot:
      case Tok.LBrack:
        return this.parseRef(head, offset);
      case Tok.Whitespace:
        this.scan();
    }
    if (head.value.type === 'var' && ROOT_DOCS.has(head.value.value)) {
      return mk({ type: 'ref', value: [head] }, head.location);
    }
    return head;
  }

  private parseNumber(): Term | undefined {
    let prefix = '';
    const loc = this.loc();
    if (this.at(Tok.Sub)) {
      prefix = '-';
      this.scan();
      if (!this.at(Tok.Number) && !this.at(Tok.Dot)) {
        this.illegal('expected number');
        return undefined;
      }
    }
    if (this.at(Tok.Dot)) {
      prefix += '.';
      this.scan();
      if (!this.at(Tok.Number)) {
        this.illegal('expected number');
        return undefined;
      }
    }
    const lit = this.s.lit;
    const hasDecimalPrefix = prefix.endsWith('.');
    if (!hasDecimalPrefix && lit.length > 1 && lit[0] === '0') {
      const isDec = lit[1] === '.';
      const isSci = lit.length > 2 && (lit[1] === 'e' || lit[1] === 'E');
      if (!isDec && !isSci) {
        this.illegal('expected number without leading zero');
        return undefined;
      }
    }
    const s = prefix + lit;
    if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
      this.illegal('invalid float');
      return undefined;
    }
    if (numberTooBig(s)) {
      this.error(this.loc(), 'number too big');
      return undefined;
    }
    loc.text = this.text(loc.offset, this.s.tokEnd);
    return mk({ type: 'number', value: s }, loc);
  }

  private parseString(): Term | undefined {
    const lit = this.s.lit;
    if (lit[0] === '"') {
      const inner = lit.slice(1, -1);
      if (!inner.includes('\\')) return mk({ type: 'string', value: inner }, this.loc());
      const v = decodeJSONString(lit);
      if (v === undefined) {
        this.error(this.loc(), `illegal string literal: ${lit}`);
        return undefined;
      }
      return mk({ type: 'string', value: v }, this.loc());
    }
    if (lit.length < 2) return undefined;
    return mk({ type: 'string', value: lit.slice(1, -1) }, this.loc());
  }

  private parseTemplateString(multiLine: boolean): Term | undefined {
    const loc = this.loc();
    const parts: Array<{ kind: 'text'; value: string } | { kind: 'expr'; expr: Expr }> = [];
    for (;;) {
      const s = templatePartText(this.s.tok, this.s.lit);
      if (s === undefined) {
        this.error(this.loc(), `illegal template-string part: ${this.s.lit}`);
        return undefined;
      }
      if (s.length > 0) parts.push({ kind: 'text', value: s });
      if (this.at(Tok.TemplateStringEnd) || this.at(Tok.RawTemplateStringEnd)) break;
      this.scan();
      const expr = this.parseLiteral();
      if (!expr) {
        this.error(this.loc(), 'invalid template-string expression');
        return undefined;
      }
      if (expr.negated) {
        this.error(expr.location!, "unexpected negation ('not') in template-string expression");
        return undefined;
      }
      const op = Array.isArray(expr.terms) ? termToString(expr.terms[0]!) : '';
      if (op === 'eq' && (expr.terms as Term[]).length === 3) {
        this.error(expr.location!, "unexpected unification ('=') in template-string expression");
        return undefined;
      }
      if (op === 'assign' && (expr.terms as Term[]).length === 3) {
        this.error(expr.location!, "unexpected assignment (':=') in template-string expression");
        return undefined;
      }
      const t = expr.terms;
      if (!Array.isArray(t) && 'type' in t && t.type === 'every') {
        this.error(expr.location!, "unexpected 'every' in template-string expression");
        return undefined;
      }
      if (!Array.isArray(t) && 'type' in t && t.type === 'some') {
        this.error(expr.location!, "unexpected 'some' in template-string expression");
        return undefined;
      }
      parts.push({ kind: 'expr', expr });
      if (!this.at(Tok.RBrace)) {
        this.error(this.loc(), 'expected } to end template string expression');
        return undefined;
      }
      this.doScan(false, { raw: multiLine });
    }
    loc.text = this.text(loc.offset, this.s.tokEnd);
    return mk({ type: 'templatestring', parts, multiLine }, loc);
  }

  private parseCall(operator: Term, offset: number): Term | undefined {
    this.enter();
    try {
      const loc = operator.location;
      this.scan(); // over '('
      if (this.at(Tok.RParen)) {
        const end = this.s.tokEnd;
        this.scanWS();
        const op = operator.value;
        if (op.type === 'ref' && op.value.length === 1 && op.value[0]!.value.type === 'var' && op.value[0]!.value.value === 'set') {
          return this.setLoc(mk({ type: 'set', value: [] }), loc, offset, end);
        }
        return this.setLoc(mk({ type: 'call', value: [operator] }), loc, offset, end);
      }
      const r = this.parseTermList(Tok.RParen, [operator]);
      if (r) {
        const end = this.s.tokEnd;
        this.scanWS();
        return this.setLoc(mk({ type: 'call', value: r }), loc, offset, end);
      }
      return undefined;
    } finally {
      this.leave();
    }
  }

  private parseRef(head: Term, offset: number): Term | undefined {
    this.enter();
    try {
      const loc = head.location;
      switch (head.value.type) {
        case 'var': case 'array': case 'object': case 'set': case 'arraycomprehension':
        case 'objectcomprehension': case 'setcomprehension': case 'call':
          break;
        default:
          this.error(loc ?? this.loc(), `illegal ref (head cannot be ${valueName(head.value)})`);
      }
      const ref: Term[] = [head];
      for (;;) {
        switch (this.cur()) {
          case Tok.Dot:
            this.scanWS();
            if (!this.at(Tok.Ident) && !this.isAllowedRefKeyword(this.s.tok)) {
              this.illegal(`expected ${TOKEN_NAMES[Tok.Ident]}`);
              return undefined;
            }
            ref.push(mk({ type: 'string', value: this.s.lit }, this.loc()));
            this.scanWS();
            break;
          case Tok.LParen: {
            const op = this.setLoc(mk({ type: 'ref', value: ref }), loc, offset, this.s.offset);
            let term = this.parseCall(op!, offset);
            if (term) {
              if (this.at(Tok.Whitespace)) {
                this.scan();
                return this.setLoc(term, loc, offset, this.s.lastEnd);
              }
              if (this.at(Tok.Dot) || this.at(Tok.LBrack)) term = this.parseRef(term, offset);
            }
            return this.setLoc(term, loc, offset, this.s.lastEnd);
          }
          case Tok.LBrack: {
            this.scan();
            const term = this.parseTermInfixCall();
            if (!term) return undefined;
            if (!this.at(Tok.RBrack)) {
              this.illegal(`expected ${TOKEN_NAMES[Tok.LBrack]}`);
              return undefined;
            }
            ref.push(term);
            this.scanWS();
            break;
          }
          case Tok.Whitespace: {
            const end = this.s.lastEnd;
            this.scan();
            return this.setLoc(mk({ type: 'ref', value: ref }), loc, offset, end);
          }
          default:
            return this.setLoc(mk({ type: 'ref', value: ref }), loc, offset, this.s.lastEnd);
        }
      }
    } finally {
      this.leave();
    }
  }

  private parseArray(): Term | undefined {
    this.enter();
    try {
      const loc = this.loc();
      const offset = this.s.offset;
      const done = (t: Term | undefined): Term | undefined => this.setLoc(t, loc, offset, this.s.tokEnd);
      this.scan();
      if (this.at(Tok.RBrack)) return done(mk({ type: 'array', value: [] }));
      let potentialComprehension = true;
      if (this.at(Tok.Comma)) {
        potentialComprehension = false;
        this.scan();
      }
      const s = this.save();
      // comprehensions take priority over `|` calls: `[a | b]` is a comprehension
      const head = this.parseTerm();
      if (!head) return undefined;
      switch (this.cur()) {
        case Tok.RBrack:
          return done(mk({ type: 'array', value: [head] }));
        case Tok.Comma: {
          this.scan();
          const terms = this.parseTermList(Tok.RBrack, [head]);
          return terms ? done(mk({ type: 'array', value: terms })) : undefined;
        }
        case Tok.Or:
          if (potentialComprehension) {
            this.scan();
            const body = this.parseBody(Tok.RBrack);
            if (body) return done(mk({ type: 'arraycomprehension', term: head, body }));
            if (!this.at(Tok.Comma)) return undefined;
          }
      }
      this.restore(s);
      const terms = this.parseTermList(Tok.RBrack, []);
      return terms ? done(mk({ type: 'array', value: terms })) : undefined;
    } finally {
      this.leave();
    }
  }

  private parseSetOrObject(): Term | undefined {
    this.enter();
    try {
      const loc = this.loc();
      const offset = this.s.offset;
      const done = (t: Term | undefined): Term | undefined => this.setLoc(t, loc, offset, this.s.tokEnd);
      this.scan();
      if (this.at(Tok.RBrace)) return done(mk({ type: 'object', value: [] }));
      let potentialComprehension = true;
      if (this.at(Tok.Comma)) {
        potentialComprehension = false;
        this.scan();
      }
      const s = this.save();
      let head = this.parseTerm();
      if (!head) return undefined;
      switch (this.cur()) {
        case Tok.Or:
          if (potentialComprehension) return done(this.parseSet(s, head, potentialComprehension));
          break;
        case Tok.RBrace:
        case Tok.Comma:
          return done(this.parseSet(s, head, potentialComprehension));
        case Tok.Colon:
          return done(this.parseObject(head, potentialComprehension));
      }
      this.restore(s);
      head = this.parseTermInfixCallInList();
      if (!head) return undefined;
      switch (this.cur()) {
        case Tok.RBrace:
        case Tok.Comma:
          return done(this.parseSet(s, head, false));
        case Tok.Colon:
          return done(this.parseObject(head, potentialComprehension));
      }
      this.illegal('non-terminated set');
      return undefined;
    } finally {
      this.leave();
    }
  }

  private parseSet(s: State, head: Term, potentialComprehension: boolean): Term | undefined {
    this.enter();
    try {
      switch (this.cur()) {
        case Tok.RBrace:
          return mk({ type: 'set', value: [head] });
        case Tok.Comma: {
          this.scan();
          const terms = this.parseTermList(Tok.RBrace, [head]);
          return terms ? mk({ type: 'set', value: terms }) : undefined;
        }
        case Tok.Or: {
          if (potentialComprehension) {
            this.scan();
            const body = this.parseBody(Tok.RBrace);
            if (body) return mk({ type: 'setcomprehension', term: head, body });
            if (!this.at(Tok.Comma)) return undefined;
          }
          this.restore(s);
          const terms = this.parseTermList(Tok.RBrace, []);
          return terms ? mk({ type: 'set', value: terms }) : undefined;
        }
      }
      return undefined;
    } finally {
      this.leave();
    }
  }

  private parseObject(k: Term, potentialComprehension: boolean): Term | undefined {
    this.enter();
    try {
      this.scan(); // over ':'
      const s = this.save();
      const v = this.parseTerm();
      if (!v) return undefined;
      let potentialRelation = true;
      if (potentialComprehension) {
        if (this.at(Tok.RBrace) || this.at(Tok.Comma) || this.at(Tok.Or)) {
          if (!this.at(Tok.Or)) potentialRelation = false;
          const term = this.parseObjectFinish(k, v, true);
          if (term) return term;
        }
      }
      this.restore(s);
      if (potentialRelation) {
        const v2 = this.parseTermInfixCallInList();
        if (!v2) return undefined;
        if (this.at(Tok.RBrace) || this.at(Tok.Comma)) return this.parseObjectFinish(k, v2, false);
      }
      this.illegal('non-terminated object');
      return undefined;
    } finally {
      this.leave();
    }
  }

  private parseObjectFinish(key: Term, val: Term, potentialComprehension: boolean): Term | undefined {
    this.enter();
    try {
      switch (this.cur()) {
        case Tok.RBrace:
          return mk({ type: 'object', value: [[key, val]] });
        case Tok.Or:
          if (potentialComprehension) {
            this.scan();
            const body = this.parseBody(Tok.RBrace);
            if (body) return mk({ type: 'objectcomprehension', key, value: val, body });
          } else {
            this.illegal('non-terminated object');
          }
          break;
        case Tok.Comma: {
          this.scan();
          const r = this.parseTermPairList(Tok.RBrace, [[key, val]]);
          if (r) return mk({ type: 'object', value: r });
        }
      }
      return undefined;
    } finally {
      this.leave();
    }
  }

  private parseTermList(end: Tok, r: Term[]): Term[] | undefined {
    if (this.at(end)) return r;
    for (;;) {
      const term = this.parseTermInfixCallInList();
      if (!term) return undefined;
      r.push(term);
      if (this.at(end)) return r;
      if (this.at(Tok.Comma)) {
        this.scan();
        if (this.at(end)) return r;
        continue;
      }
      this.illegal(`expected ${JSON.stringify(TOKEN_NAMES[Tok.Comma])} or ${JSON.stringify(TOKEN_NAMES[end])}`);
      return undefined;
    }
  }

  private parseTermPairList(end: Tok, r: Array<[Term, Term]>): Array<[Term, Term]> | undefined {
    if (this.at(end)) return r;
    for (;;) {
      const key = this.parseTermInfixCallInList();
      if (!key) return undefined;
      if (!this.at(Tok.Colon)) {
        this.illegal(`expected ${JSON.stringify(TOKEN_NAMES[Tok.Colon])}`);
        return undefined;
      }
      this.scan();
      const val = this.parseTermInfixCallInList();
      if (!val) return undefined;
      r.push([key, val]);
      if (this.at(end)) return r;
      if (this.at(Tok.Comma)) {
        this.scan();
        if (this.at(end)) return r;
        continue;
      }
      this.illegal(`expected ${JSON.stringify(TOKEN_NAMES[Tok.Comma])} or ${JSON.stringify(TOKEN_NAMES[end])}`);
      return undefined;
    }
  }

  private parseVar(): Term {
    if (this.s.lit === '_') return mk(this.genwildcard(), this.loc());
    return mk({ type: 'var', value: this.s.lit }, this.loc());
  }

  private genwildcard(): Value {
    return { type: 'var', value: `$${this.s.wildcard++}` };
  }

  private setLoc(term: Term | undefined, loc: Location | undefined, offset: number, end: number): Term | undefined {
    if (term && loc) term.location = { ...loc, text: this.text(offset, end) };
    return term;
  }
}

// ---------------------------------------------------------------- helpers

export function mk(value: Value, location?: Location): Term {
  return location ? { value, location } : { value };
}

function mkExpr(terms: Expr['terms'], index: number, location?: Location): Expr {
  const e: Expr = { index, negated: false, terms, with: [] };
  if (location) e.location = location;
  return e;
}

function refHead(ref: Term[]): Head {
  const h: Head = { name: '', reference: ref, assign: false };
  if (ref.length < 2 && ref[0]!.value.type === 'var') h.name = ref[0]!.value.value;
  return h;
}

/** Deep copy of a head; OPA's Head.Copy drops the keywords. */
export function copyHead(h: Head): Head {
  return clone(h);
}

/** Sets `location` on every node (term, expr, head, with, some, every) under x, as OPA's setLocRecursive. */
export function setLocRecursive(x: unknown, loc: Location): void {
  if (Array.isArray(x)) {
    for (const y of x) setLocRecursive(y, loc);
    return;
  }
  if (!x || typeof x !== 'object') return;
  const o = x as Record<string, unknown>;
  const isNode =
    ('value' in o && o.value && typeof o.value === 'object' && 'type' in (o.value as object) && !('type' in o)) ||
    ('terms' in o && 'index' in o) ||
    'reference' in o ||
    ('target' in o && 'value' in o) ||
    o.type === 'some' ||
    o.type === 'every';
  if (isNode) o.location = { ...loc };
  for (const [k, v] of Object.entries(o)) if (k !== 'location') setLocRecursive(v, loc);
}

function valueName(v: Value): string {
  switch (v.type) {
    case 'null': return 'null';
    case 'boolean': return 'boolean';
    case 'number': return 'number';
    case 'string': return 'string';
    case 'var': return 'var';
    case 'ref': return 'ref';
    case 'array': return 'array';
    case 'object': return 'object';
    case 'set': return 'set';
    case 'arraycomprehension': return 'arraycomprehension';
    case 'objectcomprehension': return 'objectcomprehension';
    case 'setcomprehension': return 'setcomprehension';
    case 'call': return 'call';
    case 'templatestring': return 'templatestring';
  }
}

/** OPA's TypeName (used in default-rule errors). */
function typeName(v: Value): string {
  return valueName(v);
}


/** Decodes a double-quoted JSON string literal (with its quotes); undefined if invalid. */
export function decodeJSONString(lit: string): string | undefined {
  try {
    const v: unknown = JSON.parse(lit);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function templatePartText(tok: Tok, lit: string): string | undefined {
  switch (tok) {
    case Tok.TemplateStringPart:
    case Tok.TemplateStringEnd: {
      const inner = lit.slice(1, -1);
      if (!inner.includes('\\')) return inner;
      return decodeJSONString('"' + inner + '"');
    }
    case Tok.RawTemplateStringPart:
    case Tok.RawTemplateStringEnd:
      return lit.slice(1, -1);
    default:
      return undefined;
  }
}

/**
 * OPA rejects numbers whose binary exponent exceeds 1e5 (about 10^30103), to keep
 * big-float formatting cheap. We approximate with the decimal exponent.
 */
function numberTooBig(s: string): boolean {
  const m = /^-?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return false;
  const intPart = (m[1] ?? '').replace(/^0+/, '');
  const frac = m[2] ?? '';
  const exp = m[3] ? Number(m[3]) : 0;
  let mag: number;
  if (intPart.length > 0) mag = intPart.length + exp;
  else {
    const lead = frac.match(/^0*/)![0].length;
    if (lead === frac.length) return false; // zero
    mag = -lead + exp;
  }
  return !Number.isFinite(mag) || Math.abs(mag) > 30102;
}
