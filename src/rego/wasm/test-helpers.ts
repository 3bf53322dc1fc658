// Small builders for hand-written IR in tests (not used by the compiler).
import type * as ir from '../ir/types.js';

export const L = (value: number): ir.Operand => ({ type: 'local', value });
export const S = (value: number): ir.Operand => ({ type: 'string_index', value });
export const B = (value: boolean): ir.Operand => ({ type: 'bool', value });

/**
 * A policy with one plan `main` whose result set gets `{"result": <local r>}` after running
 * `stmts` (which must leave the value in local 2). Strings: the caller's, then "result".
 */
export function planPolicy(strings: string[], stmts: ir.Stmt[], extra: Partial<ir.Policy> = {}, builtinFuncs: ir.Static['builtinFuncs'] = []): ir.Policy {
  const all = [...strings, 'result'];
  const resultKey = all.length - 1;
  return {
    static: { strings: all, builtinFuncs, files: ['test.rego'] },
    plans: [{
      name: 'main',
      blocks: [{ stmts: [
        ...stmts,
        { type: 'MakeObjectStmt', target: 1000 },
        { type: 'ObjectInsertStmt', object: 1000, key: S(resultKey), value: L(2) },
        { type: 'ResultSetAddStmt', value: 1000 },
      ] }],
    }],
    funcs: extra.funcs ?? [],
  };
}
