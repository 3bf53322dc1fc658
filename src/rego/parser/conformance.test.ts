// Every module, query and input term of OPA's v1 conformance suite must parse (the
// suite has no case whose expected error is rego_parse_error; if one appears, it must
// fail to parse). The suite is read in place from ../shared, never copied.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModule, parseQuery, parseTerm } from './index.js';

const SUITE = resolve(import.meta.dirname, '../../../../shared/opa-conformance/v1');

interface Case {
  note: string;
  query: string;
  modules?: string[];
  input_term?: string;
  want_error_code?: string;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.json') ? [p] : [];
  });
}

describe.skipIf(!existsSync(SUITE))('OPA v1 conformance sources', () => {
  const cases: Case[] = existsSync(SUITE)
    ? files(SUITE).flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as { cases: Case[] }).cases)
    : [];

  it('has the expected suite', () => {
    expect(cases.length).toBeGreaterThan(1600);
  });

  it('parses every module (or rejects it when a parse error is expected)', () => {
    const failures: string[] = [];
    let modules = 0;
    for (const c of cases) {
      const wantParseError = c.want_error_code === 'rego_parse_error';
      const results = (c.modules ?? []).map((m, i) => parseModule(m, `${c.note}/${i}.rego`));
      modules += results.length;
      const errs = results.flatMap((r) => r.errors);
      if (wantParseError) {
        if (errs.length === 0) failures.push(`${c.note}: expected a parse error`);
      } else {
        for (const r of results) {
          if (r.errors.length > 0 || !r.module) failures.push(`${c.note}: ${r.errors.map((e) => e.message).join('; ')}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(modules).toBeGreaterThan(1900);
  });

  it('parses every query and input term', () => {
    const failures: string[] = [];
    for (const c of cases) {
      const q = parseQuery(c.query);
      if (q.errors.length > 0 || !q.body || q.body.length === 0) failures.push(`${c.note}: query ${c.query}`);
      if (c.input_term !== undefined) {
        const t = parseTerm(c.input_term);
        if (t.errors.length > 0) failures.push(`${c.note}: input_term ${t.errors[0]!.message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
