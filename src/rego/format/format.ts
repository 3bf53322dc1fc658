// Canonical Rego formatting, as OPA's `opa fmt` does it (v1/format/format.go, Rego v1): the
// module is parsed and written back with tabs, one blank line between rules (adjacent
// one-liners stay grouped), sorted import groups, `:=` and `if`/`contains`, infix operators for
// builtin calls, and the author's line breaks kept inside composites, calls and comprehensions.
// Comments are re-attached by row, as OPA does. Functions follow format.go's writer one for one
// (same names), so that OPA's source stays the reference for every layout decision.
import type { Body, Comment, Every, Expr, Head, Import, Location, Module, RegoError, Rule, SomeDecl, Term, Value, With } from '../ast/types.js';
import { parseModule } from '../parser/index.js';
import { escapeTemplateText, goQuote, isVarCompatible, KEYWORDS_V1, refString, termString, varString } from './strings.js';

/** OPA's ast.BuiltinMap entries that have an infix form: name -> [operator, arity]. */
const INFIX: Record<string, [string, number]> = {
  eq: ['=', 2],
  assign: [':=', 2],
  equal: ['==', 2],
  neq: ['!=', 2],
  lt: ['<', 2],
  lte: ['<=', 2],
  gt: ['>', 2],
  gte: ['>=', 2],
  plus: ['+', 2],
  minus: ['-', 2],
  mul: ['*', 2],
  div: ['/', 2],
  rem: ['%', 2],
  and: ['&', 2],
  or: ['|', 2],
  'internal.member_2': ['in', 2],
  'internal.member_3': ['in', 3],
};

const NO_LOC: Location = { file: '', row: 1, col: 1, offset: 0, text: '' };
const NEGATIVE_ROW: Location = { file: '', row: -1, col: 0, offset: 0 };

/** A comment that cannot be placed where the layout needs it: the term is written as it was. */
class UnexpectedComment extends Error {
  constructor(newComment: string, newRow: number, existing = '', existingRow = 0) {
    super(`unexpected new comment (${newComment}) on line ${newRow} because there is already a comment (${existing}) registered for line ${existingRow}`);
  }
}

type Err = Error | undefined;
type Res = [Comment[], Err];
const isUnexpected = (e: Err): boolean => e instanceof UnexpectedComment;

const loc = (x: { location?: Location } | undefined): Location => x?.location ?? NO_LOC;
const text = (l: Location): string => l.text ?? '';
const lines = (s: string): number => s.split('\n').length - 1;
const commentString = (c: Comment): string => '#' + c.text;
const isMetadataComment = (c: Comment): boolean => c.text.trim() === 'METADATA';
const truncated = (s: string, max: number): string => (s.length > max ? s.slice(0, max - 2) + '...' : s);

function opName(t: Term): string {
  return t.value.type === 'ref' ? refString(t.value.value) : termString(t);
}

function isCallTo(t: Term, name: string): boolean {
  return t.value.type === 'call' && opName(t.value.value[0]!) === name;
}
const isUnionCall = (t: Term): boolean => isCallTo(t, 'or');

const isTrueTerm = (t: Term | undefined): boolean => t?.value.type === 'boolean' && t.value.value === true;
const sameLoc = (a?: Location, b?: Location): boolean => !!a && !!b && a.row === b.row && a.col === b.col && a.offset === b.offset;

function isGround(t: Term): boolean {
  const v = t.value;
  switch (v.type) {
    case 'var':
    case 'arraycomprehension':
    case 'setcomprehension':
    case 'objectcomprehension':
    case 'templatestring':
      return false;
    case 'ref':
    case 'array':
    case 'set':
    case 'call':
      return v.value.every(isGround);
    case 'object':
      return v.value.every(([k, x]) => isGround(k) && isGround(x));
    default:
      return true;
  }
}

/** `{ true }`: the body OPA gives rules written without one. */
function isExpandedConstBody(body: Body): boolean {
  if (body.length !== 1) return false;
  const e = body[0]!;
  return !e.negated && e.with.length === 0 && !Array.isArray(e.terms) && !('type' in e.terms) && isTrueTerm(e.terms as Term);
}

function isSetTerm(e: Expr): boolean {
  if (e.negated) return false;
  const t = e.terms;
  return !Array.isArray(t) && !('type' in t) && (t as Term).value.type === 'set';
}

type Elem = Term | [Term, Term] | Expr;
const elemLoc = (x: Elem): Location => (Array.isArray(x) ? loc(x[0]) : loc(x));

function locCmp(a: Location, b: Location): number {
  return a.row - b.row || a.col - b.col;
}

function walkTerms(x: unknown, f: (t: Term) => boolean): boolean {
  if (Array.isArray(x)) return x.some((y) => walkTerms(y, f));
  if (!x || typeof x !== 'object') return false;
  const o = x as Record<string, unknown>;
  if ('value' in o && o.value && typeof o.value === 'object' && 'type' in (o.value as object) && f(o as unknown as Term)) return true;
  for (const [k, v] of Object.entries(o)) if (k !== 'location' && walkTerms(v, f)) return true;
  return false;
}

/** OPA's closingLoc: the row of the bracket closing the first `openChar` (after skipping a head's args/key). */
function closingLoc(skipOpen: string, skipClose: string, openChar: string, closeChar: string, l: Location): Location {
  const t = text(l);
  let i = 0;
  let offset = 0;
  if (skipOpen) [i, offset] = skipPast(skipOpen, skipClose, t);
  for (; i < t.length; i++) if (t[i] === openChar) break;
  if (i >= t.length) return NEGATIVE_ROW;
  let state = 1;
  while (state > 0) {
    i++;
    if (i >= t.length) return NEGATIVE_ROW;
    const c = t[i];
    if (c === openChar) state++;
    else if (c === closeChar) state--;
    else if (c === '\n') offset++;
  }
  return { file: '', row: l.row + offset, col: 0, offset: 0 };
}

function skipPast(openChar: string, closeChar: string, t: string): [number, number] {
  let i = 0;
  for (; i < t.length; i++) if (t[i] === openChar) break;
  let state = 1;
  let offset = 0;
  while (state > 0) {
    i++;
    if (i >= t.length) return [i, offset];
    const c = t[i];
    if (c === openChar) state++;
    else if (c === closeChar) state--;
    else if (c === '\n') offset++;
  }
  return [i, offset];
}

function partitionComments(comments: Comment[], l: Location): [Comment[], Comment | undefined, Comment[]] {
  const before: Comment[] = [];
  const after: Comment[] = [];
  let at: Comment | undefined;
  for (const c of comments) {
    const d = c.location.row - l.row;
    if (d < 0) before.push(c);
    else if (d > 0) after.push(c);
    else at = c;
  }
  return [before, at, after];
}

function importPath(imp: Import): Term[] {
  return imp.path.value.type === 'ref' ? imp.path.value.value : [imp.path];
}

function isFutureKeywordsImport(imp: Import): boolean {
  const p = importPath(imp);
  return p.length >= 2 && p[0]!.value.type === 'var' && p[0]!.value.value === 'future';
}

function isRegoV1Import(imp: Import): boolean {
  const p = importPath(imp);
  return p.length === 2 && p[0]!.value.type === 'var' && p[0]!.value.value === 'rego' && p[1]!.value.type === 'string' && p[1]!.value.value === 'v1';
}

/** OPA's Import.Compare: paths element by element (shorter prefix first), then aliases. */
function importCompare(a: Import, b: Import): number {
  const pa = importPath(a);
  const pb = importPath(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = termString(pa[i]!);
    const y = termString(pb[i]!);
    if (x !== y) {
      const kx = pa[i]!.value.type === 'var' ? 1 : 0;
      const ky = pb[i]!.value.type === 'var' ? 1 : 0;
      if (kx !== ky) return kx - ky;
      const sx = pa[i]!.value.type === 'string' ? (pa[i]!.value as { value: string }).value : x;
      const sy = pb[i]!.value.type === 'string' ? (pb[i]!.value as { value: string }).value : y;
      return sx < sy ? -1 : sx > sy ? 1 : 0;
    }
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  const aa = a.alias ?? '';
  const ab = b.alias ?? '';
  return aa < ab ? -1 : aa > ab ? 1 : 0;
}

interface FmtOpts {
  refHeads: boolean;
}

class Writer {
  buf = '';
  level = 0;
  inline = false;
  beforeEnd: Comment | undefined;
  delay = false;
  errs: RegoError[] = [];
  writeCommentOnFinalLine = false;
  readonly indent = '\t';

  constructor(readonly opts: FmtOpts) {}

  // ---- module ------------------------------------------------------------------------------

  writeModule(module: Module): void {
    const others: Array<Import | Rule> = [...module.imports, ...module.rules];
    others.sort((a, b) => locCmp(loc(a), loc(b)));
    let comments = [...module.comments].sort((a, b) => locCmp(a.location, b.location));
    comments = comments.map((c) => ({ ...c, text: c.text.replace(/\s+$/u, '') }));
    comments = this.writePackage(module, comments);
    let rest = others;
    while (rest.length > 0) {
      let i = 0;
      const imports: Import[] = [];
      while (i < rest.length && !('head' in rest[i]!)) imports.push(rest[i++] as Import);
      comments = this.writeImports(imports, comments);
      const rules: Rule[] = [];
      while (i < rest.length && 'head' in rest[i]!) rules.push(rest[i++] as Rule);
      comments = this.writeRules(rules, comments);
      rest = rest.slice(i);
    }
    comments.forEach((c, i) => {
      this.writeLine(commentString(c));
      if (i === comments.length - 1) this.write('\n');
    });
  }

  writePackage(module: Module, comments: Comment[]): Comment[] {
    const pkg = module.package;
    [comments] = this.insertComments(comments, loc(pkg));
    this.startLine();
    const first = pkg.path[1];
    if (!first || first.value.type !== 'string') {
      this.errs.push({ code: 'rego_format_error', message: 'invalid package path', location: pkg.location });
      return comments;
    }
    const path: Term[] = [{ value: { type: 'var', value: first.value.value }, location: first.location }, ...pkg.path.slice(2)];
    this.write('package ');
    this.writeRef(path, []);
    this.blankLine();
    return comments;
  }

  writeComments(comments: Comment[]): void {
    let inMetadataBlock = false;
    comments.forEach((c, i) => {
      if (i > 0) {
        const l = c.location.row - comments[i - 1]!.location.row;
        if (l > 1) {
          this.blankLine();
          inMetadataBlock = false;
        } else if (l === 1 && inMetadataBlock && isMetadataComment(c)) this.blankLine();
      }
      if (isMetadataComment(c)) inMetadataBlock = true;
      this.writeLine(commentString(c));
    });
  }

  writeRules(rules: Rule[], comments: Comment[]): Comment[] {
    rules.forEach((rule, i) => {
      let err: Err;
      [comments, err] = this.insertComments(comments, loc(rule));
      if (err && !isUnexpected(err)) this.pushErr(err);
      [comments, err] = this.writeRule(rule, false, comments);
      if (err && !isUnexpected(err)) this.pushErr(err);
      if (i < rules.length - 1 && this.groupableOneLiner(rule)) {
        const next = rules[i + 1]!;
        if (this.groupableOneLiner(next) && loc(next).row === loc(rule).row + 1) return;
      }
      this.blankLine();
    });
    return comments;
  }

  groupableOneLiner(rule: Rule): boolean {
    return !(rule.body.length > 1 || rule.default || !rule.location);
  }

  writeRule(rule: Rule, isElse: boolean, comments: Comment[]): Res {
    if (!isElse) this.startLine();
    if (rule.default) this.write('default ');
    const isExpandedConst = isExpandedConstBody(rule.body) && !rule.else;
    this.writeCommentOnFinalLine = isExpandedConst;
    let err: Err;
    let unexpectedComment = false;
    [comments, err] = this.writeHead(rule.head, rule.default, isExpandedConst, comments);
    if (err) {
      if (isUnexpected(err)) unexpectedComment = true;
      else return [[], err];
    }
    if (rule.body.length === 0 || isExpandedConst) {
      this.endLine();
      return [comments, undefined];
    }
    this.writeCommentOnFinalLine = true;
    this.write(' if');
    if (rule.body.length === 1) {
      const head = loc(rule.head);
      const headEndRow = head.row + lines(text(head));
      if (loc(rule.body[0]).row === headEndRow && !isSetTerm(rule.body[0]!)) {
        this.write(' ');
        [comments, err] = this.writeExpr(rule.body[0]!, comments);
        if (err) return [[], err];
        this.endLine();
        if (rule.else) {
          [comments, err] = this.writeElse(rule, comments);
          if (err) return [[], err];
        }
        return [comments, undefined];
      }
    }
    if (unexpectedComment && comments.length > 0) this.write(' { ');
    else {
      this.write(' {');
      this.endLine();
    }
    this.up();
    [comments, err] = this.writeBody(rule.body, comments);
    if (err && !isUnexpected(err)) return [[], err];
    let closeLoc: Location;
    if (rule.head.args && rule.head.args.length > 0) closeLoc = closingLoc('(', ')', '{', '}', loc(rule));
    else if (rule.head.key) closeLoc = closingLoc('[', ']', '{', '}', loc(rule));
    else closeLoc = closingLoc('', '', '{', '}', loc(rule));
    [comments, err] = this.insertComments(comments, closeLoc);
    if (err) return [[], err];
    this.down();
    this.startLine();
    this.write('}');
    if (rule.else) {
      [comments, err] = this.writeElse(rule, comments);
      if (err) return [[], err];
    }
    return [comments, undefined];
  }

  writeElse(rule: Rule, comments: Comment[]): Res {
    const els = rule.else!;
    let wasInline = false;
    const ruleLines = text(loc(rule)).split('\n');
    const rel = loc(els).row - loc(rule).row;
    if (rel > 0 && rel < ruleLines.length && !ruleLines[rel]!.trim().startsWith('else')) wasInline = true;
    const hasCommentAbove = (comments.length > 0 && comments[0]!.location.row - loc(els.head).row < 0) || this.beforeEnd !== undefined;
    if (!hasCommentAbove && wasInline) this.write(' ');
    else {
      this.blankLine();
      this.startLine();
    }
    els.head.name = 'else';
    els.head.reference = [{ value: { type: 'var', value: 'else' }, location: els.head.location }];
    els.head.args = undefined;
    let err: Err;
    [comments, err] = this.insertComments(comments, loc(els.head));
    if (err) return [[], err];
    if (hasCommentAbove && !wasInline) this.startLine();
    if (els.head.value) els.head.value.location = els.head.location;
    return this.writeRule(els, true, comments);
  }

  writeHead(head: Head, isDefault: boolean, isExpandedConst: boolean, comments: Comment[]): Res {
    let ref = head.reference;
    if (head.key && !head.value && !ref.slice(1).some((t) => !isGround(t))) {
      const i = ref.findIndex((t, j) => j > 0 && !isGround(t));
      ref = i < 0 ? ref : ref.slice(0, i);
    }
    let err: Err;
    if (this.opts.refHeads || ref.length === 1) {
      [comments, err] = this.writeRef(ref, comments);
      if (err) return [[], err];
    } else {
      if (comments.length > 0 && loc(ref[1]).row === comments[0]!.location.row) return this.writeUnformatted(loc(head), comments);
      this.write(termString(ref[0]!));
      this.write('[');
      this.write(termString(ref[1]!));
      this.write(']');
    }
    if (head.args && head.args.length > 0) {
      this.write('(');
      [comments, err] = this.writeIterable(head.args, loc(head), closingLoc('', '', '(', ')', loc(head)), comments, this.listWriter(false));
      this.write(')');
      if (err) return [comments, err];
    }
    if (head.key && !head.value) {
      this.write(' contains ');
      [comments, err] = this.writeTerm(head.key, comments);
      if (err) return [comments, err];
    }
    if (head.value && (head.key || !isTrueTerm(head.value) || isExpandedConst || isDefault)) {
      // Rego v1 writes `:= true` for ref-head constants (`a.b.c := true`), not a bare head.
      const isRegoV1RefConst = isExpandedConst && !head.key && !(head.args && head.args.length > 0);
      if (sameLoc(head.location, head.value.location) && head.name !== 'else' && isTrueTerm(head.value) && !isRegoV1RefConst) return [comments, undefined];
      this.write(' := ');
      [comments, err] = this.writeTerm(head.value, comments);
      if (err) return [comments, err];
    }
    return [comments, undefined];
  }

  insertComments(comments: Comment[], l: Location): Res {
    const [before, at, after] = partitionComments(comments, l);
    this.writeComments(before);
    if (before.length > 0 && l.row - before[before.length - 1]!.location.row > 1) this.blankLine();
    return [after, this.beforeLineEnd(at)];
  }

  writeBody(body: Body, comments: Comment[]): Res {
    let err: Err;
    [comments, err] = this.insertComments(comments, loc(body[0]));
    if (err) return [comments, err];
    body.forEach((expr, i) => {
      if (i > 0) {
        const prev = loc(body[i - 1]);
        if (loc(expr).row > prev.row + lines(text(prev)) + 1) this.blankLine();
      }
      this.startLine();
      let e: Err;
      [comments, e] = this.writeExpr(expr, comments);
      if (e && !isUnexpected(e)) this.pushErr(e);
      this.endLine();
    });
    return [comments, undefined];
  }

  writeExpr(expr: Expr, comments: Comment[]): Res {
    let err: Err;
    [comments, err] = this.insertComments(comments, loc(expr));
    if (err) return [comments, err];
    if (!this.inline) this.startLine();
    if (expr.negated) this.write('not ');
    const t = expr.terms;
    if (Array.isArray(t)) [comments, err] = this.writeFunctionCall(expr, comments);
    else if ('type' in t && t.type === 'some') [comments, err] = this.writeSomeDecl(t, comments);
    else if ('type' in t && t.type === 'every') [comments, err] = this.writeEvery(t, loc(expr), comments);
    else [comments, err] = this.writeTerm(t as Term, comments);
    if (err) return [comments, err];
    if (expr.with.length === 0) return [comments, undefined];
    let withs = expr.with;
    let lastRow = exprTermsEndRow(expr);
    if (loc(withs[0]).row === lastRow) {
      [comments, err] = this.writeWith(withs[0]!, comments, false);
      if (err) return [comments, err];
      lastRow = loc(withs[0]).row;
      withs = withs.slice(1);
    }
    let indented = false;
    try {
      for (const w of withs) {
        const indent = loc(w).row > lastRow;
        if (indent) {
          if (!indented) {
            this.up();
            indented = true;
          }
          this.endLine();
          this.startLine();
          lastRow = loc(w).row;
        }
        [comments, err] = this.writeWith(w, comments, indent);
        if (err) return [comments, err];
      }
    } finally {
      if (indented) this.down();
    }
    return [comments, undefined];
  }

  writeSomeDecl(decl: SomeDecl, comments: Comment[]): Res {
    let err: Err;
    [comments, err] = this.insertComments(comments, loc(decl));
    if (err) return [[], err];
    this.write('some ');
    let row = loc(decl).row;
    for (let i = 0; i < decl.symbols.length; i++) {
      const term = decl.symbols[i]!;
      if (term.value.type === 'var') {
        if (loc(term).row > row) {
          this.endLine();
          this.startLine();
          this.write(this.indent);
          row = loc(term).row;
        } else if (i > 0) this.write(' ');
        [comments, err] = this.writeTerm(term, comments);
        if (err) return [[], err];
        if (i < decl.symbols.length - 1) this.write(',');
      } else if (term.value.type === 'call') {
        [comments, err] = this.writeInOperator(false, term.value.value.slice(1), comments, loc(decl), opName(term.value.value[0]!));
        if (err) return [[], err];
      }
    }
    return [comments, undefined];
  }

  writeEvery(every: Every, l: Location, comments: Comment[]): Res {
    let err: Err;
    [comments, err] = this.insertComments(comments, l);
    if (err) return [[], err];
    this.write('every ');
    if (every.key) {
      [comments, err] = this.writeTerm(every.key, comments);
      if (err) return [[], err];
      this.write(', ');
    }
    [comments, err] = this.writeTerm(every.value, comments);
    if (err) return [[], err];
    this.write(' in ');
    [comments, err] = this.writeTerm(every.domain, comments);
    if (err) return [[], err];
    this.write(' {');
    [comments, err] = this.writeComprehensionBody('{', '}', every.body, l, l, comments);
    if (err && !isUnexpected(err)) return [[], err];
    if (every.body.length === 1 && loc(every.body[0]).row === loc(every).row) this.write(' ');
    this.write('}');
    return [comments, undefined];
  }

  writeFunctionCall(expr: Expr, comments: Comment[]): Res {
    const terms = expr.terms as Term[];
    const operator = opName(terms[0]!);
    if (operator === 'internal.member_2' || operator === 'internal.member_3') return this.writeInOperator(false, terms.slice(1), comments, loc(terms[0]), operator);
    const bi = INFIX[operator];
    if (!bi) return this.writeFunctionCallPlain(terms, comments);
    const [infix, arity] = bi;
    let err: Err;
    const n = terms.length - 1;
    if (n === arity) {
      [comments, err] = this.writeTerm(terms[1]!, comments);
      if (err) return [[], err];
      this.write(` ${infix} `);
      return this.writeTerm(terms[2]!, comments);
    }
    if (n === arity + 1) {
      [comments, err] = this.writeTerm(terms[3]!, comments);
      if (err) return [[], err];
      this.write(' = ');
      [comments, err] = this.writeTerm(terms[1]!, comments);
      if (err) return [[], err];
      this.write(` ${infix} `);
      [comments, err] = this.writeTerm(terms[2]!, comments);
      if (err) return [[], err];
      return [comments, undefined];
    }
    this.arityError(terms.slice(1), operator, loc(terms[0]));
    return this.writeFunctionCallPlain(terms, comments);
  }

  writeFunctionCallPlain(terms: Term[], comments: Comment[]): Res {
    const op = terms[0]!;
    let err: Err;
    if (op.value.type === 'ref') {
      [comments, err] = this.writeRef(op.value.value, comments);
      if (err) return [comments, err];
    } else this.write(termString(op));
    this.write('(');
    try {
      const l = loc(op);
      [comments, err] = this.writeIterable(terms.slice(1), l, closingLoc('', '', '(', ')', l), comments, this.listWriter(false));
      if (err) return [[], err];
      return [comments, undefined];
    } finally {
      this.write(')');
    }
  }

  writeWith(w: With, comments: Comment[], indented: boolean): Res {
    let err: Err;
    [comments, err] = this.insertComments(comments, loc(w));
    if (err) return [[], err];
    if (!indented) this.write(' ');
    this.write('with ');
    [comments, err] = this.writeTerm(w.target, comments);
    if (err) return [[], err];
    this.write(' as ');
    [comments, err] = this.writeTerm(w.value, comments);
    // A value that fell back to its unformatted text was still written: keep going.
    if (err && !isUnexpected(err)) return [comments, err];
    return [comments, undefined];
  }

  writeTerm(term: Term, comments: Comment[]): Res {
    if (comments.length === 0) return this.writeTermParens(false, term, comments);
    const currentLen = this.buf.length;
    const currentLevel = this.level;
    const saved = [...comments];
    let err: Err;
    [comments, err] = this.writeTermParens(false, term, comments);
    if (err) {
      if (isUnexpected(err)) {
        this.buf = this.buf.slice(0, currentLen);
        this.level = currentLevel;
        const t = text(loc(term));
        if (this.beforeEnd && t.length > 0) {
          const endRow = loc(term).row + lines(t);
          if (this.beforeEnd.location.row >= loc(term).row && this.beforeEnd.location.row <= endRow) this.beforeEnd = undefined;
        }
        const [c, uErr] = this.writeUnformatted(loc(term), saved);
        if (uErr) return [[], uErr];
        return [c, err];
      }
      return [[], err];
    }
    return [comments, undefined];
  }

  writeUnformatted(l: Location, currentComments: Comment[]): Res {
    const t = text(l);
    if (t.length === 0) return [[], new Error('original unformatted text is empty')];
    const rowNum = lines(t) + 1;
    this.write(t);
    const comments: Comment[] = [];
    for (const c of currentComments) {
      if (this.writeCommentOnFinalLine && c.location.row === l.row + rowNum - 1) {
        this.write(' ' + (c.location.text ?? commentString(c)));
        continue;
      }
      if (c.location.row < l.row + rowNum - 1) continue;
      comments.push(c);
    }
    return [comments, undefined];
  }

  writeTermParens(parens: boolean, term: Term, comments: Comment[]): Res {
    let err: Err;
    [comments, err] = this.insertComments(comments, loc(term));
    if (err) return [[], err];
    if (!this.inline) this.startLine();
    const v: Value = term.value;
    switch (v.type) {
      case 'ref':
        [comments, err] = this.writeRef(v.value, comments);
        break;
      case 'object':
        [comments, err] = this.writeObject(v.value, loc(term), comments);
        break;
      case 'array':
        [comments, err] = this.writeList('[', ']', v.value, loc(term), comments);
        break;
      case 'set':
        [comments, err] = this.writeSet(v.value, loc(term), comments);
        break;
      case 'arraycomprehension':
        this.write('[');
        [comments, err] = this.writeComprehension('[', ']', v.term, v.body, loc(term), comments);
        this.write(']');
        break;
      case 'setcomprehension':
        this.write('{');
        [comments, err] = this.writeComprehension('{', '}', v.term, v.body, loc(term), comments);
        this.write('}');
        break;
      case 'objectcomprehension':
        [comments, err] = this.writeObjectComprehension(v.key, v.value, v.body, loc(term), comments);
        break;
      case 'string': {
        const t = text(loc(term));
        if (t.startsWith('`')) this.write(t);
        else {
          // The source text keeps the author's escapes; it may start with other text (`else := "x"`).
          const last = t[t.length - 1];
          const cut = last === '"' || last === '`' ? t.indexOf(last) : -1;
          this.write(cut >= 0 && t.length > 1 ? last + t.slice(cut + 1) : goQuote(v.value));
        }
        break;
      }
      case 'templatestring':
        [comments, err] = this.writeTemplateString(v.parts, v.multiLine, comments);
        break;
      case 'var':
        this.write(varString(v.value));
        break;
      case 'call':
        [comments, err] = this.writeCall(parens, v.value, loc(term), comments);
        break;
      default:
        this.write(termString(term));
    }
    if (err) return [[], err];
    if (!this.inline) this.startLine();
    return [comments, undefined];
  }

  writeTemplateString(parts: Array<{ kind: 'text'; value: string } | { kind: 'expr'; expr: Expr }>, multiLine: boolean, comments: Comment[]): Res {
    this.write(multiLine ? '$`' : '$"');
    for (const p of parts) {
      if (p.kind === 'text') {
        this.write(multiLine ? escapeTemplateText(p.value) : escapeTemplateText(goQuote(p.value).slice(1, -1)));
        continue;
      }
      this.write('{');
      let err: Err;
      const wasInline = this.inline;
      this.inline = true;
      [comments, err] = this.writeExpr(p.expr, comments);
      this.inline = wasInline;
      if (err) return [[], err];
      this.write('}');
    }
    this.write(multiLine ? '`' : '"');
    return [comments, undefined];
  }

  writeRef(x: Term[], comments: Comment[]): Res {
    if (x.length === 0) return [comments, undefined];
    let err: Err;
    const head = x[0]!;
    const parens = head.value.type === 'call' && text(loc(head)).startsWith('(');
    [comments, err] = this.writeTermParens(parens, head, comments);
    if (err) return [[], err];
    for (const t of x.slice(1)) {
      const p = t.value;
      if (p.type === 'string') this.writeRefStringPath(p.value, t.location);
      else if (p.type === 'var') this.write('[' + varString(p.value) + ']');
      else {
        this.write('[');
        [comments, err] = this.writeTerm(t, comments);
        if (err) {
          if (isUnexpected(err)) this.write('\n');
          else return [[], err];
        }
        this.write(']');
      }
    }
    return [comments, undefined];
  }

  writeRefStringPath(s: string, l: Location | undefined): void {
    if (this.shouldBracketRefTerm(s, l)) this.write('[' + goQuote(s) + ']');
    else this.write('.' + s);
  }

  shouldBracketRefTerm(s: string, l: Location | undefined): boolean {
    if (!isVarCompatible(s)) return true;
    // keywords may stand in refs (OPA's keywords_in_refs); a bracketed one stays bracketed
    return KEYWORDS_V1.has(s) && !!l && text(l).startsWith('"');
  }

  writeCall(parens: boolean, x: Term[], l: Location, comments: Comment[]): Res {
    const name = opName(x[0]!);
    const bi = INFIX[name];
    if (!bi) return this.writeFunctionCallPlain(x, comments);
    if (bi[0] === 'in') return this.writeInOperator(true, x.slice(1), comments, l, name);
    if (parens) this.write('(');
    if (bi[1] !== x.length - 1) {
      this.arityError(x.slice(1), name, l);
      return [comments, undefined];
    }
    let err: Err;
    [comments, err] = this.writeTermParens(true, x[1]!, comments);
    if (err) return [[], err];
    this.write(` ${bi[0]} `);
    [comments, err] = this.writeTermParens(true, x[2]!, comments);
    if (err) return [[], err];
    if (parens) this.write(')');
    return [comments, undefined];
  }

  writeInOperator(parens: boolean, operands: Term[], comments: Comment[], l: Location, operator: string): Res {
    const arity = INFIX[operator]![1];
    if (operands.length !== arity) {
      this.arityError(operands, operator, l);
      return [comments, undefined];
    }
    let err: Err;
    if (operands.length === 2) {
      [comments, err] = this.writeTermParens(true, operands[0]!, comments);
      if (err) return [[], err];
      this.write(' in ');
      [comments, err] = this.writeTermParens(true, operands[1]!, comments);
      if (err) return [[], err];
      return [comments, undefined];
    }
    if (parens) this.write('(');
    try {
      [comments, err] = this.writeTermParens(true, operands[0]!, comments);
      if (err) return [[], err];
      this.write(', ');
      [comments, err] = this.writeTermParens(true, operands[1]!, comments);
      if (err) return [[], err];
      this.write(' in ');
      [comments, err] = this.writeTermParens(true, operands[2]!, comments);
      if (err) return [[], err];
      return [comments, undefined];
    } finally {
      if (parens) this.write(')');
    }
  }

  writeObject(items: Array<[Term, Term]>, l: Location, comments: Comment[]): Res {
    this.write('{');
    try {
      return this.writeIterable(items, l, closingLoc('', '', '{', '}', l), comments, this.objectWriter());
    } finally {
      this.write('}');
    }
  }

  writeList(open: string, close: string, items: Term[], l: Location, comments: Comment[]): Res {
    this.write(open);
    try {
      return this.writeIterable(items, l, closingLoc('', '', open, close, l), comments, this.listWriter(true));
    } finally {
      this.write(close);
    }
  }

  writeSet(items: Term[], l: Location, comments: Comment[]): Res {
    if (items.length === 0) {
      this.write('set()');
      return this.insertComments(comments, closingLoc('', '', '(', ')', l));
    }
    return this.writeList('{', '}', items, l, comments);
  }

  writeObjectComprehension(key: Term, value: Term, body: Body, l: Location, comments: Comment[]): Res {
    this.write('{');
    try {
      value.location = key.location; // keeps the value on the key's line
      if (loc(key).row - l.row > 1) {
        this.endLine();
        this.startLine();
      }
      const paren = isUnionCall(key);
      if (paren) this.write('(');
      let err: Err;
      [comments, err] = this.writeTerm(key, comments);
      if (err) return [[], err];
      if (paren) this.write(')');
      this.write(': ');
      return this.writeComprehension('{', '}', value, body, l, comments);
    } finally {
      this.write('}');
    }
  }

  writeComprehension(open: string, close: string, term: Term, body: Body, l: Location, comments: Comment[]): Res {
    if (loc(term).row - l.row >= 1) {
      this.endLine();
      this.startLine();
    }
    const parens = term.value.type === 'call' && (isUnionCall(term) || text(loc(term)).startsWith('('));
    let err: Err;
    [comments, err] = this.writeTermParens(parens, term, comments);
    if (err) return [[], err];
    this.write(' |');
    return this.writeComprehensionBody(open, close, body, loc(term), l, comments);
  }

  writeComprehensionBody(open: string, close: string, body: Body, term: Location, compr: Location, comments: Comment[]): Res {
    const grouped = this.groupIterable(body, term);
    let err: Err;
    if (loc(body[0]).row - term.row > 0 || grouped.length > 1) {
      this.endLine();
      this.up();
      [comments, err] = this.writeBody(body, comments);
      if (err) {
        this.down();
        this.startLine();
        return [comments, err];
      }
      [comments, err] = this.insertComments(comments, closingLoc('', '', open, close, compr));
      this.down();
      this.startLine();
      if (err) return [[], err];
      return [comments, undefined];
    }
    this.write(' ');
    for (let i = 0; i < body.length; i++) {
      [comments, err] = this.writeExpr(body[i]!, comments);
      if (err) return [comments, err];
      if (i < body.length - 1) this.write('; ');
    }
    [comments, err] = this.insertComments(comments, closingLoc('', '', open, close, compr));
    if (err) return [[], err];
    return [comments, undefined];
  }

  writeImports(imports: Import[], comments: Comment[]): Comment[] {
    const m = new Map<Import, Comment>();
    const leftovers: Comment[] = [];
    for (const c of comments) {
      const i = imports.find((x) => loc(x).row === c.location.row);
      if (i) m.set(i, c);
      else leftovers.push(c);
    }
    comments = leftovers;
    for (const group of groupImports(imports)) {
      [comments] = this.insertComments(comments, loc(group[0]));
      for (const i of [...group].sort(importCompare)) {
        this.startLine();
        this.writeImport(i);
        const c = m.get(i);
        if (c) this.write(' ' + commentString(c));
        this.endLine();
      }
      this.blankLine();
    }
    return comments;
  }

  writeImport(imp: Import): void {
    this.write('import ');
    const path = importPath(imp);
    if (isFutureKeywordsImport(imp)) this.write(path.map((t, i) => (i === 0 ? termString(t) : t.value.type === 'string' && isVarCompatible(t.value.value) ? '.' + t.value.value : '[' + termString(t) + ']')).join(''));
    else this.writeRef(path, []);
    if (imp.alias) this.write(' as ' + imp.alias);
  }

  // ---- composites --------------------------------------------------------------------------

  writeIterable(elements: Elem[], last: Location, close: Location, comments: Comment[], fn: (x: Elem, c: Comment[]) => Res): Res {
    const grouped = this.groupIterable(elements, last);
    let newlinePrecedesItem = false;
    if (grouped.length === 1) {
      // Comments inside a one-line composite: give up on formatting it (the caller writes it as it was).
      for (const c of comments) {
        if (c.location.row > last.row && c.location.row < close.row) return [comments, new UnexpectedComment(truncated(commentString(c), 100), c.location.row)];
      }
      if (elements.length > 0) {
        const first = Array.isArray(elements[0]) ? elements[0][0] : (elements[0] as Term);
        const cut = text(last).indexOf(text(loc(first)));
        if (cut > 0) newlinePrecedesItem = text(last).slice(0, cut).indexOf('\n') > 0;
      }
    }
    const isMultiline = grouped.length > 1 || (grouped.length === 1 && newlinePrecedesItem);
    if (isMultiline) {
      this.delay = true;
      this.endLine();
      this.up();
      this.startLine();
    }
    let err: Err;
    for (let i = 0; i < grouped.length - 1; i++) {
      [comments, err] = this.writeIterableLine(grouped[i]!, comments, fn);
      if (err) return [[], err];
      this.write(',');
      this.endLine();
      this.startLine();
    }
    [comments, err] = this.writeIterableLine(grouped[grouped.length - 1]!, comments, fn);
    if (err) return [[], err];
    if (isMultiline) {
      this.write(',');
      this.endLine();
      [comments, err] = this.insertComments(comments, close);
      if (err) return [[], err];
      this.down();
      this.startLine();
    }
    return [comments, undefined];
  }

  writeIterableLine(elements: Elem[], comments: Comment[], fn: (x: Elem, c: Comment[]) => Res): Res {
    if (elements.length === 0) return [comments, undefined];
    let err: Err;
    for (let i = 0; i < elements.length - 1; i++) {
      [comments, err] = fn(elements[i]!, comments);
      if (err) return [[], err];
      this.write(', ');
    }
    return fn(elements[elements.length - 1]!, comments);
  }

  objectWriter(): (x: Elem, c: Comment[]) => Res {
    return (x, comments) => {
      const [k, v] = x as [Term, Term];
      let err: Err;
      const paren = isUnionCall(k);
      if (paren) this.write('(');
      [comments, err] = this.writeTerm(k, comments);
      if (err) return [[], err];
      if (paren) this.write(')');
      this.write(': ');
      const vp = isUnionCall(v);
      if (vp) this.write('(');
      try {
        return this.writeTerm(v, comments);
      } finally {
        if (vp) this.write(')');
      }
    };
  }

  listWriter(parenUnionCalls: boolean): (x: Elem, c: Comment[]) => Res {
    return (x, comments) => {
      const t = x as Term;
      const paren = isUnionCall(t) && (parenUnionCalls || text(loc(t)).startsWith('('));
      if (paren) this.write('(');
      try {
        return this.writeTerm(t, comments);
      } finally {
        if (paren) this.write(')');
      }
    };
  }

  /** Elements grouped by source line (elements on one line stay on one line). */
  groupIterable(elements: Elem[], last: Location): Elem[][] {
    const generated = elements.some((e) => walkTerms(e, (t) => t.value.type === 'var' && t.value.value.startsWith('__')));
    if (generated) return [elements];
    const sorted = [...elements].sort((a, b) => locCmp(elemLoc(a), elemLoc(b)));
    const out: Elem[][] = [];
    let cur: Elem[] = [];
    sorted.forEach((e, i) => {
      const l = elemLoc(e);
      if (l.row - last.row > 0 && i > 0) {
        out.push(cur);
        cur = [];
      }
      last = l;
      cur.push(e);
    });
    out.push(cur);
    return out;
  }

  // ---- low-level writing -------------------------------------------------------------------

  arityError(operands: Term[], operator: string, l: Location): void {
    this.errs.push({ code: 'rego_type_error', message: `${operator}: arity mismatch`, location: l, details: { have: operands.map((o) => o.value.type) } });
  }

  pushErr(e: Error): void {
    this.errs.push({ code: 'rego_format_error', message: e.message });
  }

  beforeLineEnd(c: Comment | undefined): Err {
    if (this.beforeEnd) {
      if (!c) return undefined;
      const existing = truncated(commentString(this.beforeEnd), 100);
      const existingRow = this.beforeEnd.location.row;
      this.beforeEnd = undefined;
      return new UnexpectedComment(truncated(commentString(c), 100), c.location.row, existing, existingRow);
    }
    this.beforeEnd = c;
    return undefined;
  }

  startLine(): void {
    this.inline = true;
    this.buf += this.indent.repeat(this.level);
  }

  endLine(): void {
    this.inline = false;
    if (this.beforeEnd && !this.delay) {
      this.write(' ' + commentString(this.beforeEnd));
      this.beforeEnd = undefined;
    }
    this.delay = false;
    this.write('\n');
  }

  blankLine(): void {
    if (this.inline) this.endLine();
    this.write('\n');
  }

  write(s: string): void {
    this.buf += s;
  }

  writeLine(s: string): void {
    if (!this.inline) this.startLine();
    this.write(s);
    this.endLine();
  }

  up(): void {
    this.level++;
  }

  down(): void {
    if (this.level === 0) {
      this.errs.push({ code: 'rego_format_error', message: 'negative indentation level' });
      return;
    }
    this.level--;
  }
}

/** Rows of an expression's own terms, without its `with` modifiers. */
function exprTermsEndRow(expr: Expr): number {
  const l = loc(expr);
  let t = text(l);
  const w = expr.with[0]?.location;
  if (w) {
    const off = w.offset - l.offset;
    if (off > 0 && off <= t.length) t = t.slice(0, off);
  }
  t = t.replace(/[ \t\r\n]+$/, '');
  return l.row + lines(t);
}

function groupImports(imports: Import[]): Import[][] {
  if (imports.length === 0) return [];
  const groups: Import[][] = [];
  let group: Import[] = [imports[0]!];
  for (const i of imports.slice(1)) {
    const last = group[group.length - 1]!;
    if (i.location && last.location && i.location.row - last.location.row > 1) {
      groups.push(group);
      group = [];
    }
    group.push(i);
  }
  groups.push(group);
  return groups;
}

function squashTrailingNewlines(s: string): string {
  return s.endsWith('\n') ? s.replace(/\n+$/, '') + '\n' : s;
}

/** Whether any rule head needs ref-head notation (OPA's fmtOpts.refHeads). */
function needsRefHeads(module: Module): boolean {
  const check = (r: Rule): boolean => {
    const n = r.head.reference.length;
    return n > 2 || (n === 2 && !!r.head.key && !r.head.value) || (!!r.else && check(r.else));
  };
  return module.rules.some(check);
}

/** Formats a parsed module (it is not modified). */
export function formatModule(module: Module): { text?: string; errors: RegoError[] } {
  const m = structuredClone(module);
  // With `import rego.v1`, future.keywords imports are redundant and dropped (as OPA does).
  if (m.imports.some(isRegoV1Import)) m.imports = m.imports.filter((i) => !isFutureKeywordsImport(i));
  const w = new Writer({ refHeads: needsRefHeads(m) });
  try {
    w.writeModule(m);
  } catch (e) {
    w.errs.push({ code: 'rego_format_error', message: (e as Error).message });
  }
  if (w.errs.length > 0) return { errors: w.errs };
  return { text: squashTrailingNewlines(w.buf), errors: [] };
}

/** Formats Rego source as `opa fmt` does; parse errors come back as errors. */
export function formatSource(source: string, file = ''): { text?: string; errors: RegoError[] } {
  const parsed = parseModule(source, file);
  if (!parsed.module) return { errors: parsed.errors };
  return formatModule(parsed.module);
}
