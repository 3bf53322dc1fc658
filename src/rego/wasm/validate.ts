// Structural checks on a policy's IR before any of it reaches binaryen: binaryen's own
// failures abort its whole instance, so everything that could make it fail is caught here
// and reported as an ordinary error.
import type * as ir from '../ir/types.js';

export class WasmCompileError extends Error {
  override name = 'WasmCompileError';
}

const MAX_LOCAL = 1 << 20;

function fail(where: string, msg: string): never {
  throw new WasmCompileError(`${where}: ${msg}`);
}

export interface ValidateContext {
  funcs: Map<string, ir.Func>;
  isBuiltin: (name: string) => boolean;
}

export function validatePolicy(policy: ir.Policy, ctx: ValidateContext): void {
  if (!policy || typeof policy !== 'object') fail('policy', 'not an object');
  const st = policy.static;
  if (!st || !Array.isArray(st.strings)) fail('static', 'strings missing');
  if (!Array.isArray(policy.plans) || !Array.isArray(policy.funcs)) fail('policy', 'plans and funcs must be arrays');
  st.strings.forEach((s, i) => typeof s === 'string' || fail(`static.strings[${i}]`, 'not a string'));
  const nstrings = st.strings.length;
  const names = new Set<string>();
  for (const p of policy.plans) {
    if (typeof p.name !== 'string') fail('plan', 'name missing');
    if (names.has(p.name)) fail(`plan ${p.name}`, 'duplicate plan name');
    names.add(p.name);
  }

  const local = (where: string, l: unknown) => {
    if (typeof l !== 'number' || !Number.isInteger(l) || l < 0 || l > MAX_LOCAL) fail(where, `bad local ${String(l)}`);
  };
  const operand = (where: string, o: ir.Operand | undefined) => {
    if (!o || typeof o !== 'object') fail(where, 'operand missing');
    if (o.type === 'local') local(where, o.value);
    else if (o.type === 'string_index') {
      if (!Number.isInteger(o.value) || o.value < 0 || o.value >= nstrings) fail(where, `string index ${o.value} out of range`);
    } else if (o.type === 'bool') {
      if (typeof o.value !== 'boolean') fail(where, 'bool operand without a boolean');
    } else fail(where, `unknown operand type ${(o as { type: string }).type}`);
  };

  const block = (where: string, b: ir.Block, depth: number, inFunc: boolean): void => {
    if (!b || !Array.isArray(b.stmts)) fail(where, 'block without stmts');
    b.stmts.forEach((s, i) => stmt(`${where}.stmts[${i}]`, s, depth, inFunc));
  };

  const stmt = (where: string, s: ir.Stmt, depth: number, inFunc: boolean): void => {
    if (!s || typeof s !== 'object') fail(where, 'statement missing');
    const w = `${where} (${s.type})`;
    switch (s.type) {
      case 'ReturnLocalStmt': local(w, s.source); if (!inFunc) fail(w, 'return outside a function'); break;
      case 'CallStmt': {
        if (!Array.isArray(s.args)) fail(w, 'args missing');
        s.args.forEach((a) => operand(w, a));
        local(w, s.result);
        const f = ctx.funcs.get(s.func);
        if (f) {
          if (f.params.length !== s.args.length) fail(w, `${s.func} takes ${f.params.length} arguments, got ${s.args.length}`);
        } else if (!ctx.isBuiltin(s.func)) fail(w, `undefined function: ${JSON.stringify(s.func)}`);
        break;
      }
      case 'CallDynamicStmt':
        if (!Array.isArray(s.args) || !Array.isArray(s.path)) fail(w, 'args/path missing');
        s.args.forEach((a) => local(w, a));
        s.path.forEach((p) => operand(w, p));
        local(w, s.result);
        if (depth < 3) fail(w, 'needs two enclosing blocks to break to');
        break;
      case 'BlockStmt':
        if (!Array.isArray(s.blocks)) fail(w, 'blocks missing');
        s.blocks.forEach((b, i) => block(`${w}.blocks[${i}]`, b, depth + 1, inFunc));
        break;
      case 'BreakStmt':
        if (!Number.isInteger(s.index) || s.index < 0 || s.index >= depth) fail(w, `break index ${s.index} exceeds block depth ${depth}`);
        break;
      case 'DotStmt': operand(w, s.source); operand(w, s.key); local(w, s.target); break;
      case 'LenStmt': operand(w, s.source); local(w, s.target); break;
      case 'ScanStmt':
        local(w, s.source); local(w, s.key); local(w, s.value);
        block(`${w}.block`, s.block, depth + 2, inFunc);
        break;
      case 'NotStmt': block(`${w}.block`, s.block, depth + 1, inFunc); break;
      case 'AssignIntStmt':
        if (typeof s.value !== 'number' || !Number.isSafeInteger(s.value)) fail(w, 'value must be a safe integer');
        local(w, s.target);
        break;
      case 'AssignVarStmt':
      case 'AssignVarOnceStmt': operand(w, s.source); local(w, s.target); break;
      case 'ResetLocalStmt':
      case 'MakeNullStmt':
      case 'MakeObjectStmt':
      case 'MakeSetStmt': local(w, s.target); break;
      case 'MakeNumberIntStmt':
        if (typeof s.value !== 'number' || !Number.isSafeInteger(s.value)) fail(w, 'value must be a safe integer');
        local(w, s.target);
        break;
      case 'MakeNumberRefStmt':
        if (!Number.isInteger(s.index) || s.index < 0 || s.index >= nstrings) fail(w, `string index ${s.index} out of range`);
        if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(st.strings[s.index]!)) fail(w, `not a number: ${JSON.stringify(st.strings[s.index])}`);
        local(w, s.target);
        break;
      case 'MakeArrayStmt':
        if (!Number.isInteger(s.capacity) || s.capacity < 0 || s.capacity > 1 << 24) fail(w, 'bad capacity');
        local(w, s.target);
        break;
      case 'EqualStmt':
      case 'NotEqualStmt': operand(w, s.a); operand(w, s.b); break;
      case 'IsArrayStmt':
      case 'IsObjectStmt':
      case 'IsSetStmt': operand(w, s.source); break;
      case 'IsDefinedStmt':
      case 'IsUndefinedStmt': local(w, s.source); break;
      case 'ArrayAppendStmt': local(w, s.array); operand(w, s.value); break;
      case 'ObjectInsertStmt':
      case 'ObjectInsertOnceStmt': local(w, s.object); operand(w, s.key); operand(w, s.value); break;
      case 'ObjectMergeStmt': local(w, s.a); local(w, s.b); local(w, s.target); break;
      case 'SetAddStmt': local(w, s.set); operand(w, s.value); break;
      case 'WithStmt':
        local(w, s.local);
        if (!Array.isArray(s.path)) fail(w, 'path missing');
        s.path.forEach((p) => (Number.isInteger(p) && p >= 0 && p < nstrings) || fail(w, `path string index ${p} out of range`));
        operand(w, s.value);
        block(`${w}.block`, s.block, depth + 1, inFunc);
        break;
      case 'ResultSetAddStmt': local(w, s.value); if (inFunc) fail(w, 'result set outside a plan'); break;
      case 'NopStmt': break;
      default: fail(where, `unknown statement type ${JSON.stringify((s as { type: unknown }).type)}`);
    }
  };

  policy.funcs.forEach((f, i) => {
    const w = `func ${f?.name ?? i}`;
    if (!f || typeof f.name !== 'string') fail(w, 'name missing');
    if (!Array.isArray(f.params) || f.params.length === 0) fail(w, 'a function takes at least one parameter');
    f.params.forEach((p) => local(w, p));
    local(w, f.return);
    if (!Array.isArray(f.blocks)) fail(w, 'blocks missing');
    f.blocks.forEach((b, j) => block(`${w}.blocks[${j}]`, b, 1, true));
  });
  policy.plans.forEach((p) => {
    if (!Array.isArray(p.blocks)) fail(`plan ${p.name}`, 'blocks missing');
    p.blocks.forEach((b, j) => block(`plan ${p.name}.blocks[${j}]`, b, 2, false));
  });
}
