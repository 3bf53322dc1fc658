// Human-readable dump of an IR policy (for debugging plans; OPA's `ir.Pretty` in spirit).
import type { Block, Operand, Policy, Stmt } from './types.js';

export function printPolicy(p: Policy): string {
  const out: string[] = [];
  const op = (o: Operand) => (o.type === 'local' ? `L${o.value}` : o.type === 'bool' ? String(o.value) : JSON.stringify(p.static.strings[o.value]));
  const stmt = (s: Stmt, ind: string): void => {
    const { type, location: _loc, ...rest } = s as Stmt & Record<string, unknown>;
    const nested: Array<[string, Block]> = [];
    const fields = Object.entries(rest)
      .map(([k, v]) => {
        if (k === 'block') {
          nested.push([k, v as Block]);
          return undefined;
        }
        if (k === 'blocks') {
          (v as Block[]).forEach((b, i) => nested.push([`block ${i}`, b]));
          return undefined;
        }
        if (v && typeof v === 'object' && 'type' in (v as object)) return `${k}=${op(v as Operand)}`;
        if (Array.isArray(v)) return `${k}=[${v.map((x) => (x && typeof x === 'object' ? op(x as Operand) : String(x))).join(', ')}]`;
        return `${k}=${typeof v === 'number' && /^(source|target|result|local|object|array|set|value|key|a|b)$/.test(k) ? `L${v}` : JSON.stringify(v)}`;
      })
      .filter(Boolean);
    out.push(`${ind}${type} ${fields.join(' ')}`);
    for (const [label, b] of nested) {
      out.push(`${ind}  ${label}:`);
      b.stmts.forEach((x) => stmt(x, `${ind}    `));
    }
  };
  for (const f of p.funcs) {
    out.push(`func ${f.name}(${f.params.map((l) => `L${l}`).join(', ')}) -> L${f.return}`);
    f.blocks.forEach((b, i) => {
      out.push(`  block ${i}:`);
      b.stmts.forEach((s) => stmt(s, '    '));
    });
  }
  for (const pl of p.plans) {
    out.push(`plan ${pl.name}`);
    pl.blocks.forEach((b, i) => {
      out.push(`  block ${i}:`);
      b.stmts.forEach((s) => stmt(s, '    '));
    });
  }
  return out.join('\n');
}
