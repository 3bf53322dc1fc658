// strings.render_template: the subset of Go's text/template that policies use — `{{.a.b}}`,
// `{{$v}}`, `{{if}}/{{else}}/{{end}}`, `{{range $i, $v := .list}}`, `{{with}}`, comments and
// `{{- -}}` trimming. A missing key prints `<undefined>` as in OPA.
import { builtinError, obj, str } from './errors.js';
import type { BuiltinTable } from './types.js';

type NodeT =
  | { kind: 'text'; text: string }
  | { kind: 'action'; expr: string }
  | { kind: 'if' | 'with'; expr: string; then: NodeT[]; else: NodeT[] }
  | { kind: 'range'; expr: string; keyVar?: string; valVar?: string; body: NodeT[]; else: NodeT[] };

const MISSING = Symbol('missing');

function tokenize(src: string): Array<{ text?: string; action?: string }> {
  const out: Array<{ text?: string; action?: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start)) {
      text = text.replace(/\s+$/, '');
      start += 2;
    }
    if (text) out.push({ text });
    const close = src.indexOf('}}', start);
    if (close < 0) throw new Error('unclosed action');
    let action = src.slice(start, close);
    i = close + 2;
    if (action.endsWith(' -')) {
      action = action.slice(0, -2);
      const m = /^\s*/.exec(src.slice(i)) as RegExpExecArray;
      i += m[0].length;
    }
    out.push({ action: action.trim() });
  }
  return out;
}

function parse(tokens: Array<{ text?: string; action?: string }>): NodeT[] {
  let pos = 0;
  const block = (stops: string[]): { nodes: NodeT[]; stop: string } => {
    const nodes: NodeT[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++];
      if (t.text !== undefined) {
        nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const a = t.action as string;
      if (a.startsWith('/*')) continue;
      const word = a.split(/\s+/)[0];
      if (stops.includes(word)) return { nodes, stop: a };
      if (word === 'if' || word === 'with') {
        const then = block(['else', 'end']);
        let els: NodeT[] = [];
        if (then.stop === 'else') els = block(['end']).nodes;
        else if (then.stop.startsWith('else if')) {
          pos--;
          tokens[pos] = { action: then.stop.slice(5) };
          els = block(['end']).nodes;
        }
        nodes.push({ kind: word, expr: a.slice(word.length).trim(), then: then.nodes, else: els });
      } else if (word === 'range') {
        const m = /^range\s+(?:(\$\w*)\s*(?:,\s*(\$\w*))?\s*:=\s*)?(.+)$/.exec(a);
        if (!m) throw new Error(`bad range: ${a}`);
        const body = block(['else', 'end']);
        const els = body.stop === 'else' ? block(['end']).nodes : [];
        const [keyVar, valVar] = m[2] ? [m[1], m[2]] : [undefined, m[1]];
        nodes.push({ kind: 'range', expr: m[3], keyVar, valVar, body: body.nodes, else: els });
      } else nodes.push({ kind: 'action', expr: a });
    }
    if (stops.length) throw new Error('unexpected EOF');
    return { nodes, stop: '' };
  };
  return block([]).nodes;
}

function truthy(v: unknown): boolean {
  if (v === MISSING || v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function lookup(expr: string, dot: unknown, vars: Map<string, unknown>): unknown {
  const e = expr.trim();
  if (e === '.') return dot;
  if (/^".*"$/.test(e)) return JSON.parse(e);
  if (/^-?\d+(\.\d+)?$/.test(e)) return Number(e);
  if (e === 'true' || e === 'false') return e === 'true';
  let base: unknown;
  let path: string;
  const m = /^(\$\w*)(.*)$/.exec(e);
  if (m) {
    if (!vars.has(m[1])) throw new Error(`undefined variable "${m[1]}"`);
    base = vars.get(m[1]);
    path = m[2];
  } else if (e.startsWith('.')) {
    base = dot;
    path = e;
  } else throw new Error(`function "${e.split(/\s/)[0]}" not defined`);
  for (const key of path.split('.').filter(Boolean)) {
    if (base && typeof base === 'object' && !Array.isArray(base) && key in (base as object)) base = (base as Record<string, unknown>)[key];
    else return MISSING;
  }
  return base;
}

function print(v: unknown): string {
  if (v === MISSING) return '<undefined>';
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(print).join(' ')}]`;
  return `map[${Object.keys(v as object)
    .sort()
    .map((k) => `${k}:${print((v as Record<string, unknown>)[k])}`)
    .join(' ')}]`;
}

function exec(nodes: NodeT[], dot: unknown, vars: Map<string, unknown>, out: string[]): void {
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        out.push(n.text);
        break;
      case 'action': {
        const m = /^(\$\w+)\s*:?=\s*(.+)$/.exec(n.expr);
        if (m) vars.set(m[1], lookup(m[2], dot, vars));
        else out.push(print(lookup(n.expr, dot, vars)));
        break;
      }
      case 'if':
      case 'with': {
        const v = lookup(n.expr, dot, vars);
        if (truthy(v)) exec(n.then, n.kind === 'with' ? v : dot, vars, out);
        else exec(n.else, dot, vars, out);
        break;
      }
      case 'range': {
        const v = lookup(n.expr, dot, vars);
        const entries: Array<[unknown, unknown]> = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v && typeof v === 'object'
            ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])
            : [];
        if (entries.length === 0) exec(n.else, dot, vars, out);
        for (const [k, x] of entries) {
          const scope = new Map(vars);
          if (n.keyVar) scope.set(n.keyVar, k);
          if (n.valVar) scope.set(n.valVar, x);
          exec(n.body, x, scope, out);
        }
        break;
      }
    }
  }
}

export function renderTemplate(template: string, vars: Record<string, unknown>): string {
  const out: string[] = [];
  exec(parse(tokenize(template)), vars, new Map([['$', vars]]), out);
  return out.join('');
}

export const templateBuiltins: BuiltinTable = {
  'strings.render_template': (template, vars) => {
    const name = 'strings.render_template';
    const t = str(name, template, 1);
    const v = obj(name, vars, 2);
    try {
      return renderTemplate(t, v);
    } catch (err) {
      throw builtinError(name, `template: ${(err as Error).message}`);
    }
  },
};
