// Module assembly, as OPA's parseModule (v1/ast/parser_ext.go): statements become a
// Module; bare expressions at the top level become rules (`p := 1`, `a.b.c`, `f(x)`),
// and every rule is checked against the Rego v1 requirements (v1/ast/rego_v1.go).
import type { Body, Comment, Expr, Head, Location, Module, RegoError, Rule, Term } from '../ast/types.js';
import { isKeyword } from './scanner.js';
import { refToString } from '../ast/print.js';
import { generatedBodies, metaOf, type Statement } from './parser.js';
import { parseAnnotations } from './annotations.js';

/** Builtin names that a top-level call expression must not redefine (a subset of OPA's BuiltinMap). */
const BUILTIN_NAMES = new Set([
  'eq', 'assign', 'equal', 'neq', 'lt', 'lte', 'gt', 'gte', 'plus', 'minus', 'mul', 'div', 'rem', 'and', 'or',
  'internal.member_2', 'internal.member_3', 'count', 'sum', 'product', 'max', 'min', 'sort', 'concat',
  'startswith', 'endswith', 'contains', 'lower', 'upper', 'split', 'trim', 'sprintf', 'to_number', 'abs',
  'round', 'ceil', 'floor', 'is_number', 'is_string', 'is_boolean', 'is_array', 'is_set', 'is_object',
  'is_null', 'type_name', 'union', 'intersection', 'array.concat', 'array.slice', 'object.get',
  'object.keys', 'object.union', 'object.remove', 'object.filter', 'json.marshal', 'json.unmarshal',
  'regex.match', 'replace', 'substring', 'indexof', 'format_int', 'numbers.range', 'print', 'walk',
]);

function ruleFromBody(body: Body): Rule | string {
  if (body.length !== 1) return 'multiple expressions cannot be used for rule head';
  return ruleFromExpr(body[0]!);
}

function trueBody(loc: Location | undefined): Body {
  const t: Term = loc ? { value: { type: 'boolean', value: true }, location: loc } : { value: { type: 'boolean', value: true } };
  const e: Expr = { index: 0, negated: false, terms: t, with: [] };
  if (loc) e.location = loc;
  return [e];
}

function refHead(ref: Term[], value?: Term): Head {
  const h: Head = { name: '', reference: ref, assign: false };
  if (ref.length < 2 && ref[0]!.value.type === 'var') h.name = ref[0]!.value.value;
  if (value) h.value = value;
  return h;
}

function valueName(t: Term): string {
  return t.value.type;
}

function ruleFromExpr(expr: Expr): Rule | string {
  if (expr.with.length > 0) return 'expressions using with keyword cannot be used for rule head';
  if (expr.negated) return 'negated expressions cannot be used for rule head';
  const terms = expr.terms;
  if (!Array.isArray(terms)) {
    if ('type' in terms && terms.type === 'some') return "'some' declarations cannot be used for rule head";
    if ('type' in terms && terms.type === 'every') return 'expression cannot be used for rule head';
    const term = terms as Term;
    if (term.value.type === 'ref') {
      const ref = term.value.value;
      if (ref.length > 2) {
        if (ref[0]!.value.type !== 'var') return `invalid rule head: ${refToString(ref)}`;
        const head = refHead(ref, { value: { type: 'boolean', value: true }, location: term.location });
        metaOf(head).generatedValue = true;
        head.location = term.location;
        return { default: false, head, body: trueBody(term.location), location: term.location };
      }
      if (ref.length === 1) return 'refs cannot be used for rule head';
      if (ref[0]!.value.type !== 'var') return `invalid rule head: ${refToString(ref)}`;
      const head: Head = { name: ref[0]!.value.value, reference: [ref[0]!], assign: false, key: ref[1] };
      head.location = term.location;
      return { default: false, head, body: trueBody(term.location), location: term.location };
    }
    return `${valueName(term)} cannot be used for rule name`;
  }
  const op = refToString(((terms[0]!.value as { value: Term[] }).value) ?? []);
  if ((op === 'eq' || op === 'assign') && terms.length === 3) {
    const r = completeRuleFromEq(expr, terms[1]!, terms[2]!);
    if (typeof r !== 'string' && op === 'assign') r.head.assign = true;
    return r;
  }
  if (BUILTIN_NAMES.has(op)) return 'rule name conflicts with built-in function';
  // f(x): a function returning true
  if (terms.length <= 1) return 'rule argument list must take at least one argument';
  const loc = terms[0]!.location;
  const ref = (terms[0]!.value as { value: Term[] }).value;
  if (ref[0]!.value.type !== 'var') return `invalid rule head: ${refToString(ref)}`;
  const head = refHead(ref, { value: { type: 'boolean', value: true }, location: loc });
  head.location = loc;
  head.args = terms.slice(1);
  return { default: false, head, body: trueBody(loc), location: loc };
}

function completeRuleFromEq(expr: Expr, lhs: Term, rhs: Term): Rule | string {
  const finish = (r: Rule | string): Rule | string => {
    if (typeof r !== 'string') {
      r.location = expr.location;
      r.head.location = expr.location;
    }
    return r;
  };
  // f(x) = y
  if (lhs.value.type === 'call') {
    const op = lhs.value.value[0]!;
    if (op.value.type !== 'ref') return finish(`${op.value.type}s cannot be used in function signature`);
    if (op.value.value[0]!.value.type !== 'var') return finish(`invalid rule head: ${refToString(op.value.value)}`);
    const head = refHead(op.value.value, rhs);
    head.args = lhs.value.value.slice(1);
    return finish({ default: false, head, body: trueBody(rhs.location), location: lhs.location });
  }
  // a.b[c] = y
  if (lhs.value.type === 'ref') {
    const ref = lhs.value.value;
    if (ref[0]!.value.type !== 'var') return finish(`invalid rule head: ${refToString(ref)}`);
    const head = refHead(ref, rhs);
    if (ref.length === 2) {
      head.name = ref[0]!.value.value;
      head.key = ref[1];
    }
    return finish({ default: false, head, body: trueBody(rhs.location), location: rhs.location });
  }
  // p = y
  if (lhs.value.type === 'var') {
    const head: Head = { name: lhs.value.value, reference: [lhs], assign: false, value: rhs };
    return finish({ default: false, head, body: trueBody(rhs.location), location: lhs.location });
  }
  return finish(`${lhs.value.type} cannot be used for rule name`);
}

/** OPA's checkRegoV1Rule. */
export function checkRegoV1Rule(rule: Rule): RegoError[] {
  const errs: RegoError[] = [];
  const t = rule.head.args && rule.head.args.length > 0 ? 'function' : 'rule';
  const meta = metaOf(rule.head);
  const err = (message: string): void => {
    const e: RegoError = { code: 'rego_parse_error', message };
    if (rule.location) e.location = rule.location;
    errs.push(e);
  };
  if (rule.head.reference.length < 2 && isKeyword(rule.head.name)) err(`${rule.head.name} keyword cannot be used for rule name`);
  if (generatedBodies.has(rule) && meta.generatedValue) err(`${t} must have value assignment and/or body declaration`);
  if (!generatedBodies.has(rule) && !meta.keywords.has('if') && !rule.default) err(`\`if\` keyword is required before ${t} body`);
  if (!rule.head.value && rule.head.key && !meta.keywords.has('contains')) err('`contains` keyword is required for partial set rules');
  return errs;
}

export function assembleModule(
  file: string,
  stmts: Statement[],
  comments: Comment[],
): { module?: Module; errors: RegoError[] } {
  if (stmts.length === 0) {
    return { errors: [{ code: 'rego_parse_error', message: 'empty module', location: { file, row: 0, col: 0, offset: 0 } }] };
  }
  const errors: RegoError[] = [];
  const first = stmts[0]!;
  if (first.kind !== 'package') {
    errors.push({ code: 'rego_parse_error', message: 'package expected', location: stmtLoc(first, file) });
  }
  const module: Module = {
    package: first.kind === 'package' ? first.pkg : { path: [] },
    imports: [],
    rules: [],
    comments,
    file,
  };
  const ruleStmtIndex: Array<{ rule: Rule; offset: number }> = [];
  for (const stmt of stmts.slice(1)) {
    switch (stmt.kind) {
      case 'import':
        module.imports.push(stmt.imp);
        break;
      case 'rule':
        module.rules.push(stmt.rule);
        break;
      case 'body': {
        const r = ruleFromBody(stmt.body);
        if (typeof r === 'string') {
          errors.push({ code: 'rego_parse_error', message: r, location: stmtLoc(stmt, file) });
          continue;
        }
        generatedBodies.add(r);
        module.rules.push(r);
        break;
      }
      case 'package':
        errors.push({ code: 'rego_parse_error', message: 'unexpected package', location: stmtLoc(stmt, file) });
        break;
    }
  }
  for (const rule of module.rules) {
    for (let r: Rule | undefined = rule; r; r = r.else) errors.push(...checkRegoV1Rule(r));
    ruleStmtIndex.push({ rule, offset: rule.location?.offset ?? 0 });
  }
  if (errors.length > 0) return { errors };

  const ann = parseAnnotations(comments, module, file);
  if (ann.errors.length > 0) return { errors: ann.errors };
  if (ann.annotations.length > 0) module.annotations = ann.annotations;
  return { module, errors: [] };
}

function stmtLoc(stmt: Statement, file: string): Location {
  const fallback: Location = { file, row: 0, col: 0, offset: 0 };
  switch (stmt.kind) {
    case 'package': return stmt.pkg.location ?? fallback;
    case 'import': return stmt.imp.location ?? fallback;
    case 'rule': return stmt.rule.location ?? fallback;
    case 'body': return stmt.body[0]?.location ?? fallback;
  }
}
