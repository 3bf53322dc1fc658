// OPA's parser always turns the root document names `data` and `input` into refs (`input`
// alone is Ref{Var input}); later stages rely on that (e.g. `input := 1` is an assignment
// to a root document ref). This pass gives parsed trees that shape whatever the parser did.
import type { Body, Module, Term } from '../ast/types.js';

const roots = new Set(['data', 'input']);

function fixTerm(t: Term): void {
  const v = t.value;
  switch (v.type) {
    case 'var':
      if (roots.has(v.value)) t.value = { type: 'ref', value: [{ value: { type: 'var', value: v.value }, ...(t.location ? { location: t.location } : {}) }] };
      return;
    case 'ref':
      // The head of a ref stays a var; everything after it may contain terms.
      if (v.value[0].value.type !== 'var') fixTerm(v.value[0]);
      v.value.slice(1).forEach(fixTerm);
      return;
    case 'array':
    case 'set':
    case 'call':
      v.value.forEach(fixTerm);
      return;
    case 'object':
      v.value.forEach(([k, x]) => {
        fixTerm(k);
        fixTerm(x);
      });
      return;
    case 'arraycomprehension':
    case 'setcomprehension':
      fixTerm(v.term);
      fixBody(v.body);
      return;
    case 'objectcomprehension':
      fixTerm(v.key);
      fixTerm(v.value);
      fixBody(v.body);
      return;
    case 'templatestring':
      v.parts.forEach((p) => p.kind === 'expr' && fixBody([p.expr]));
      return;
  }
}

function fixBody(b: Body): void {
  for (const e of b) {
    const ts = e.terms;
    if (Array.isArray(ts)) {
      // The operator (ts[0]) is a ref naming a function; leave it.
      ts.slice(1).forEach(fixTerm);
    } else if ((ts as { type?: string }).type === 'some') (ts as { symbols: Term[] }).symbols.forEach(fixTerm);
    else if ((ts as { type?: string }).type === 'every') {
      const ev = ts as { domain: Term; body: Body };
      fixTerm(ev.domain);
      fixBody(ev.body);
    } else fixTerm(ts as Term);
    for (const w of e.with) {
      fixTerm(w.target);
      fixTerm(w.value);
    }
  }
}

export function normalizeRootDocs<T extends Module | Body>(x: T): T {
  if (Array.isArray(x)) {
    fixBody(x);
    return x;
  }
  const m = x as Module;
  for (const rule of m.rules) {
    for (let r: typeof rule | undefined = rule; r; r = r.else) {
      r.head.reference.slice(1).forEach(fixTerm);
      (r.head.args ?? []).forEach(fixTerm);
      if (r.head.key) fixTerm(r.head.key);
      if (r.head.value) fixTerm(r.head.value);
      fixBody(r.body);
    }
  }
  return x;
}
