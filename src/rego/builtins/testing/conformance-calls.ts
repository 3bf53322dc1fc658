// Test support: finds the conformance cases that are a direct call of one builtin with constant
// arguments and turns each into (name, args, expectation), so the host builtins can be checked
// without a compiler. Cases of any other shape are skipped (the compiled path covers them).
import { loadCases, defaultSuiteDir, type LoadedCase } from '../../conformance/cases.js';

export interface DirectCall {
  note: string;
  builtin: string;
  args: unknown[];
  /** What the call must give: a value, undefined (`undefined: true`), or an error. */
  expect: { value?: unknown; undefined?: boolean; error?: { code?: string; text?: string } };
  /** How the result is observed by the rule: the value itself, or whether the body succeeds. */
  observe: 'value' | 'truthy' | 'equals';
  expectedEquals?: unknown; // for observe === 'equals': the constant last argument
  kind: 'value' | 'set' | 'bool';
}

class TermParser {
  i = 0;
  constructor(
    readonly s: string,
    readonly consts: Map<string, unknown>,
  ) {}

  ws(): void {
    for (;;) {
      while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
      if (this.s[this.i] === '#') {
        while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
        continue;
      }
      return;
    }
  }

  fail(): never {
    throw new Error(`not a constant term at ${this.i}: ${this.s.slice(this.i, this.i + 30)}`);
  }

  term(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/s.exec(this.s.slice(this.i));
      if (!m) this.fail();
      this.i += m[0].length;
      return JSON.parse(m[0]);
    }
    if (c === '`') {
      const end = this.s.indexOf('`', this.i + 1);
      if (end < 0) this.fail();
      const v = this.s.slice(this.i + 1, end);
      this.i = end + 1;
      return v;
    }
    if (c === '[') {
      this.i++;
      const out: unknown[] = [];
      for (;;) {
        this.ws();
        if (this.s[this.i] === ']') {
          this.i++;
          return out;
        }
        out.push(this.term());
        this.ws();
        if (this.s[this.i] === ',') this.i++;
        else if (this.s[this.i] !== ']') this.fail();
      }
    }
    if (c === '{') {
      this.i++;
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return {};
      }
      const first = this.term();
      this.ws();
      if (this.s[this.i] === ':') {
        const obj: Record<string, unknown> = {};
        this.i++;
        obj[keyOf(first)] = this.term();
        for (;;) {
          this.ws();
          if (this.s[this.i] === ',') this.i++;
          this.ws();
          if (this.s[this.i] === '}') {
            this.i++;
            return obj;
          }
          const k = this.term();
          this.ws();
          if (this.s[this.i] !== ':') this.fail();
          this.i++;
          obj[keyOf(k)] = this.term();
        }
      }
      const set: unknown[] = [first];
      for (;;) {
        this.ws();
        if (this.s[this.i] === ',') this.i++;
        this.ws();
        if (this.s[this.i] === '}') {
          this.i++;
          return sortSet(set);
        }
        set.push(this.term());
      }
    }
    const num = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.s.slice(this.i));
    if (num) {
      this.i += num[0].length;
      return JSON.parse(num[0]);
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (id) {
      this.i += id[0].length;
      if (id[0] === 'true') return true;
      if (id[0] === 'false') return false;
      if (id[0] === 'null') return null;
      if (id[0] === 'set' && this.s.startsWith('()', this.i)) {
        this.i += 2;
        return [];
      }
      if (this.consts.has(id[0])) return this.consts.get(id[0]);
      throw new VarRef(id[0]);
    }
    this.fail();
  }
}

class VarRef extends Error {
  constructor(readonly ident: string) {
    super(`variable ${ident}`);
  }
}

function keyOf(k: unknown): string {
  if (typeof k === 'string') return k;
  throw new Error('non-string object key');
}

function sortSet(a: unknown[]): unknown[] {
  if (a.every((x) => typeof x === 'string')) return [...new Set(a as string[])].sort();
  if (a.every((x) => typeof x === 'number')) return [...new Set(a as number[])].sort((x, y) => x - y);
  return a;
}

/** Parses `a, b, c)` after an opening parenthesis; returns the terms, with VarRefs for variables. */
function parseArgs(s: string, consts: Map<string, unknown>): { args: Array<unknown | VarRef>; end: number } | undefined {
  const p = new TermParser(s, consts);
  const args: Array<unknown | VarRef> = [];
  p.ws();
  if (s[p.i] === ')') return { args, end: p.i + 1 };
  for (;;) {
    p.ws();
    try {
      args.push(p.term());
    } catch (err) {
      if (err instanceof VarRef) args.push(err);
      else return undefined;
    }
    p.ws();
    if (s[p.i] === ',') p.i++;
    else if (s[p.i] === ')') return { args, end: p.i + 1 };
    else return undefined;
  }
}

/**
 * Cases of the shapes `p := f(consts)`, `p contains x if { f(consts, x) }`,
 * `p := x if { f(consts, x) }`, `p := x if { x := f(consts) }`, `p if { f(consts) }`,
 * `p if { f(consts, <const>) }`, with `name := <const>` helper rules allowed.
 */
export function directCalls(topics: string[], arity: Record<string, number>): DirectCall[] {
  const out: DirectCall[] = [];
  for (const c of loadCases(defaultSuiteDir(), topics)) {
    const d = directCall(c, arity);
    if (d) out.push(d);
  }
  return out;
}

function directCall(c: LoadedCase, arity: Record<string, number>): DirectCall | undefined {
  if (!c.modules || c.modules.length !== 1 || c.input !== undefined || c.input_term !== undefined) return undefined;
  if (c.data !== undefined && Object.keys(c.data as object).length > 0) return undefined;
  const m = /^data\.([\w.]+)\.(\w+) = x$/.exec(c.query);
  if (!m) return undefined;
  const rule = m[2];
  const body = c.modules[0].replace(/^package [\w.]+\s*\n/, '').replace(/^import .*\n/gm, '');
  // helper constants `name := <term>` at top level (terms may span lines)
  const consts = new Map<string, unknown>();
  let text = '';
  let cursor = 0;
  for (const m of body.matchAll(/^(\w+)\s*:?=\s*/gm)) {
    const at = m.index ?? 0;
    if (at < cursor || m[1] === rule) continue;
    const p = new TermParser(body.slice(at + m[0].length), consts);
    let value: unknown;
    try {
      value = p.term();
    } catch {
      continue;
    }
    const end = at + m[0].length + p.i;
    if (!/^[ \t]*(\n|$)/.test(body.slice(end))) continue; // `x := f(...)` etc. are not constants
    consts.set(m[1], value);
    text += body.slice(cursor, at);
    cursor = end;
  }
  text = (text + body.slice(cursor)).replace(/^#.*$/gm, '').trim();

  const names = Object.keys(arity).sort((a, b) => b.length - a.length);
  const callRe = new RegExp(`(?<![\\w.])(${names.map((n) => n.replace(/\./g, '\\.')).join('|')})\\(`, 'g');
  const calls = [...text.matchAll(callRe)];
  if (calls.length !== 1) return undefined;
  const call = calls[0];
  const builtin = call[1];
  const parsed = parseArgs(text.slice((call.index ?? 0) + call[0].length), consts);
  if (!parsed) return undefined;
  const before = text.slice(0, call.index).trim();
  const after = text.slice((call.index ?? 0) + call[0].length + parsed.end).trim();
  const n = arity[builtin];
  const args = parsed.args;
  const constArgs = args.slice(0, n);
  if (constArgs.some((a) => a instanceof VarRef)) return undefined;
  const expect = expectation(c, rule);
  if (!expect) return undefined;
  const base = { note: c.note, builtin, args: constArgs };

  // p := f(args)   /   p = f(args)
  if (new RegExp(`^${rule}\\s*:?=$`).test(before) && after === '' && args.length === n) {
    if (!expect.single) return undefined;
    return { ...base, expect: expect.single, observe: 'value', kind: 'value' };
  }
  const head = /^(\w+)(?:\s+contains\s+(\w+)|\s*:?=\s*(\w+))?\s+if\s*\{$/.exec(before.split('\n')[0]);
  if (!head || head[1] !== rule) return undefined;
  const bodyBefore = before.split('\n').slice(1).join('\n').trim();
  const outVar = head[2] ?? head[3];
  const kind: DirectCall['kind'] = head[2] ? 'set' : outVar ? 'value' : 'bool';
  let tail = after.replace(/\}$/, '').trim();
  let negate = false;
  let bodyPrefix = bodyBefore;
  if (bodyPrefix === 'not') {
    negate = true;
    bodyPrefix = '';
  }
  if (tail.startsWith('==') && kind === 'bool' && bodyPrefix === '' && args.length === n) {
    const p = new TermParser(tail.slice(2), consts);
    let cmpTo: unknown;
    try {
      cmpTo = p.term();
    } catch {
      return undefined;
    }
    p.ws();
    if (p.i !== p.s.length) return undefined;
    const want = expect.bool;
    if (!want) return undefined;
    const wanted = negate ? { ...want, value: want.value === undefined ? undefined : !want.value } : want;
    return { ...base, expect: wanted, observe: 'equals', expectedEquals: cmpTo, kind };
  }
  if (negate) return undefined;
  let localAlias = '';
  if (tail !== '') {
    const am = /^(\w+)\s*=\s*(__local\d+__)$/.exec(tail);
    if (!am || am[1] !== outVar) return undefined;
    localAlias = am[2];
  }
  if (!after.endsWith('}')) return undefined;
  const exp = kind === 'set' ? expect.set : kind === 'value' ? expect.single : expect.bool;
  if (!exp) return undefined;
  if (args.length === n + 1) {
    if (bodyBefore !== '') return undefined;
    const last = args[n];
    if (last instanceof VarRef) {
      if (kind === 'bool' || (last.ident !== outVar && last.ident !== localAlias)) return undefined;
      return { ...base, expect: exp, observe: 'value', kind };
    }
    if (kind !== 'bool') return undefined;
    return { ...base, expect: exp, observe: 'equals', expectedEquals: last, kind };
  }
  if (args.length !== n) return undefined;
  if (bodyBefore === '' && kind === 'bool') return { ...base, expect: exp, observe: 'truthy', kind };
  const assign = /^(\w+)\s*:?=$/.exec(bodyBefore);
  if (assign && assign[1] === outVar) return { ...base, expect: exp, observe: 'value', kind };
  return undefined;
}

interface Expectations {
  single?: DirectCall['expect'];
  set?: DirectCall['expect'];
  bool?: DirectCall['expect'];
}

function expectation(c: LoadedCase, _rule: string): Expectations | undefined {
  const want = Array.isArray(c.want_plan_result) ? c.want_plan_result : c.want_result;
  if (c.want_error || c.want_error_code) {
    const e = { error: { code: c.want_error_code, text: c.want_error } };
    return { single: e, set: e, bool: e };
  }
  if (!Array.isArray(want)) return undefined;
  if (want.length === 0) return { single: { undefined: true }, bool: { value: false }, set: { undefined: true } };
  if (want.length !== 1) return undefined;
  const x = want[0].x;
  const set = Array.isArray(x) && x.length <= 1 ? (x.length === 0 ? { undefined: true } : { value: x[0] }) : undefined;
  return { single: { value: x }, set, bool: x === true ? { value: true } : undefined };
}

/** Top-level `name := <constant>` rules of a module (for tests that need a case's fixtures). */
export function moduleConstants(module: string): Map<string, unknown> {
  const consts = new Map<string, unknown>();
  const re = /^(\w+)\s*:?=\s*/gm;
  for (const m of module.matchAll(re)) {
    try {
      const p = new TermParser(module.slice((m.index ?? 0) + m[0].length), consts);
      consts.set(m[1], p.term());
    } catch {
      // not a constant
    }
  }
  return consts;
}
