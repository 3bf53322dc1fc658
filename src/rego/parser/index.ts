// Public entry points of the Rego v1 parser (OPA's ParseModule, ParseBody, ParseTerm).
import type { Body, Module, RegoError, Term } from '../ast/types.js';
import { runDeepSync } from '../deep-stack.js';
import { assembleModule } from './module.js';
import { Parser } from './parser.js';

/** `deep`: this is already the deep-stack worker (../deep-stack.ts): do not hand the parse on again. */
interface ParseOptions {
  deep?: boolean;
}

export { checkRegoV1Rule } from './module.js';

/** Parses a Rego v1 module. On any error, `module` is absent. */
export function parseModule(source: string, file: string, options: ParseOptions = {}): { module?: Module; errors: RegoError[] } {
  const p = new Parser(source, file);
  const { stmts, comments, errors, stackExhausted } = p.parseStatements(false);
  if (stackExhausted && !options.deep) return runDeepSync<{ module?: Module; errors: RegoError[] }>({ kind: 'parse-module', source, file }) ?? { errors };
  if (errors.length > 0) return { errors };
  return assembleModule(file, stmts, comments);
}

/**
 * Parses a query (a body: expressions separated by newlines or `;`), as OPA's
 * ParseBody. An empty source gives an empty body (callers decide whether that is an error).
 */
export function parseQuery(source: string, file = '', options: ParseOptions = {}): { body?: Body; errors: RegoError[] } {
  const p = new Parser(source, file);
  const { stmts, errors, stackExhausted } = p.parseStatements(true);
  if (stackExhausted && !options.deep) return runDeepSync<{ body?: Body; errors: RegoError[] }>({ kind: 'parse-query', source, file }) ?? { errors };
  if (errors.length > 0) return { errors };
  const body: Body = [];
  for (const s of stmts) {
    if (s.kind !== 'body') {
      const what = s.kind === 'package' ? '*ast.Package' : s.kind === 'import' ? '*ast.Import' : '*ast.Rule';
      return { errors: [{ code: 'rego_parse_error', message: `expected body but got ${what}` }] };
    }
    for (const e of s.body) {
      e.index = body.length;
      body.push(e);
    }
  }
  return { body, errors: [] };
}

/** Parses exactly one term, as OPA's ParseTerm (used e.g. for `input_term`). */
export function parseTerm(source: string, file = ''): { term?: Term; errors: RegoError[] } {
  const r = parseQuery(source, file);
  if (!r.body) return { errors: r.errors };
  if (r.body.length !== 1) {
    return { errors: [{ code: 'rego_parse_error', message: `expected exactly one term but got ${r.body.length} expressions` }] };
  }
  const t = r.body[0]!.terms;
  if (Array.isArray(t) || 'type' in t) {
    return { errors: [{ code: 'rego_parse_error', message: 'expected term but got expression' }] };
  }
  return { term: t, errors: [] };
}
