// IR statements -> binaryen expressions. The mapping follows OPA's
// internal/compiler/wasm/wasm.go: every IR block is a wasm block (a ScanStmt is a block
// around a loop, so inside a scan `break 0` continues and `break 1` leaves the scan), a
// statement that fails breaks out of its innermost block, NotStmt and WithStmt run their
// block with a flag that records whether it completed.
import type * as ir from '../ir/types.js';
import { I32, NONE, type CodeBuilder, type Expr, type ValType } from './encode.js';
import type { StaticLayout } from './static-data.js';
import { BUILTIN_ERROR_TAG } from './template.js';

export const OBJECT_KIND = 6;

/** Host builtins with side effects: called every time, never answered from the runtime's memory. */
const UNCACHED_HOST_BUILTINS = new Set(['internal.print', 'print', 'internal.test_case', 'trace', 'internal.bastion_print', 'internal.bastion_trace']);
const ARRAY_KIND = 5;
const SET_KIND = 7;

/** Runtime services by role, resolved to internal function names by the linker. */
export interface Services {
  [name: string]: string;
}

export interface BuiltinTarget {
  /** internal name of a runtime builtin, or undefined for a host builtin */
  runtime?: string;
  /** id in builtins() for host builtins */
  hostId?: number;
}

export interface ModuleContext {
  m: CodeBuilder;
  rt: Services;
  data: StaticLayout;
  policy: ir.Policy;
  funcIndex: Map<string, number>;
  funcName: (i: number) => string;
  builtin: (name: string, arity: number) => BuiltinTarget;
  /** static string value addresses for CallDynamic path matching: funcs[i].path[j] */
  pathConst: (i: number, j: number) => number;
  /** static string value address of the name of static.files[i] (conflict error locations) */
  fileConst?: (i: number) => number | undefined;
  /** OPA's StrictBuiltinErrors: caught builtin errors are kept and raised when evaluation ends */
  strictBuiltinErrors: boolean;
  /**
   * Set for a module without exception handling: the runtime's asyncify services (template.ts).
   * A runtime call that raised a builtin error returns while unwinding; the code after it stops
   * the unwinding and handles the error where a `catch` would.
   */
  unwind?: { state: string; stop: string };
}

export class FunctionBuilder {
  private readonly locals = new Map<ir.Local, number>();
  /** number of i32 locals after the parameters */
  vars = 0;
  private readonly labels: string[] = [];
  private labelSeq = 0;

  constructor(
    private readonly cx: ModuleContext,
    private readonly nparams: number,
    /** memo slot of a memoized function, else -1 */
    private readonly memo: number,
    /** error raised by AssignVarOnceStmt conflicts */
    private readonly conflictError: number,
    private readonly resultSet?: number,
  ) {}

  bindParam(l: ir.Local, index: number): void {
    this.locals.set(l, index);
  }

  local(l: ir.Local): number {
    let idx = this.locals.get(l);
    if (idx === undefined) {
      idx = this.temp();
      this.locals.set(l, idx);
    }
    return idx;
  }

  temp(): number {
    return this.nparams + this.vars++;
  }

  private get m() { return this.cx.m; }
  private get i32(): ValType { return I32; }

  private call(service: string, args: Expr[], result: ValType = I32): Expr {
    const name = this.cx.rt[service];
    if (!name) throw new Error(`runtime service ${service} missing`);
    const call = this.m.call(name, args, result);
    if (!this.cx.unwind) return call;
    // a builtin error outside a builtin call: nobody catches it, the evaluation aborts
    const uncaught = this.m.block(null, [this.m.call(this.cx.rt.builtin_error_uncaught!, [], NONE), this.m.unreachable()], NONE);
    return this.afterUnwind(call, uncaught);
  }

  private unwindTemp: number | undefined;

  /**
   * Without exception handling: `call`, then if it came back unwinding, stop the unwinding and
   * run `onError` (its value, if any, replaces the call's).
   */
  private afterUnwind(call: Expr, onError: Expr): Expr {
    const m = this.m;
    const u = this.cx.unwind!;
    const unwinding = m.i32.eq(m.call(u.state, [], I32), m.i32.const(1));
    const handled = m.block(null, [m.call(u.stop, [], NONE), onError], onError.type === I32 ? I32 : NONE);
    if (call.type !== I32) return m.block(null, [call, m.if(unwinding, handled)], NONE);
    this.unwindTemp ??= this.temp();
    const t = this.unwindTemp;
    return m.block(null, [
      m.local.set(t, call),
      onError.type === I32 ? m.if(unwinding, handled, m.local.get(t, I32)) : m.block(null, [m.if(unwinding, handled), m.local.get(t, I32)], I32),
    ], I32);
  }

  private get(l: ir.Local): Expr { return this.m.local.get(this.local(l), this.i32); }
  private set(l: ir.Local, v: Expr): Expr { return this.m.local.set(this.local(l), v); }

  read(o: ir.Operand): Expr {
    switch (o.type) {
      case 'local': return this.get(o.value);
      case 'string_index': return this.m.i32.const(this.cx.data.stringValue[o.value]!);
      case 'bool': return this.m.i32.const(o.value ? this.cx.data.trueAddr : this.cx.data.falseAddr);
    }
  }

  newLabel(kind: string): string { return `${kind}${this.labelSeq++}`; }

  /** The label `index` levels out of the innermost block. */
  target(index: number): string {
    const l = this.labels[this.labels.length - 1 - index];
    if (l === undefined) throw new Error(`break index ${index} out of range`);
    return l;
  }

  /** Compiles an IR block as a named wasm block. */
  block(b: ir.Block, kind = 'b'): Expr {
    const label = this.newLabel(kind);
    this.labels.push(label);
    const body = this.stmts(b.stmts);
    this.labels.pop();
    return this.m.block(label, body, NONE);
  }

  /** Runs fn with an extra (outer) label pushed. */
  withLabel<T>(label: string, fn: () => T): T {
    this.labels.push(label);
    try { return fn(); } finally { this.labels.pop(); }
  }

  stmts(list: ir.Stmt[]): Expr[] {
    const out: Expr[] = [];
    for (const s of list) this.stmt(s, out);
    return out;
  }

  private breakIfZero(v: Expr): Expr {
    return this.m.br(this.target(0), this.m.i32.eqz(v));
  }

  private i64(v: number): Expr {
    // binaryen >= 120 takes one bigint
    return (this.m.i64.const as unknown as (v: bigint) => Expr)(BigInt(v));
  }

  private sameOperand(a: ir.Operand, b: ir.Operand): boolean {
    return a.type === b.type && a.value === b.value;
  }

  private stmt(s: ir.Stmt, out: Expr[]): void {
    const m = this.m;
    const i32 = this.i32;
    switch (s.type) {
      case 'NopStmt': return;
      case 'ReturnLocalStmt':
        if (this.memo >= 0) out.push(this.call('memo_set', [m.i32.const(this.memo), this.get(s.source)], NONE));
        out.push(m.return(this.get(s.source)));
        return;
      case 'BlockStmt':
        for (const b of s.blocks) out.push(this.block(b));
        return;
      case 'BreakStmt':
        out.push(m.br(this.target(s.index)));
        return;
      case 'CallStmt': {
        const args = s.args.map((a) => this.read(a));
        const fi = this.cx.funcIndex.get(s.func);
        let call: Expr;
        if (fi !== undefined) call = m.call(this.cx.funcName(fi), args, i32);
        else {
          const t = this.cx.builtin(s.func, args.length);
          if (t.runtime) call = this.catchBuiltinError(m.call(t.runtime, args, i32));
          else if (UNCACHED_HOST_BUILTINS.has(s.func)) call = m.call(`opa_builtin${args.length}`, [m.i32.const(t.hostId!), m.i32.const(0), ...args], i32);
          // through the runtime's per-evaluation memory of host calls (hostcall.ts)
          else call = this.call(`host_call${args.length}`, [m.i32.const(t.hostId!), ...args]);
        }
        out.push(m.local.set(this.local(s.result), call));
        out.push(this.breakIfZero(this.get(s.result)));
        return;
      }
      case 'CallDynamicStmt': {
        // Candidates are the planned functions whose path matches the operands.
        const found = this.newLabel('dyn');
        const undefinedTarget = this.target(2);
        const notFound = this.target(0);
        const cands: Expr[] = [];
        this.cx.policy.funcs.forEach((f, i) => {
          if (!f.path || f.path.length !== s.path.length || f.params.length !== s.args.length) return;
          const cand = this.newLabel('cand');
          const body: Expr[] = [];
          s.path.forEach((p, j) => {
            body.push(m.br(cand, m.i32.eqz(this.call('value_equal', [this.read(p), m.i32.const(this.cx.pathConst(i, j))]))));
          });
          body.push(m.local.set(this.local(s.result), m.call(this.cx.funcName(i), s.args.map((a) => this.get(a)), i32)));
          body.push(m.br(undefinedTarget, m.i32.eqz(this.get(s.result))));
          body.push(m.br(found));
          cands.push(m.block(cand, body, NONE));
        });
        cands.push(m.br(notFound));
        out.push(m.block(found, cands, NONE));
        return;
      }
      case 'WithStmt': {
        const save = this.temp();
        const undef = this.temp();
        out.push(this.call('memo_push', [], NONE));
        out.push(m.local.set(save, this.get(s.local)));
        if (s.path.length === 0) out.push(this.set(s.local, this.read(s.value)));
        else this.upsert(s, out);
        out.push(m.local.set(undef, m.i32.const(1)));
        const label = this.newLabel('with');
        this.labels.push(label);
        const body = this.stmts(s.block.stmts);
        this.labels.pop();
        body.push(m.local.set(undef, m.i32.const(0)));
        out.push(m.block(label, body, NONE));
        out.push(this.set(s.local, m.local.get(save, i32)));
        out.push(this.call('memo_pop', [], NONE));
        out.push(m.br(this.target(0), m.local.get(undef, i32)));
        return;
      }
      case 'AssignVarStmt':
        out.push(this.set(s.target, this.read(s.source)));
        return;
      case 'AssignVarOnceStmt':
        out.push(m.if(
          m.i32.eqz(this.get(s.target)),
          this.set(s.target, this.read(s.source)),
          m.if(m.i32.eqz(this.call('value_equal', [this.get(s.target), this.read(s.source)])), this.abortAt(this.conflictError, s.location)),
        ));
        return;
      case 'AssignIntStmt':
        out.push(this.call('number_set_int', [this.get(s.target), this.i64(s.value)], NONE));
        return;
      case 'ScanStmt': {
        const n = this.temp();
        const i = this.temp();
        const exit = this.newLabel('scan');
        const cont = this.newLabel('next');
        out.push(m.local.set(n, this.call('iter_prepare', [this.get(s.source)])));
        out.push(m.local.set(i, m.i32.const(-1)));
        this.labels.push(exit, cont);
        const body: Expr[] = [
          m.local.set(i, m.i32.add(m.local.get(i, i32), m.i32.const(1))),
          m.br(exit, m.i32.ge_s(m.local.get(i, i32), m.local.get(n, i32))),
          this.set(s.key, this.call('iter_key', [this.get(s.source), m.local.get(i, i32)])),
          this.set(s.value, this.call('iter_value', [this.get(s.source), m.local.get(i, i32)])),
          ...this.stmts(s.block.stmts),
          m.br(cont),
        ];
        this.labels.pop();
        this.labels.pop();
        out.push(m.block(exit, [m.loop(cont, m.block(null, body, NONE))], NONE));
        return;
      }
      case 'NotStmt': {
        const cond = this.temp();
        out.push(m.local.set(cond, m.i32.const(1)));
        const label = this.newLabel('not');
        this.labels.push(label);
        const body = this.stmts(s.block.stmts);
        this.labels.pop();
        body.push(m.local.set(cond, m.i32.const(0)));
        out.push(m.block(label, body, NONE));
        out.push(m.br(this.target(0), m.i32.eqz(m.local.get(cond, i32))));
        return;
      }
      case 'DotStmt':
        if (s.source.type !== 'local') { out.push(m.br(this.target(0))); return; }
        out.push(this.set(s.target, this.call('value_get', [this.read(s.source), this.read(s.key)])));
        out.push(this.breakIfZero(this.get(s.target)));
        return;
      case 'LenStmt':
        out.push(this.set(s.target, this.call('number_int', [m.i64.extend_s(this.call('value_length', [this.read(s.source)]))])));
        return;
      case 'EqualStmt':
        if (this.sameOperand(s.a, s.b)) return;
        out.push(m.br(this.target(0), m.i32.eqz(this.call('value_equal', [this.read(s.a), this.read(s.b)]))));
        return;
      case 'NotEqualStmt':
        if (this.sameOperand(s.a, s.b)) { out.push(m.br(this.target(0))); return; }
        if (s.a.type === s.b.type && s.a.type !== 'local') return; // distinct constants of one kind
        out.push(m.br(this.target(0), this.call('value_equal', [this.read(s.a), this.read(s.b)])));
        return;
      case 'MakeNullStmt': out.push(this.set(s.target, this.call('null', []))); return;
      case 'MakeNumberIntStmt': out.push(this.set(s.target, this.call('number_int', [this.i64(s.value)]))); return;
      case 'MakeNumberRefStmt': {
        const t = this.cx.data.stringText[s.index]!;
        out.push(this.set(s.target, this.call('number_ref', [m.i32.const(t.addr), m.i32.const(t.len)])));
        return;
      }
      case 'MakeArrayStmt': out.push(this.set(s.target, this.call('array_with_cap', [m.i32.const(s.capacity)]))); return;
      case 'MakeObjectStmt': out.push(this.set(s.target, this.call('object', []))); return;
      case 'MakeSetStmt': out.push(this.set(s.target, this.call('set', []))); return;
      case 'IsArrayStmt': this.isKind(s.source, ARRAY_KIND, out); return;
      case 'IsObjectStmt': this.isKind(s.source, OBJECT_KIND, out); return;
      case 'IsSetStmt': this.isKind(s.source, SET_KIND, out); return;
      case 'IsDefinedStmt': out.push(this.breakIfZero(this.get(s.source))); return;
      case 'IsUndefinedStmt': out.push(m.br(this.target(0), this.get(s.source))); return;
      case 'ResetLocalStmt': out.push(this.set(s.target, m.i32.const(0))); return;
      case 'ArrayAppendStmt': out.push(this.call('array_append', [this.get(s.array), this.read(s.value)], NONE)); return;
      case 'ObjectInsertStmt':
        out.push(this.call('object_insert', [this.get(s.object), this.read(s.key), this.read(s.value)], NONE));
        return;
      case 'ObjectInsertOnceStmt': {
        const tmp = this.temp();
        out.push(m.local.set(tmp, this.call('value_get', [this.get(s.object), this.read(s.key)])));
        out.push(m.if(
          m.i32.eqz(m.local.get(tmp, i32)),
          this.call('object_insert', [this.get(s.object), this.read(s.key), this.read(s.value)], NONE),
          m.if(m.i32.eqz(this.call('value_equal', [m.local.get(tmp, i32), this.read(s.value)])), this.abortAt(2, s.location)),
        ));
        return;
      }
      case 'ObjectMergeStmt':
        out.push(this.set(s.target, this.call('value_merge', [this.get(s.a), this.get(s.b)])));
        return;
      case 'SetAddStmt': out.push(this.call('set_add', [this.get(s.set), this.read(s.value)], NONE)); return;
      case 'ResultSetAddStmt':
        if (this.resultSet === undefined) throw new Error('ResultSetAddStmt outside a plan');
        out.push(this.call('set_add', [m.local.get(this.resultSet, i32), this.get(s.value)], NONE));
        return;
    }
  }

  /**
   * A runtime builtin's type or builtin error (thrown as the runtime's tag) makes the call
   * undefined, as in OPA's topdown; in strict mode the runtime also keeps the first one, to
   * be raised when the evaluation ends.
   */
  private catchBuiltinError(call: Expr): Expr {
    const m = this.m;
    const onError = this.cx.strictBuiltinErrors
      ? m.block(null, [this.call('builtin_error_defer', [], NONE), m.i32.const(0)], this.i32)
      : m.i32.const(0);
    if (this.cx.unwind) return this.afterUnwind(call, onError);
    return m.try(null, call, [BUILTIN_ERROR_TAG], [onError]);
  }

  private isKind(source: ir.Operand, kind: number, out: Expr[]): void {
    const m = this.m;
    if (source.type !== 'local') { out.push(m.br(this.target(0))); return; }
    out.push(m.br(this.target(0), m.i32.ne(this.call('value_type', [this.read(source)]), m.i32.const(kind))));
  }

  /** abort() naming the statement's file and row, when it has a file (OPA's error location). */
  abortAt(which: number, loc: ir.Stmt['location']): Expr {
    const file = loc && loc.row > 0 ? this.cx.fileConst?.(loc.file) : undefined;
    if (file === undefined || this.cx.policy.static.files[loc!.file] === '<query>') return this.abort(which);
    const m = this.m;
    return m.block(null, [this.call('error_at', [m.i32.const(which), m.i32.const(file), m.i32.const(loc!.row), m.i32.const(loc!.col)], NONE), m.unreachable()], NONE);
  }

  abort(which: number): Expr {
    return this.m.block(null, [this.call('error', [this.m.i32.const(which)], NONE), this.m.unreachable()], NONE);
  }

  /** `with <local>.<path> as <value>`: copy-on-write insert along the path. */
  private upsert(s: Extract<ir.Stmt, { type: 'WithStmt' }>, out: Expr[]): void {
    const m = this.m;
    const i32 = this.i32;
    const cur = this.temp();
    const next = this.temp();
    const isObj = (e: Expr) => m.i32.eq(this.call('value_type', [e]), m.i32.const(OBJECT_KIND));
    out.push(m.local.set(cur, this.get(s.local)));
    out.push(m.local.set(cur, m.if(isObj(m.local.get(cur, i32)),
      this.call('value_shallow_copy', [m.local.get(cur, i32)]),
      this.call('object', []))));
    out.push(this.set(s.local, m.local.get(cur, i32)));
    const key = (j: number) => m.i32.const(this.cx.data.stringValue[s.path[j]!]!);
    for (let j = 0; j < s.path.length - 1; j++) {
      out.push(m.local.set(next, this.call('value_get', [m.local.get(cur, i32), key(j)])));
      out.push(m.local.set(next, m.if(
        m.if(m.local.get(next, i32), isObj(m.local.get(next, i32)), m.i32.const(0)),
        this.call('value_shallow_copy', [m.local.get(next, i32)]),
        this.call('object', []))));
      out.push(this.call('object_insert', [m.local.get(cur, i32), key(j), m.local.get(next, i32)], NONE));
      out.push(m.local.set(cur, m.local.get(next, i32)));
    }
    out.push(this.call('object_insert', [m.local.get(cur, i32), key(s.path.length - 1), this.read(s.value)], NONE));
  }
}
