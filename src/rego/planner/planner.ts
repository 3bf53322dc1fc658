// The planner: compiled Rego (modules + queries as OPA's compiler leaves them) to the IR.
// A port of the logic of OPA's internal/planner/planner.go: every construct is planned in
// continuation-passing style (`iter` is called once the construct's bindings are in place),
// so nested iteration becomes nested ScanStmt blocks and failure simply ends a block.
import type { Body, Every, Expr, Location as AstLocation, Module, Rule, Term, Value, With } from '../ast/types.js';
import type { CompiledPolicy, CompiledQuery } from '../compiler/types.js';
import {
  DATA,
  FIRST_FREE_LOCAL,
  INPUT,
  type Block,
  type Func,
  type Local,
  type Operand,
  type Plan,
  type Policy,
  type Stmt,
} from '../ir/types.js';
import {
  boolTerm, isCall, isConstant, isEvery, isGround, isSome, refIsGround, refToString, ruleKind, someVar, sortTerms, stringTerm, termToString, termsEqual, varsOf,
} from '../ast/index.js';
import { builtinDecl, type BuiltinDecl } from './builtins.js';
import { ENCODED_ARG_CALLS, PRINT_BUILTIN, RESULT_FROM_ARG_CALLS, SET_RESULT_CALLS, hostCallAlias } from '../builtins/aliases.js';
import { AnnotationSet, METADATA_CALLS } from './metadata.js';
import { FuncStack, MocksStack, RuleTrie } from './ruletrie.js';
import { VarStack } from './varstack.js';

export class PlanError extends Error {
  constructor(
    message: string,
    readonly location?: AstLocation,
  ) {
    super(message);
  }
}

type Iter = () => void;

const TRUE = boolTerm(true);
const L = (value: Local): Operand => ({ type: 'local', value });
const S = (value: number): Operand => ({ type: 'string_index', value });
const B = (value: boolean): Operand => ({ type: 'bool', value });

interface BasePtr {
  local: Local;
  path: Term[];
}

function refOf(t: Term): Term[] | undefined {
  if (t.value.type === 'ref') return t.value.value;
  if (t.value.type === 'var') return [t];
  return undefined;
}

function isRootVar(t: Term, name: string): boolean {
  return t.value.type === 'var' && t.value.value === name;
}

export interface PlanOptions {
  /** Builtins with their arities as the compiler found them. */
  builtins?: Map<string, { arity: number }>;
  /** Emit `internal.bastion_cover(file, row)` calls for test coverage (see NEEDS.md). */
  coverage?: boolean;
  /**
   * Emit `internal.bastion_trace(code, values)` calls for evaluation traces (trace.ts): rule
   * enter/exit/leave, and expression eval/success/leave with the values of the variables the
   * expression reads. The nodes the codes refer to are collected in `traceNodes`.
   */
  trace?: boolean;
  traceNodes?: TraceNode[];
}

/** What a trace event code refers to: a rule or an expression, with its location. */
export interface TraceNode {
  kind: 'rule' | 'expr';
  node: Rule | Expr;
  /** Variables of an expression bound when it is evaluated (their values come with its eval event). */
  vars?: string[];
}

/** Trace event kinds: code = node id * TRACE_KINDS + kind. */
export const TRACE_ENTER = 0;
export const TRACE_EXIT = 1;
export const TRACE_LEAVE_RULE = 2;
export const TRACE_EVAL = 3;
export const TRACE_SUCCESS = 4;
export const TRACE_LEAVE = 5;
export const TRACE_KINDS = 8;
const TRACE_BUILTIN = 'internal.bastion_trace';

const COVER_BUILTIN = 'internal.bastion_cover';

export class Planner {
  private readonly policy: Policy = { static: { strings: [], builtinFuncs: [], files: [] }, plans: [], funcs: [] };
  private readonly strings = new Map<string, number>();
  private readonly files = new Map<string, number>();
  private readonly externs = new Map<string, BuiltinDecl>();
  private readonly rules = new RuleTrie();
  private readonly ruleRefs = new Map<Rule, Term[]>();
  private readonly mocks = new MocksStack();
  private readonly funcs = new FuncStack();
  private plan: Plan | undefined;
  private curr: Block = { stmts: [] };
  private vars: VarStack;
  private ltarget: Operand = L(0);
  private lnext: Local = FIRST_FREE_LOCAL;
  private loc: AstLocation | undefined;
  private genVar = 0;
  /** The rule whose body is being planned (rego.metadata.* calls depend on it). */
  private currentRule: Rule | undefined;
  private annotationSet: AnnotationSet | undefined;
  /** Number terms that key into the base document (planStorageDot). */
  private readonly storageNumberKeys = new WeakSet<Term>();

  constructor(
    private readonly compiled: Pick<CompiledPolicy, 'modules' | 'queries'> & Partial<Pick<CompiledPolicy, 'builtins'>>,
    private readonly opts: PlanOptions = {},
  ) {
    this.vars = new VarStack(
      new Map([
        ['input', INPUT],
        ['data', DATA],
      ]),
    );
  }

  run(): Policy {
    this.buildFunctrie(this.compiled.modules);
    this.planQueries(this.compiled.queries);
    this.planExterns();
    return this.policy;
  }

  // ---- rule trie ---------------------------------------------------------------------------

  /** The rule's full reference: package path extended by its head reference. */
  private ruleRef(rule: Rule): Term[] {
    const r = this.ruleRefs.get(rule);
    if (!r) throw new PlanError(`internal: rule without module`, rule.location);
    return r;
  }

  private buildFunctrie(modules: Module[]): void {
    for (const module of modules) {
      const pkg = module.package.path;
      if (module.rules.length === 0) {
        this.rules.lookupOrInsert(pkg);
        continue;
      }
      for (const rule of module.rules) {
        const head = rule.head.reference.length > 0 ? rule.head.reference : [{ value: { type: 'var', value: rule.head.name } } as Term];
        const h0 = head[0];
        const first = h0.value.type === 'var' ? { ...h0, value: { type: 'string' as const, value: h0.value.value } } : h0;
        const ref = [...pkg, first, ...head.slice(1)];
        for (let r: Rule | undefined = rule; r; r = r.else) this.ruleRefs.set(r, ref);
        // StringPrefix: data plus the leading string terms.
        let n = 1;
        while (n < ref.length && ref[n].value.type === 'string') n++;
        const node = this.rules.lookupOrInsert(ref.slice(0, n));
        node.rules = [...node.descendantRules(), rule];
        node.children = new Map();
      }
    }
  }

  // ---- rules and functions -----------------------------------------------------------------

  private planRules(rulesIn: Rule[]): string {
    let rules = rulesIn;
    const pathRef = this.ruleRef(rules[0]);

    // The function's collective path: p.q when planning both p.q.r and p.q[s].
    let pieces = pathRef.length;
    for (const rule of rules) {
      const r = this.ruleRef(rule);
      r.forEach((t, j) => {
        if (t.value.type !== 'string' && j > 0 && j < pieces) pieces = j;
      });
    }
    const buildObject = pieces !== pathRef.length;
    const pathPieces: string[] = [];
    for (let i = 1; i < pieces; i++) {
      const v = pathRef[i].value;
      if (v.type !== 'string') throw new PlanError('internal: non-string path piece');
      pathPieces.push(v.value);
    }
    const path = refToString(pathRef.slice(0, pieces));
    const known = this.funcs.get(path);
    if (known) return known;

    const pvars = this.vars;
    const pcurr = this.curr;
    const prule = this.currentRule;
    const pltarget = this.ltarget;
    const plnext = this.lnext;
    const ploc = this.loc;

    this.lnext = 0;
    this.loc = rules[0].head.location ?? rules[0].location;

    const gen = this.funcs.gen();
    const fn: Func = {
      name: `g${gen}.${path}`,
      params: [this.newLocal(), this.newLocal()],
      return: this.newLocal(),
      blocks: [],
      path: [`g${gen}`, ...pathPieces],
    };
    // Caller variables that `with` mocks active in this generation refer to (planWith).
    const extras = this.funcs.extras();
    for (let i = 0; i < extras.length; i++) fn.params.push(this.newLocal());
    const nargs = rules[0].head.args?.length ?? 0;
    for (let i = 0; i < nargs; i++) fn.params.push(this.newLocal());
    const params = fn.params.slice(2 + extras.length);
    const rootVars = (): VarStack => {
      const m = new Map<string, Local>([
        ['input', fn.params[0]],
        ['data', fn.params[1]],
      ]);
      extras.forEach((name, i) => m.set(name, fn.params[2 + i]));
      return new VarStack(m);
    };

    const kind = ruleKind(rules[0]);
    if (kind === 'single' && buildObject) fn.blocks.push(this.blockWithStmt({ type: 'MakeObjectStmt', target: fn.return }));
    if (kind === 'multi') fn.blocks.push(this.blockWithStmt(buildObject ? { type: 'MakeObjectStmt', target: fn.return } : { type: 'MakeSetStmt', target: fn.return }));

    const lresult = this.newLocal();
    const lnext = this.lnext;

    let defaultRule: Rule | undefined;
    let ruleLoc: AstLocation | undefined;

    // Longer refs first, so that merging detects conflicts between deep and shallow values.
    rules = [...rules].sort((a, b) => this.ruleRef(b).length - this.ruleRef(a).length);

    rules.forEach((top, i) => {
      if (i === 0) ruleLoc = this.loc;
      if (top.default) {
        defaultRule = top;
        return;
      }
      let blocks: Block[];
      if (!top.else) {
        blocks = fn.blocks;
      } else {
        const stmt: Stmt = { type: 'BlockStmt', blocks: [] };
        fn.blocks.push({ stmts: [stmt] });
        blocks = stmt.blocks;
      }
      let prev: Rule | undefined;
      for (let rule: Rule | undefined = top; rule; prev = rule, rule = rule.else) {
        const current = rule;
        this.currentRule = current;
        this.loc = current.head.location ?? current.location;
        this.lnext = lnext;
        this.vars = rootVars();
        const curr: Block = { stmts: [] };
        blocks.push(curr);
        this.curr = curr;
        if (prev) this.appendStmt({ type: 'IsUndefinedStmt', source: lresult });
        else this.appendStmt({ type: 'ResetLocalStmt', target: lresult });

        let traceId: number | undefined;
        const traced: Block = { stmts: [] };
        if (this.opts.trace && current.location?.file) {
          traceId = this.traceNode({ kind: 'rule', node: current });
          this.planTraceCall(traceId, TRACE_ENTER);
          this.curr = traced;
        }
        const args = current.head.args ?? top.head.args ?? [];
        this.planFuncParams(params, args, 0, () => {
          this.planQuery(current.body, 0, () => {
            this.planCover(current.head.location);
            if (traceId !== undefined) this.planTraceCall(traceId, TRACE_EXIT);
            if (ruleKind(current) === 'single') {
              const value = current.head.value ?? TRUE;
              if (buildObject) {
                const ref = this.ruleRef(current);
                this.planTerm(value, () => {
                  const v = this.ltarget;
                  this.planNestedObjects(fn.return, ref.slice(pieces, ref.length - 1), (obj) => {
                    this.planTerm(ref[ref.length - 1], () => {
                      this.appendStmt({ type: 'ObjectInsertOnceStmt', object: obj, key: this.ltarget, value: v, location: this.stmtLoc(current.location) });
                    });
                  });
                });
                return;
              }
              this.planTerm(value, () => {
                this.appendStmt({ type: 'AssignVarOnceStmt', target: lresult, source: this.ltarget, location: this.stmtLoc(current.location) });
              });
              return;
            }
            const key = current.head.key;
            if (!key) throw new PlanError('multi-value rule without key', current.location);
            if (buildObject) {
              const ref = this.ruleRef(current);
              this.planNestedObjects(fn.return, ref.slice(pieces, ref.length - 1), (obj) => {
                this.planTerm(ref[ref.length - 1], () => {
                  const k = this.ltarget;
                  this.planTerm(key, () => {
                    const v = this.ltarget;
                    this.planDotOr(obj, k, (l) => ({ type: 'MakeSetStmt', target: l }), (set) => {
                      this.appendStmt({ type: 'SetAddStmt', set, value: v });
                      this.appendStmt({ type: 'ObjectInsertStmt', key: k, value: L(set), object: obj });
                    });
                  });
                });
              });
              return;
            }
            this.planTerm(key, () => {
              this.appendStmt({ type: 'SetAddStmt', set: fn.return, value: this.ltarget });
            });
          });
        });
        if (traceId !== undefined) {
          this.curr = curr;
          this.appendStmt({ type: 'BlockStmt', blocks: [traced] });
          this.planTraceCall(traceId, TRACE_LEAVE_RULE);
        }
      }
      if (ruleKind(top) === 'single' && !buildObject) {
        const end: Block = { stmts: [] };
        this.appendStmtToBlock({ type: 'IsDefinedStmt', source: lresult }, end);
        this.appendStmtToBlock({ type: 'AssignVarOnceStmt', target: fn.return, source: L(lresult), location: this.stmtLoc(top.location) }, end);
        blocks.push(end);
      }
    });

    if (defaultRule) {
      const d = defaultRule;
      this.currentRule = d;
      this.loc = d.head.location ?? d.location;
      this.lnext = lnext;
      this.vars = rootVars();
      fn.blocks.push(this.blockWithStmt({ type: 'IsUndefinedStmt', source: fn.return }));
      this.curr = fn.blocks[fn.blocks.length - 1];
      this.planQuery(d.body, 0, () => {
        this.loc = d.head.location ?? d.location;
        this.planCover(d.head.location);
        this.planTerm(d.head.value ?? TRUE, () => {
          this.appendStmt({ type: 'AssignVarOnceStmt', target: fn.return, source: this.ltarget });
        });
      });
    }

    this.loc = ruleLoc;
    fn.blocks.push(this.blockWithStmt({ type: 'ReturnLocalStmt', source: fn.return }));
    this.policy.funcs.push(fn);
    this.funcs.add(path, fn.name);

    this.lnext = plnext;
    this.ltarget = pltarget;
    this.vars = pvars;
    this.curr = pcurr;
    this.loc = ploc;
    this.currentRule = prule;
    return fn.name;
  }

  /** obj[key], created by `or` when absent; the (possibly updated) value is written back after `iter`. */
  private planDotOr(obj: Local, key: Operand, or: (l: Local) => Stmt, iter: (l: Local) => void): void {
    const prev = this.curr;
    const dotBlock: Block = { stmts: [] };
    this.curr = dotBlock;
    const val = this.newLocal();
    this.appendStmt({ type: 'DotStmt', source: L(obj), key, target: val });
    this.appendStmt({ type: 'BreakStmt', index: 1 });
    const outer: Block = { stmts: [{ type: 'BlockStmt', blocks: [dotBlock] }, or(val)] };
    this.curr = prev;
    this.appendStmt({ type: 'BlockStmt', blocks: [outer] });
    iter(val);
    this.appendStmt({ type: 'ObjectInsertStmt', key, value: L(val), object: obj });
  }

  private planNestedObjects(obj: Local, ref: Term[], iter: (l: Local) => void): void {
    if (ref.length === 0) {
      iter(obj);
      return;
    }
    this.planTerm(ref[0], () => {
      const key = this.ltarget;
      this.planDotOr(obj, key, (l) => ({ type: 'MakeObjectStmt', target: l }), (child) => this.planNestedObjects(child, ref.slice(1), iter));
    });
  }

  private planFuncParams(params: Local[], args: Term[], idx: number, iter: Iter): void {
    if (idx >= args.length) {
      iter();
      return;
    }
    this.planUnifyLocal(L(params[idx]), args[idx], () => this.planFuncParams(params, args, idx + 1, iter));
  }

  // ---- queries -----------------------------------------------------------------------------

  private planQueries(queries: CompiledQuery[]): void {
    for (const q of queries) {
      this.plan = { name: q.name, blocks: [] };
      this.policy.plans.push(this.plan);
      const names = new Map<string, number>();
      for (const b of q.bindings) names.set(b.name, this.getStringConst(b.name));
      this.lnext = FIRST_FREE_LOCAL;
      this.loc = q.body[0]?.location;
      this.vars.push(new Map());
      this.curr = { stmts: [] };
      let defined = false;
      this.planQuery(q.body, 0, () => {
        const lr = this.newLocal();
        this.appendStmt({ type: 'MakeObjectStmt', target: lr });
        for (const b of q.bindings) {
          const l = this.vars.get(b.var);
          if (l === undefined) continue;
          this.appendStmt({ type: 'ObjectInsertStmt', object: lr, key: S(names.get(b.name)!), value: L(l) });
        }
        this.appendStmt({ type: 'ResultSetAddStmt', value: lr });
        defined = true;
      });
      this.vars.pop();
      if (defined) this.plan.blocks.push(this.curr);
    }
  }

  private planQuery(q: Body, index: number, iter: Iter): void {
    if (index >= q.length) {
      iter();
      return;
    }
    const old = this.loc;
    this.loc = q[index].location ?? old;
    if (!isSome(q[index])) this.planCover(q[index].location);
    const rest = () =>
      this.planQuery(q, index + 1, () => {
        const curr = this.loc;
        this.loc = old;
        iter();
        this.loc = curr;
      });
    if (this.opts.trace && !isSome(q[index]) && q[index].location?.file) this.planTracedExpr(q[index], rest);
    else this.planExpr(q[index], rest);
    this.loc = old;
  }

  /** An expression between its eval and leave trace events, with a success event before the rest. */
  private planTracedExpr(e: Expr, rest: Iter): void {
    const vars = [...varsOf(e, { skipRefCallHead: true, skipClosures: true })].filter((v) => this.vars.get(v) !== undefined && v !== 'input' && v !== 'data');
    const id = this.traceNode({ kind: 'expr', node: e, vars });
    const lvals = this.newLocal();
    this.appendStmt({ type: 'MakeArrayStmt', capacity: vars.length, target: lvals });
    for (const v of vars) this.appendStmt({ type: 'ArrayAppendStmt', array: lvals, value: L(this.vars.get(v)!) });
    this.planTraceCall(id, TRACE_EVAL, L(lvals));
    const outer = this.curr;
    const inner: Block = { stmts: [] };
    this.curr = inner;
    this.planExpr(e, () => {
      this.planTraceCall(id, TRACE_SUCCESS);
      rest();
    });
    this.curr = outer;
    this.appendStmt({ type: 'BlockStmt', blocks: [inner] });
    this.planTraceCall(id, TRACE_LEAVE);
  }

  private traceNode(n: TraceNode): number {
    const nodes = (this.opts.traceNodes ??= []);
    nodes.push(n);
    return nodes.length - 1;
  }

  private planTraceCall(id: number, kind: number, values?: Operand): void {
    this.externs.set(TRACE_BUILTIN, { name: TRACE_BUILTIN, arity: 2 });
    const lcode = this.newLocal();
    this.appendStmt({ type: 'MakeNumberIntStmt', value: id * TRACE_KINDS + kind, target: lcode });
    let v = values;
    if (!v) {
      const lnull = this.newLocal();
      this.appendStmt({ type: 'MakeNullStmt', target: lnull });
      v = L(lnull);
    }
    this.appendStmt({ type: 'CallStmt', func: TRACE_BUILTIN, args: [L(lcode), v], result: this.newLocal() });
  }

  private planExpr(e: Expr, iter: Iter): void {
    if (e.negated) return this.planNot(e, iter);
    if (e.with.length > 0) return this.planWith(e, iter);
    if (isCall(e)) return this.planExprCall(e, iter);
    if (isEvery(e)) return this.planExprEvery(e, iter);
    if (isSome(e)) return iter(); // declarations carry no behaviour once the compiler has run
    return this.planExprTerm(e, iter);
  }

  private planNot(e: Expr, iter: Iter): void {
    const not: Stmt = { type: 'NotStmt', block: { stmts: [] } };
    const prev = this.curr;
    this.curr = not.block;
    this.planExpr({ ...e, negated: false }, () => {});
    this.curr = prev;
    this.appendStmt(not);
    iter();
  }

  private planWith(e: Expr, iter: Iter): void {
    const values: Term[] = [];
    const targets: Term[][] = [];
    const withs: With[] = [];
    const mocks = new Map<string, Term>();
    // Mock values that read variables of this body (`with count as v`) are evaluated here; the
    // functions planned under the mock receive them as extra parameters, since the mocked call
    // may sit in another rule's function (OPA PR 7589, issue 5311).
    const localMocks: Array<[string, Term]> = [];
    for (const w of e.with) {
      const ref = refOf(w.target);
      if (!ref) throw new PlanError(`invalid with target ${termToString(w.target)}`, w.location);
      if (!this.isFunction(ref) && (isRootVar(ref[0], 'data') || isRootVar(ref[0], 'input'))) {
        values.push(w.value);
        targets.push(ref);
        withs.push(w);
        continue;
      }
      if (this.readsLocals(w.value)) localMocks.push([refToString(ref), w.value]);
      else mocks.set(refToString(ref), w.value);
    }

    this.planTermSlice([...values, ...localMocks.map(([, v]) => v)], (allLocals) => {
      const locals = allLocals.slice(0, values.length);
      const newExtras: string[] = [];
      localMocks.forEach(([name], i) => {
        const alias = `$mock${this.genVar++}`;
        this.vars.put(alias, this.asLocal(allLocals[values.length + i]));
        newExtras.push(alias);
        mocks.set(name, { value: { type: 'var', value: alias } });
      });
      const extras = [...this.funcs.extras(), ...newExtras];
      this.mocks.pushFrame(mocks);
      const paths: number[][] = [];
      const saveVars = new Set<string>();
      const dataRefs: Term[][] = [];
      for (const target of targets) {
        const path: number[] = [];
        for (let j = 1; j < target.length; j++) {
          const v = target[j].value;
          if (v.type !== 'string') throw new PlanError('invalid with target', target[j].location);
          path.push(this.getStringConst(v.value));
        }
        paths.push(path);
        const head = (target[0].value as { value: string }).value;
        saveVars.add(head);
        if (head === 'data') dataRefs.push(target);
      }

      const restore: Array<[Local, Local]> = [];
      for (const v of [...saveVars].sort()) {
        const lorig = this.vars.get(v) ?? 0;
        const lsave = this.newLocal();
        this.appendStmt({ type: 'AssignVarStmt', source: L(lorig), target: lsave });
        restore.push([lorig, lsave]);
      }

      const shadowing = dataRefs.some((r) => this.rules.lookup(r) !== undefined) || mocks.size > 0;
      const shadow = () => {
        this.funcs.push(extras);
        for (const r of dataRefs) this.rules.push(r);
      };
      const unshadow = () => {
        this.funcs.pop();
        for (let i = dataRefs.length - 1; i >= 0; i--) this.rules.pop(dataRefs[i]);
      };
      if (shadowing) shadow();

      const noWith: Expr = { ...e, with: [] };
      this.planWithRec(noWith, withs, paths, locals, 0, () => {
        this.mocks.popFrame();
        if (shadowing) unshadow();
        this.planWithUndoRec(restore, 0, () => {
          iter();
          this.mocks.pushFrame(mocks);
          if (shadowing) shadow();
        });
      });

      this.mocks.popFrame();
      if (shadowing) unshadow();
    });
  }

  private planWithRec(e: Expr, withs: With[], paths: number[][], values: Operand[], index: number, iter: Iter): void {
    if (index >= paths.length) {
      this.planExpr(e, iter);
      return;
    }
    const prev = this.curr;
    this.curr = { stmts: [] };
    this.planWithRec(e, withs, paths, values, index + 1, iter);
    const block = this.curr;
    this.curr = prev;
    const ref = refOf(withs[index].target)!;
    const head = (ref[0].value as { value: string }).value;
    this.appendStmt({ type: 'WithStmt', local: this.vars.get(head) ?? 0, path: paths[index], value: values[index], block });
  }

  private planWithUndoRec(restore: Array<[Local, Local]>, index: number, iter: Iter): void {
    if (index >= restore.length) {
      iter();
      return;
    }
    const prev = this.curr;
    this.curr = { stmts: [] };
    this.planWithUndoRec(restore, index + 1, iter);
    const block = this.curr;
    this.curr = prev;
    const [lorig, lsave] = restore[index];
    this.appendStmt({ type: 'WithStmt', local: lorig, path: [], value: L(lsave), block });
  }

  private planExprTerm(e: Expr, iter: Iter): void {
    const t = e.terms as Term;
    const v = t.value;
    if (v.type === 'boolean') {
      if (!v.value) this.appendStmt({ type: 'BreakStmt', index: 0 });
      iter();
      return;
    }
    if (v.type === 'ref' || v.type === 'var') {
      this.planTerm(t, () => {
        this.appendStmt({ type: 'NotEqualStmt', a: this.ltarget, b: B(false) });
        iter();
      });
      return;
    }
    iter();
  }

  private planExprEvery(e: Expr, iter: Iter): void {
    const every = e.terms as Every;
    const cond0 = this.newLocal();
    const cond1 = this.newLocal();
    this.appendStmt({ type: 'ResetLocalStmt', target: cond0 });
    this.planTerm(every.domain, () => {
      // The domain must be a collection; otherwise `every` is undefined.
      const domain = this.ltarget;
      const a: Block = { stmts: [] };
      this.appendStmtToBlock({ type: 'IsArrayStmt', source: domain }, a);
      this.appendStmtToBlock({ type: 'BreakStmt', index: 1 }, a);
      const b: Block = { stmts: [] };
      this.appendStmtToBlock({ type: 'IsObjectStmt', source: domain }, b);
      this.appendStmtToBlock({ type: 'BreakStmt', index: 1 }, b);
      const c: Block = { stmts: [] };
      this.appendStmtToBlock({ type: 'IsSetStmt', source: domain }, c);
      this.appendStmtToBlock({ type: 'BreakStmt', index: 1 }, c);
      this.appendStmt({ type: 'BlockStmt', blocks: [{ stmts: [{ type: 'BlockStmt', blocks: [a, b, c] }, { type: 'BreakStmt', index: 1 }] }] });

      const key = every.key ?? { value: { type: 'var', value: `$every${this.genVar++}` } };
      this.planScan(key, () => {
        this.appendStmt({ type: 'ResetLocalStmt', target: cond1 });
        const nested: Stmt & { type: 'BlockStmt' } = { type: 'BlockStmt', blocks: [{ stmts: [] }] };
        const prev = this.curr;
        this.curr = nested.blocks[0];
        const lval = this.ltarget;
        this.planUnifyLocal(lval, every.value, () => {
          this.planQuery(every.body, 0, () => {
            this.appendStmt({ type: 'AssignVarStmt', source: B(true), target: cond1 });
          });
        });
        this.curr = prev;
        this.appendStmt(nested);
        this.appendStmt({ type: 'IsUndefinedStmt', source: cond1 });
        this.appendStmt({ type: 'AssignVarStmt', source: B(true), target: cond0 });
      });
    });
    this.appendStmt({ type: 'IsUndefinedStmt', source: cond0 });
    iter();
  }

  // ---- calls -------------------------------------------------------------------------------

  private decl(name: string): BuiltinDecl | undefined {
    return builtinDecl(name, this.compiled.builtins?.get(name)?.arity ?? this.opts.builtins?.get(name)?.arity);
  }

  private planExprCall(e: Expr & { terms: Term[] }, iter: Iter): void {
    const opTerm = e.terms[0];
    const opRef = refOf(opTerm);
    if (!opRef) throw new PlanError(`illegal call: operator ${termToString(opTerm)}`, e.location);
    let operator = refToString(opRef);
    const operands = e.terms.slice(1);
    if (operator === 'eq' || operator === 'assign') {
      if (operands.length !== 2) throw new PlanError(`illegal call: ${operator} needs 2 operands`, e.location);
      this.planUnify(operands[0], operands[1], iter);
      return;
    }

    // OPA's compiler turns these into constants of the enclosing rule before `with` applies.
    if (METADATA_CALLS.has(operator) && this.currentRule && operands.length <= 1) {
      this.annotationSet ??= new AnnotationSet(this.compiled.modules, (r) => this.ruleRef(r));
      const value = operator === 'rego.metadata.chain' ? this.annotationSet.chain(this.currentRule) : this.annotationSet.rule(this.currentRule);
      this.planExprCallValue(value, 0, operands, iter);
      return;
    }

    if (operator === 'internal.print' && operands.length === 1 && !this.mocks.lookup(operator)) {
      this.planPrint(operands[0], e.location, iter);
      return;
    }

    const replacement = this.mocks.lookup(operator);
    if (replacement) {
      const r = replacement.value.type === 'ref' ? replacement.value.value : replacement.value.type === 'var' ? [replacement] : undefined;
      if (r && !isRootVar(r[0], 'data') && !isRootVar(r[0], 'input') && r[0].value.type === 'var' && (replacement.value.type === 'ref' || this.decl(refToString(r)))) {
        // replaced by a builtin
        operator = refToString(r);
        const bi = this.decl(operator);
        if (!bi) throw new PlanError(`illegal replacement of ${refToString(opRef)} by unknown builtin ${operator}`, e.location);
        this.planExprCallFunc(this.declareExtern(operator, bi), bi.arity, false, operands, [], iter);
        return;
      }
      if (r && isRootVar(r[0], 'data')) {
        const node = this.rules.lookup(r);
        if (node && node.arity() > 0) {
          this.mocks.push();
          const name = this.planRules(node.getRules());
          this.mocks.pop();
          this.planExprCallFunc(name, node.arity(), false, operands, this.defaultOperands(), iter);
          return;
        }
      }
      // replaced by a value
      const bi = this.rules.lookup(opRef) ? undefined : this.decl(operator);
      if (bi) {
        this.planExprCallValue(replacement, bi.arity, operands, iter);
        return;
      }
      const node = this.rules.lookup(opRef);
      if (node) {
        this.planExprCallValue(replacement, node.arity(), operands, iter);
        return;
      }
      throw new PlanError(`illegal replacement of operator ${operator} by ${termToString(replacement)}`, e.location);
    }

    let name: string;
    let arity: number;
    let relation = false;
    let isVoid = false;
    let args: Operand[] = [];
    const node = this.rules.lookup(opRef);
    if (node) {
      name = this.planRules(node.getRules());
      arity = node.arity();
      args = this.defaultOperands();
    } else {
      const decl = this.decl(operator);
      if (!decl) throw new PlanError(`illegal call: unknown operator "${operator}"`, e.location);
      relation = !!decl.relation;
      arity = decl.arity;
      isVoid = !!decl.void;
      name = this.declareExtern(operator, decl);
    }
    if (operands.length < arity || operands.length > arity + 1) {
      throw new PlanError(`illegal call: wrong number of operands: got ${operands.length}, want ${arity}`, e.location);
    }
    if (relation) {
      this.planExprCallRelation(name, arity, operands, args, iter);
      return;
    }
    this.planExprCallFunc(name, arity, isVoid, operands, args, iter);
  }

  /**
   * Declares a builtin the plan calls and returns the name to call it by: the OPA name, or the
   * private alias of a builtin the SDK would otherwise shadow with its own implementation.
   */
  private declareExtern(operator: string, decl: BuiltinDecl): string {
    const alias = hostCallAlias(operator);
    if (!alias) {
      this.externs.set(operator, decl);
      return operator;
    }
    this.externs.set(alias, { ...decl, name: alias });
    return alias;
  }

  private planExprCallRelation(name: string, arity: number, operands: Term[], args: Operand[], iter: Iter): void {
    if (operands.length === arity) {
      this.planCallArgs(operands, 0, args, (as) => {
        const target = this.newLocal();
        this.ltarget = L(target);
        this.appendStmt({ type: 'CallStmt', func: name, args: as, result: target });
        const lsize = this.newLocal();
        this.appendStmt({ type: 'LenStmt', source: L(target), target: lsize });
        const lzero = this.newLocal();
        this.appendStmt({ type: 'MakeNumberIntStmt', value: 0, target: lzero });
        this.appendStmt({ type: 'NotEqualStmt', a: L(lsize), b: L(lzero) });
        iter();
      });
      return;
    }
    this.planCallArgs(operands.slice(0, -1), 0, args, (as) => {
      const target = this.newLocal();
      this.ltarget = L(target);
      this.appendStmt({ type: 'CallStmt', func: name, args: as, result: target });
      this.planScanValues(operands[operands.length - 1], () => iter());
    });
  }

  private planExprCallFunc(name: string, arity: number, isVoid: boolean, operands: Term[], args: Operand[], iter: Iter): void {
    const encoded = ENCODED_ARG_CALLS.get(name);
    if (encoded) {
      const encode = (a: Operand, i: number): Operand => {
        const e = encoded[i - args.length];
        if (e === 'set') return L(this.planSetTagged(a));
        if (e === 'json' || e === 'int64') return L(this.planJsonText(a));
        return a;
      };
      const planArgs = (terms: Term[], idx: number, acc: Operand[], k: (as: Operand[]) => void) =>
        this.planCallArgs(terms, idx, acc, (as) => k(as.map(encode)));
      return this.planExprCallFuncWith(name, arity, isVoid, operands, args, iter, planArgs);
    }
    return this.planExprCallFuncWith(name, arity, isVoid, operands, args, iter, (t, i, a, k) => this.planCallArgs(t, i, a, k));
  }

  /**
   * `internal.print([set, ...])` (what RewritePrintCalls makes of `print(...)`): each operand's
   * values become their texts here, in the module, as OPA's print builtin writes them (strings
   * as they are, anything else in OPA's String() form, via sprintf's `%v`), because JSON, the
   * host's view of values, has no sets. The host builtin `internal.bastion_print(texts, file,
   * row)` gets an array of arrays of texts (an empty one: the operand was undefined) and the
   * call's location. Void: it never makes the body fail.
   */
  private planPrint(arg: Term, loc: AstLocation | undefined, iter: Iter): void {
    const sprintf = this.decl('sprintf');
    if (!sprintf) throw new PlanError('internal: sprintf is not a known builtin');
    this.externs.set('sprintf', sprintf);
    this.externs.set(PRINT_BUILTIN, { name: PRINT_BUILTIN, arity: 3, void: true });
    this.planTerm(arg, () => {
      const source = this.asLocal(this.ltarget);
      const lout = this.newLocal();
      this.appendStmt({ type: 'MakeArrayStmt', capacity: 0, target: lout });
      const outer: Stmt & { type: 'ScanStmt' } = { type: 'ScanStmt', source, key: this.newLocal(), value: this.newLocal(), block: { stmts: [] } };
      const ltexts = this.newLocal();
      this.appendStmtToBlock({ type: 'MakeArrayStmt', capacity: 0, target: ltexts }, outer.block);
      const inner: Stmt & { type: 'ScanStmt' } = { type: 'ScanStmt', source: outer.value, key: this.newLocal(), value: this.newLocal(), block: { stmts: [] } };
      const lfmtArgs = this.newLocal();
      const ltext = this.newLocal();
      this.appendStmtToBlock({ type: 'MakeArrayStmt', capacity: 1, target: lfmtArgs }, inner.block);
      this.appendStmtToBlock({ type: 'ArrayAppendStmt', array: lfmtArgs, value: L(inner.value) }, inner.block);
      this.appendStmtToBlock({ type: 'CallStmt', func: 'sprintf', args: [S(this.getStringConst('%v')), L(lfmtArgs)], result: ltext }, inner.block);
      this.appendStmtToBlock({ type: 'ArrayAppendStmt', array: ltexts, value: L(ltext) }, inner.block);
      this.appendStmtToBlock({ type: 'BlockStmt', blocks: [{ stmts: [inner] }] }, outer.block);
      this.appendStmtToBlock({ type: 'ArrayAppendStmt', array: lout, value: L(ltexts) }, outer.block);
      this.appendStmt({ type: 'BlockStmt', blocks: [{ stmts: [outer] }] });
      const lrow = this.newLocal();
      this.appendStmt({ type: 'MakeNumberIntStmt', value: loc?.row ?? 0, target: lrow });
      this.appendStmt({
        type: 'CallStmt',
        func: PRINT_BUILTIN,
        args: [L(lout), S(this.getStringConst(loc?.file ?? '')), L(lrow)],
        result: this.newLocal(),
      });
      iter();
    });
  }

  /** The json.marshal text of `v` (called directly: `with json.marshal` mocks do not apply). */
  private planJsonText(v: Operand): Local {
    const decl = this.decl('json.marshal');
    if (!decl) throw new PlanError('internal: json.marshal is not a known builtin');
    this.externs.set('json.marshal', decl);
    const l = this.newLocal();
    this.appendStmt({ type: 'CallStmt', func: 'json.marshal', args: [v], result: l });
    return l;
  }

  /** `["set", v]` when v is a set, `["value", v]` otherwise (see HOST_BUILTIN_SET_ARGS). */
  private planSetTagged(v: Operand): Local {
    const lout = this.newLocal();
    this.appendStmt({ type: 'ResetLocalStmt', target: lout });
    for (const [tag, test] of [['set', true], ['value', false]] as const) {
      const b: Block = { stmts: [] };
      if (test) this.appendStmtToBlock({ type: 'IsSetStmt', source: v }, b);
      else this.appendStmtToBlock({ type: 'IsUndefinedStmt', source: lout }, b);
      const larr = this.newLocal();
      this.appendStmtToBlock({ type: 'MakeArrayStmt', capacity: 2, target: larr }, b);
      this.appendStmtToBlock({ type: 'ArrayAppendStmt', array: larr, value: S(this.getStringConst(tag)) }, b);
      this.appendStmtToBlock({ type: 'ArrayAppendStmt', array: larr, value: v }, b);
      this.appendStmtToBlock({ type: 'AssignVarStmt', target: lout, source: L(larr) }, b);
      this.appendStmt({ type: 'BlockStmt', blocks: [b] });
    }
    return lout;
  }

  private planExprCallFuncWith(
    name: string,
    arity: number,
    isVoid: boolean,
    operands: Term[],
    args: Operand[],
    iter: Iter,
    planCallArgs: (terms: Term[], idx: number, args: Operand[], iter: (args: Operand[]) => void) => void,
  ): void {
    if (operands.length === arity) {
      planCallArgs(operands, 0, args, (as) => {
        const target = this.newLocal();
        this.ltarget = L(target);
        this.appendStmt({ type: 'CallStmt', func: name, args: as, result: target });
        if (!isVoid) this.appendStmt({ type: 'NotEqualStmt', a: L(target), b: B(false) });
        iter();
      });
      return;
    }
    if (operands.length === arity + 1) {
      planCallArgs(operands.slice(0, -1), 0, args, (as) => {
        let result = this.newLocal();
        this.appendStmt({ type: 'CallStmt', func: name, args: as, result });
        if (SET_RESULT_CALLS.has(name)) result = this.planAsSet(result);
        const fromArg = RESULT_FROM_ARG_CALLS.get(name);
        if (fromArg) result = this.planResultFromArg(result, as[args.length + fromArg.arg], fromArg.keys);
        this.planUnifyLocal(L(result), operands[operands.length - 1], iter);
      });
      return;
    }
    throw new PlanError('impossible replacement, arity mismatch');
  }

  /** A copy of object `arg` whose `keys` are taken from `result` (see HOST_BUILTIN_RESULT_FROM_ARG). */
  private planResultFromArg(result: Local, arg: Operand, keys: string[]): Local {
    const lobj = this.newLocal();
    this.appendStmt({ type: 'MakeObjectStmt', target: lobj });
    const lkey = this.newLocal();
    const lval = this.newLocal();
    const copy: Block = { stmts: [] };
    for (const k of keys) this.appendStmtToBlock({ type: 'NotEqualStmt', a: L(lkey), b: S(this.getStringConst(k)) }, copy);
    this.appendStmtToBlock({ type: 'ObjectInsertStmt', object: lobj, key: L(lkey), value: L(lval) }, copy);
    const scan: Block = { stmts: [] };
    this.appendStmtToBlock({ type: 'IsObjectStmt', source: arg }, scan);
    this.appendStmtToBlock({ type: 'ScanStmt', source: this.asLocal(arg), key: lkey, value: lval, block: copy }, scan);
    this.appendStmt({ type: 'BlockStmt', blocks: [scan] });
    for (const k of keys) {
      const lk = this.newLocal();
      const take: Block = { stmts: [] };
      this.appendStmtToBlock({ type: 'DotStmt', source: L(result), key: S(this.getStringConst(k)), target: lk }, take);
      this.appendStmtToBlock({ type: 'ObjectInsertStmt', object: lobj, key: S(this.getStringConst(k)), value: L(lk) }, take);
      this.appendStmt({ type: 'BlockStmt', blocks: [take] });
    }
    return lobj;
  }

  /**
   * A new set holding the elements of `coll`: host builtins answer in JSON, where OPA's set
   * results (net.cidr_merge, ...) arrive as arrays.
   */
  private planAsSet(coll: Local): Local {
    const lset = this.newLocal();
    this.appendStmt({ type: 'MakeSetStmt', target: lset });
    const lkey = this.newLocal();
    const lval = this.newLocal();
    const add: Block = { stmts: [] };
    this.appendStmtToBlock({ type: 'SetAddStmt', set: lset, value: L(lval) }, add);
    const scan: Block = { stmts: [] };
    this.appendStmtToBlock({ type: 'ScanStmt', source: coll, key: lkey, value: lval, block: add }, scan);
    this.appendStmt({ type: 'BlockStmt', blocks: [scan] });
    return lset;
  }

  private planExprCallValue(value: Term, arity: number, operands: Term[], iter: Iter): void {
    if (operands.length === arity) {
      this.planCallArgs(operands, 0, [], () => {
        this.planTerm(value, () => {
          this.appendStmt({ type: 'NotEqualStmt', a: this.ltarget, b: B(false) });
          iter();
        });
      });
      return;
    }
    if (operands.length === arity + 1) {
      this.planCallArgs(operands.slice(0, -1), 0, [], () => {
        this.planTerm(value, () => this.planUnifyLocal(this.ltarget, operands[operands.length - 1], iter));
      });
      return;
    }
    throw new PlanError('impossible replacement, arity mismatch');
  }

  private planCallArgs(terms: Term[], idx: number, args: Operand[], iter: (args: Operand[]) => void): void {
    if (idx >= terms.length) {
      iter(args);
      return;
    }
    this.planTerm(terms[idx], () => this.planCallArgs(terms, idx + 1, [...args, this.ltarget], iter));
  }

  // ---- unification -------------------------------------------------------------------------

  private static readonly SCALARISH = new Set(['null', 'boolean', 'number', 'string', 'ref', 'set', 'setcomprehension', 'arraycomprehension', 'objectcomprehension']);

  private planUnify(a: Term, b: Term, iter: Iter): void {
    const va = a.value;
    const vb = b.value;
    if (Planner.SCALARISH.has(va.type)) {
      this.planTerm(a, () => this.planUnifyLocal(this.ltarget, b, iter));
      return;
    }
    if (va.type === 'var') {
      this.planUnifyVar(va.value, b, iter);
      return;
    }
    if (va.type === 'array') {
      if (vb.type === 'var') return this.planUnifyVar(vb.value, a, iter);
      if (vb.type === 'ref' || vb.type === 'arraycomprehension') {
        this.planTerm(b, () => this.planUnifyLocalArray(this.ltarget, va.value, iter));
        return;
      }
      if (vb.type === 'array') {
        if (va.value.length === vb.value.length) this.planUnifyArraysRec(va.value, vb.value, 0, iter);
        return;
      }
    }
    if (va.type === 'object') {
      if (vb.type === 'var') return this.planUnifyVar(vb.value, a, iter);
      if (vb.type === 'ref') {
        this.planTerm(b, () => this.planUnifyLocalObject(this.ltarget, va.value, iter));
        return;
      }
      if (vb.type === 'object') {
        this.planUnifyObjects(va.value, vb.value, iter);
        return;
      }
    }
    throw new PlanError(`not implemented: unify(${termToString(a)}, ${termToString(b)})`, a.location);
  }

  private planUnifyVar(a: string, b: Term, iter: Iter): void {
    const la = this.vars.get(a);
    if (la !== undefined) {
      this.planUnifyLocal(L(la), b, iter);
      return;
    }
    this.planTerm(b, () => {
      // `a` may have become known while planning b, as in `a = input.x[a]`
      const known = this.vars.get(a);
      if (known !== undefined) {
        this.appendStmt({ type: 'EqualStmt', a: L(known), b: this.ltarget });
      } else {
        const target = this.newLocal();
        this.vars.put(a, target);
        this.appendStmt({ type: 'AssignVarStmt', source: this.ltarget, target });
      }
      iter();
    });
  }

  private planUnifyLocal(a: Operand, b: Term, iter: Iter): void {
    const vb = b.value;
    if (Planner.SCALARISH.has(vb.type)) {
      this.planTerm(b, () => {
        this.appendStmt({ type: 'EqualStmt', a, b: this.ltarget });
        iter();
      });
      return;
    }
    if (vb.type === 'var') {
      if (vb.value === 'input' || vb.value === 'data') {
        this.planTerm(b, () => {
          this.appendStmt({ type: 'EqualStmt', a, b: this.ltarget });
          iter();
        });
        return;
      }
      const lv = this.vars.get(vb.value);
      if (lv !== undefined) {
        this.appendStmt({ type: 'EqualStmt', a, b: L(lv) });
        iter();
        return;
      }
      const target = this.newLocal();
      this.vars.put(vb.value, target);
      this.appendStmt({ type: 'AssignVarStmt', source: a, target });
      iter();
      return;
    }
    if (vb.type === 'array') return this.planUnifyLocalArray(a, vb.value, iter);
    if (vb.type === 'object') return this.planUnifyLocalObject(a, vb.value, iter);
    throw new PlanError(`not implemented: unifyLocal(${termToString(b)})`, b.location);
  }

  private planUnifyLocalArray(a: Operand, b: Term[], iter: Iter): void {
    this.appendStmt({ type: 'IsArrayStmt', source: a });
    const blen = this.newLocal();
    const alen = this.newLocal();
    this.appendStmt({ type: 'LenStmt', source: a, target: alen });
    this.appendStmt({ type: 'MakeNumberIntStmt', value: b.length, target: blen });
    this.appendStmt({ type: 'EqualStmt', a: L(alen), b: L(blen) });
    const lkey = this.newLocal();
    this.appendStmt({ type: 'MakeNumberIntStmt', value: 0, target: lkey });
    const lval = this.newLocal();
    this.planUnifyLocalArrayRec(a, 0, b, lkey, lval, iter);
  }

  private planUnifyLocalArrayRec(a: Operand, index: number, b: Term[], lkey: Local, lval: Local, iter: Iter): void {
    if (index === b.length) {
      iter();
      return;
    }
    this.appendStmt({ type: 'AssignIntStmt', value: index, target: lkey });
    this.appendStmt({ type: 'DotStmt', source: a, key: L(lkey), target: lval });
    this.planUnifyLocal(L(lval), b[index], () => this.planUnifyLocalArrayRec(a, index + 1, b, lkey, lval, iter));
  }

  private planUnifyObjects(a: Array<[Term, Term]>, b: Array<[Term, Term]>, iter: Iter): void {
    if (a.length !== b.length) return;
    // As OPA: the keys both sides have (in OPA's key order) unify their values; the others are
    // compared once both objects are built.
    const valueOf = (side: Array<[Term, Term]>, k: Term) => side.find(([k2]) => termsEqual(k, k2))?.[1];
    const aKeys = sortTerms(a.map(([k]) => k));
    const common = aKeys.filter((k) => valueOf(b, k) !== undefined);
    const onlyA = aKeys.filter((k) => valueOf(b, k) === undefined);
    const rec = (i: number): void => {
      if (i === common.length) {
        if (onlyA.length === 0) return iter();
        this.planObject(a, () => {
          const la = this.ltarget;
          this.planObject(b, () => this.planUnifyObjectLocals(la, this.ltarget, onlyA, 0, this.newLocal(), this.newLocal(), iter));
        });
        return;
      }
      this.planUnify(valueOf(a, common[i])!, valueOf(b, common[i])!, () => rec(i + 1));
    };
    rec(0);
  }

  private planUnifyObjectLocals(a: Operand, b: Operand, keys: Term[], index: number, l0: Local, l1: Local, iter: Iter): void {
    if (index === keys.length) {
      iter();
      return;
    }
    this.planTerm(keys[index], () => {
      this.appendStmt({ type: 'DotStmt', source: a, key: this.ltarget, target: l0 });
      this.appendStmt({ type: 'DotStmt', source: b, key: this.ltarget, target: l1 });
      this.appendStmt({ type: 'EqualStmt', a: L(l0), b: L(l1) });
      this.planUnifyObjectLocals(a, b, keys, index + 1, l0, l1, iter);
    });
  }

  private planUnifyLocalObject(a: Operand, b: Array<[Term, Term]>, iter: Iter): void {
    this.appendStmt({ type: 'IsObjectStmt', source: a });
    const blen = this.newLocal();
    const alen = this.newLocal();
    this.appendStmt({ type: 'LenStmt', source: a, target: alen });
    this.appendStmt({ type: 'MakeNumberIntStmt', value: b.length, target: blen });
    this.appendStmt({ type: 'EqualStmt', a: L(alen), b: L(blen) });
    const lval = this.newLocal();
    const rec = (i: number): void => {
      if (i === b.length) return iter();
      this.planTerm(b[i][0], () => {
        this.appendStmt({ type: 'DotStmt', source: a, key: this.ltarget, target: lval });
        this.planUnifyLocal(L(lval), b[i][1], () => rec(i + 1));
      });
    };
    rec(0);
  }

  private planUnifyArraysRec(a: Term[], b: Term[], index: number, iter: Iter): void {
    if (index === a.length) {
      iter();
      return;
    }
    this.planUnify(a[index], b[index], () => this.planUnifyArraysRec(a, b, index + 1, iter));
  }

  // ---- terms -------------------------------------------------------------------------------

  private planTerm(t: Term, iter: Iter): void {
    this.planValue(t.value, t.location, iter);
  }

  /**
   * Plans a constant term (see isConstant) into this.ltarget. Its statements go straight into
   * the current block and the continuation runs once, at once, so composite literals plan
   * their constant elements in a loop rather than one continuation deeper per element (a
   * literal with thousands of elements must not exhaust the stack).
   */
  private planConstant(t: Term): void {
    let called = false;
    this.planTerm(t, () => {
      called = true;
    });
    if (!called) throw new PlanError('internal: constant term did not plan', t.location);
  }

  private planValue(v: Value, loc: AstLocation | undefined, iter: Iter): void {
    switch (v.type) {
      case 'null': {
        const target = this.newLocal();
        this.appendStmt({ type: 'MakeNullStmt', target });
        this.ltarget = L(target);
        return iter();
      }
      case 'boolean':
        this.ltarget = B(v.value);
        return iter();
      case 'number': {
        const index = this.getStringConst(v.value);
        const target = this.newLocal();
        this.appendStmt({ type: 'MakeNumberRefStmt', index, target });
        this.ltarget = L(target);
        return iter();
      }
      case 'string':
        this.ltarget = S(this.getStringConst(v.value));
        return iter();
      case 'var':
        // The roots are refs in OPA's AST; a bare `data` must include the virtual documents.
        if (v.value === 'data' || v.value === 'input') return this.planRef([{ value: v }], iter);
        this.ltarget = L(this.vars.getOrElse(v.value, () => this.newLocal()));
        return iter();
      case 'ref':
        return this.planRef(v.value, iter);
      case 'array': {
        const larr = this.newLocal();
        this.appendStmt({ type: 'MakeArrayStmt', capacity: v.value.length, target: larr });
        const rec = (i: number): void => {
          for (; i < v.value.length && isConstant(v.value[i].value); i++) {
            this.planConstant(v.value[i]);
            this.appendStmt({ type: 'ArrayAppendStmt', value: this.ltarget, array: larr });
          }
          if (i === v.value.length) {
            this.ltarget = L(larr);
            return iter();
          }
          this.planTerm(v.value[i], () => {
            this.appendStmt({ type: 'ArrayAppendStmt', value: this.ltarget, array: larr });
            rec(i + 1);
          });
        };
        return rec(0);
      }
      case 'object':
        return this.planObject(v.value, iter);
      case 'set':
        return this.planSet(v.value, iter);
      case 'setcomprehension': {
        if (loc) this.loc = loc;
        const lset = this.newLocal();
        this.appendStmt({ type: 'MakeSetStmt', target: lset });
        return this.planComprehension(
          v.body,
          () => this.planTerm(v.term, () => this.appendStmt({ type: 'SetAddStmt', value: this.ltarget, set: lset })),
          lset,
          iter,
        );
      }
      case 'arraycomprehension': {
        if (loc) this.loc = loc;
        const larr = this.newLocal();
        this.appendStmt({ type: 'MakeArrayStmt', capacity: 0, target: larr });
        return this.planComprehension(
          v.body,
          () => this.planTerm(v.term, () => this.appendStmt({ type: 'ArrayAppendStmt', value: this.ltarget, array: larr })),
          larr,
          iter,
        );
      }
      case 'objectcomprehension': {
        if (loc) this.loc = loc;
        const lobj = this.newLocal();
        this.appendStmt({ type: 'MakeObjectStmt', target: lobj });
        return this.planComprehension(
          v.body,
          () =>
            this.planTerm(v.key, () => {
              const lkey = this.ltarget;
              this.planTerm(v.value, () => this.appendStmt({ type: 'ObjectInsertOnceStmt', key: lkey, value: this.ltarget, object: lobj }));
            }),
          lobj,
          iter,
        );
      }
      default:
        throw new PlanError(`${v.type} term not implemented`, loc);
    }
  }

  private planObject(pairs: Array<[Term, Term]>, iter: Iter): void {
    const lobj = this.newLocal();
    this.appendStmt({ type: 'MakeObjectStmt', target: lobj });
    const rec = (i: number): void => {
      for (; i < pairs.length && isConstant(pairs[i][0].value) && isConstant(pairs[i][1].value); i++) {
        this.planConstant(pairs[i][0]);
        const lkey = this.ltarget;
        this.planConstant(pairs[i][1]);
        this.appendStmt({ type: 'ObjectInsertStmt', key: lkey, value: this.ltarget, object: lobj });
      }
      if (i === pairs.length) {
        this.ltarget = L(lobj);
        return iter();
      }
      this.planTerm(pairs[i][0], () => {
        const lkey = this.ltarget;
        this.planTerm(pairs[i][1], () => {
          this.appendStmt({ type: 'ObjectInsertStmt', key: lkey, value: this.ltarget, object: lobj });
          rec(i + 1);
        });
      });
    };
    rec(0);
  }

  private planSet(elems: Term[], iter: Iter): void {
    const lset = this.newLocal();
    this.appendStmt({ type: 'MakeSetStmt', target: lset });
    const rec = (i: number): void => {
      for (; i < elems.length && isConstant(elems[i].value); i++) {
        this.planConstant(elems[i]);
        this.appendStmt({ type: 'SetAddStmt', value: this.ltarget, set: lset });
      }
      if (i === elems.length) {
        this.ltarget = L(lset);
        return iter();
      }
      this.planTerm(elems[i], () => {
        this.appendStmt({ type: 'SetAddStmt', value: this.ltarget, set: lset });
        rec(i + 1);
      });
    };
    rec(0);
  }

  private planComprehension(body: Body, closureIter: Iter, target: Local, iter: Iter): void {
    this.vars.push(new Map());
    const prev = this.curr;
    const block: Block = { stmts: [] };
    this.curr = block;
    const ploc = this.loc;
    this.planQuery(body, 0, closureIter);
    this.curr = prev;
    this.loc = ploc;
    this.vars.pop();
    this.appendStmt({ type: 'BlockStmt', blocks: [block] });
    this.ltarget = L(target);
    iter();
  }

  // ---- references --------------------------------------------------------------------------

  private planRef(ref: Term[], iter: Iter): void {
    const head = ref[0];
    if (head.value.type !== 'var') {
      // A composite or call head (`[1, 2][i]`): evaluate it, then walk the rest.
      this.planTerm(head, () => this.planRefRec(ref, 1, iter));
      return;
    }
    const name = head.value.value;
    if (name === 'data') {
      const virtual = this.rules.get('data');
      const base: BasePtr = { local: this.vars.get('data') ?? DATA, path: [] };
      this.planRefData(virtual, base, ref, 1, iter);
      return;
    }
    if (name === 'input' && ref.length === 1) {
      this.appendStmt({ type: 'IsDefinedStmt', source: this.vars.get('input') ?? INPUT });
    }
    const l = this.vars.get(name);
    if (l === undefined) throw new PlanError(`illegal ref: unsafe head ${name}`, head.location);
    this.ltarget = L(l);
    this.planRefRec(ref, 1, iter);
  }

  private planRefRec(ref: Term[], index: number, iter: Iter): void {
    if (ref.length === index) {
      iter();
      return;
    }
    if (this.storageNumberKeys.has(ref[index])) {
      this.planStorageDot(ref[index], () => this.planRefRec(ref, index + 1, iter));
      return;
    }
    if (!this.unseenVars(ref[index])) {
      this.planDot(ref[index], () => this.planRefRec(ref, index + 1, iter));
      return;
    }
    this.planScan(ref[index], () => this.planRefRec(ref, index + 1, iter));
  }

  private planRefData(virtual: RuleTrie | undefined, base: BasePtr | undefined, ref: Term[], index: number, iter: Iter): void {
    if (index >= ref.length) {
      this.planRefDataExtent(virtual, base, iter);
      return;
    }

    if (index === 1 && virtual) {
      const opt = this.optimizeLookup(virtual, ref);
      if (opt) {
        const { rulesets, path, index: idx } = opt;
        if (rulesets.length === 0) {
          this.planRefData(undefined, base, ref, 1, iter);
          return;
        }
        for (const rs of rulesets) this.planRules(rs);

        const ltarget = this.newLocal();
        this.ltarget = L(ltarget);
        const prev = this.curr;
        const callDynBlock: Block = { stmts: [] };
        this.curr = callDynBlock;
        this.appendStmt({ type: 'CallDynamicStmt', args: this.defaultLocals(), path, result: ltarget });
        this.appendStmt({ type: 'BreakStmt', index: 1 });

        const dotBlock: Block = { stmts: [] };
        this.curr = dotBlock;
        this.ltarget = L(this.vars.get('data') ?? DATA);
        this.planRefRec(ref.slice(0, idx + 1), 1, () => {
          this.appendStmt({ type: 'AssignVarStmt', source: this.ltarget, target: ltarget });
          this.appendStmt({ type: 'BreakStmt', index: 1 });
          this.ltarget = L(ltarget);
          const outerBlock: Block = {
            stmts: [{ type: 'BlockStmt', blocks: [{ stmts: [{ type: 'BlockStmt', blocks: [callDynBlock, dotBlock] }, { type: 'BreakStmt', index: 2 }] }] }],
          };
          this.curr = outerBlock;
          this.planRefRec(ref, idx + 1, iter);
          this.curr = prev;
          this.appendStmt({ type: 'BlockStmt', blocks: [outerBlock] });
        });
        return;
      }
    }

    if (isGround(ref[index].value)) {
      let vchild: RuleTrie | undefined;
      let rules: Rule[] = [];
      if (virtual) {
        const v = ref[index].value;
        vchild = v.type === 'string' ? virtual.get(v.value) : undefined;
        rules = vchild?.getRules() ?? [];
      }
      if (rules.length > 0) {
        const target = this.newLocal();
        this.ltarget = L(target);
        const funcName = this.planRules(rules);
        this.appendStmt({ type: 'CallStmt', func: funcName, args: this.defaultOperands(), result: target });
        this.planRefRec(ref, index + 1, iter);
        return;
      }
      if (ref[index].value.type === 'number') this.storageNumberKeys.add(ref[index]);
      const bchild: BasePtr | undefined = base && { local: base.local, path: [...base.path, ref[index]] };
      this.planRefData(vchild, bchild, ref, index + 1, iter);
      return;
    }

    const exclude: Term[] = [];
    if (virtual) {
      const stmt: Stmt & { type: 'BlockStmt' } = { type: 'BlockStmt', blocks: [] };
      for (const child of virtual.childKeys()) {
        const block: Block = { stmts: [] };
        const prev = this.curr;
        this.curr = block;
        const key = stringTerm(child);
        exclude.push(key);
        this.vars.push(new Map());
        this.planTerm(key, () =>
          this.planUnifyLocal(this.ltarget, ref[index], () => {
            const cpy = [...ref];
            cpy[index] = key;
            this.planRefData(virtual, base, cpy, index, iter);
          }),
        );
        this.vars.pop();
        this.curr = prev;
        stmt.blocks.push(block);
      }
      this.appendStmt(stmt);
    }

    if (!base) return; // nothing left to enumerate: no base document under virtual-only refs

    if (exclude.length > 0) {
      let lexclude: Operand | undefined;
      this.planSet(exclude, () => {
        lexclude = this.ltarget;
      });
      this.ltarget = L(base.local);
      this.planRefRec(base.path, 0, () => {
        this.planScan(ref[index], (lkey) => {
          if (lexclude) {
            const lignore = this.newLocal();
            this.appendStmt({ type: 'NotStmt', block: this.blockWithStmt({ type: 'DotStmt', source: lexclude, key: L(lkey), target: lignore }) });
          }
          this.planRefData(undefined, { local: this.asLocal(this.ltarget), path: [] }, ref, index + 1, iter);
        });
      });
      return;
    }

    this.ltarget = L(base.local);
    const path = [...base.path, ref[index]];
    this.planRefRec(path, 0, () => {
      this.planRefData(undefined, { local: this.asLocal(this.ltarget), path: [] }, ref, index + 1, iter);
    });
  }

  private planRefDataExtent(virtual: RuleTrie | undefined, base: BasePtr | undefined, iter: Iter): void {
    const vtarget = this.newLocal();
    if (virtual) {
      this.appendStmt({ type: 'MakeObjectStmt', target: vtarget });
      for (const key of virtual.childKeys()) {
        const child = virtual.get(key)!;
        if (child.arity() > 0) continue; // functions are not documents
        const rules = child.getRules();
        const lkey = S(this.getStringConst(key));
        if (rules.length === 0) {
          this.planRefDataExtent(child, undefined, () => {
            this.appendStmt({ type: 'ObjectInsertStmt', object: vtarget, key: lkey, value: this.ltarget });
          });
          continue;
        }
        const lvalue = this.newLocal();
        const funcName = this.planRules(rules);
        const b: Block = { stmts: [] };
        this.appendStmtToBlock({ type: 'CallStmt', func: funcName, args: this.defaultOperands(), result: lvalue }, b);
        this.appendStmtToBlock({ type: 'ObjectInsertStmt', object: vtarget, key: lkey, value: L(lvalue) }, b);
        this.appendStmt({ type: 'BlockStmt', blocks: [b] });
      }
      if (!base) {
        this.ltarget = L(vtarget);
        iter();
        return;
      }
    }
    if (!base) throw new PlanError('internal: extent without base or virtual document');

    const prev = this.curr;
    this.curr = { stmts: [] };
    this.ltarget = L(base.local);
    let target = this.newLocal();
    this.planRefRec(base.path, 0, () => {
      if (!virtual) {
        target = this.asLocal(this.ltarget);
      } else {
        this.appendStmt({ type: 'ObjectMergeStmt', a: this.asLocal(this.ltarget), b: vtarget, target });
      }
      this.appendStmt({ type: 'BreakStmt', index: 1 });
    });
    const inner = this.curr;
    this.curr = { stmts: [] };
    this.appendStmt({ type: 'BlockStmt', blocks: [inner] });
    if (virtual) this.appendStmt({ type: 'AssignVarStmt', source: L(vtarget), target });
    else this.appendStmt({ type: 'BreakStmt', index: 1 });
    const outer = this.curr;
    this.curr = prev;
    this.appendStmt({ type: 'BlockStmt', blocks: [outer] });
    this.ltarget = L(target);
    iter();
  }

  private planDot(key: Term, iter: Iter): void {
    const source = this.ltarget;
    this.planTerm(key, () => {
      const target = this.newLocal();
      this.appendStmt({ type: 'DotStmt', source, key: this.ltarget, target });
      this.ltarget = L(target);
      iter();
    });
  }

  /**
   * A number key into the base document, as OPA's storage paths read it: an array index, or
   * else the object key of its text (`data[2]` finds `{"2": ...}`; a plain value's `obj[2]` does not).
   */
  private planStorageDot(key: Term, iter: Iter): void {
    const source = this.ltarget;
    const text = (key.value as { value: string }).value;
    const target = this.newLocal();
    this.appendStmt({ type: 'ResetLocalStmt', target });
    const prev = this.curr;
    const numBlock: Block = { stmts: [] };
    this.curr = numBlock;
    const lnum = this.newLocal();
    this.appendStmt({ type: 'MakeNumberRefStmt', index: this.getStringConst(text), target: lnum });
    this.appendStmt({ type: 'DotStmt', source, key: L(lnum), target });
    this.appendStmt({ type: 'BreakStmt', index: 1 });
    const outer: Block = { stmts: [] };
    this.curr = outer;
    this.appendStmt({ type: 'BlockStmt', blocks: [numBlock] });
    this.appendStmt({ type: 'DotStmt', source, key: S(this.getStringConst(text)), target });
    this.curr = prev;
    this.appendStmt({ type: 'BlockStmt', blocks: [outer] });
    this.appendStmt({ type: 'IsDefinedStmt', source: target });
    this.ltarget = L(target);
    iter();
  }

  /** A local holding the operand (scans and merges need locals, constants are copied into one). */
  private asLocal(o: Operand): Local {
    if (o.type === 'local') return o.value;
    const l = this.newLocal();
    this.appendStmt({ type: 'AssignVarStmt', source: o, target: l });
    return l;
  }

  private planScan(key: Term, iter: (lkey: Local) => void): void {
    const source = this.asLocal(this.ltarget);
    const scan: Stmt & { type: 'ScanStmt' } = { type: 'ScanStmt', source, key: this.newLocal(), value: this.newLocal(), block: { stmts: [] } };
    const prev = this.curr;
    this.curr = scan.block;
    this.planUnifyLocal(L(scan.key), key, () => {
      this.ltarget = L(scan.value);
      iter(scan.key);
    });
    this.curr = prev;
    this.appendStmt(scan);
  }

  private planScanValues(val: Term, iter: (l: Local) => void): void {
    const source = this.asLocal(this.ltarget);
    const scan: Stmt & { type: 'ScanStmt' } = { type: 'ScanStmt', source, key: this.newLocal(), value: this.newLocal(), block: { stmts: [] } };
    const prev = this.curr;
    this.curr = scan.block;
    this.planUnifyLocal(L(scan.value), val, () => {
      this.ltarget = L(scan.value);
      iter(scan.value);
    });
    this.curr = prev;
    this.appendStmt(scan);
  }

  private planTermSlice(terms: Term[], iter: (locals: Operand[]) => void): void {
    const locals: Operand[] = new Array(terms.length);
    const rec = (i: number): void => {
      if (i >= terms.length) return iter(locals);
      this.planTerm(terms[i], () => {
        locals[i] = this.ltarget;
        rec(i + 1);
      });
    };
    rec(0);
  }

  /**
   * Whether `data.a[x].b` can become one CallDynamicStmt: all vars in the ref are bound and the
   * rule trie below the ref holds only rule sets (OPA's optimizeLookup).
   */
  private optimizeLookup(t: RuleTrie, ref: Term[]): { rulesets: Rule[][]; path: Operand[]; index: number } | undefined {
    let nodes: RuleTrie[] = [t];
    let opt = false;
    let index = 0;
    outer: for (let i = 1; i < ref.length; i++) {
      index = i;
      const r = ref[i].value;
      const next: RuleTrie[] = [];
      if (r.type === 'var') {
        if (this.vars.get(r.value) === undefined) return undefined;
        opt = true;
        for (const node of nodes) {
          if (node.getRules().length > 0) return undefined;
          for (const k of node.childKeys()) {
            const c = node.get(k);
            if (c) next.push(c);
          }
        }
      } else if (r.type === 'string') {
        for (const node of nodes) {
          if (node.getRules().length > 0) return undefined;
          const c = node.get(r.value);
          if (c) next.push(c);
        }
      } else {
        return undefined;
      }
      nodes = next;

      let all = 0;
      for (const node of nodes) {
        if (i < ref.length - 1) {
          const nv = ref[i + 1].value;
          if (nv.type === 'var') all += node.childrenCount();
          else if (nv.type === 'string' && node.get(nv.value)) all++;
        }
      }
      if (all === 0) break;

      if (index === ref.length - 2) {
        for (const node of nodes) {
          if (node.getRules().some((rule) => !refIsGround(this.ruleRef(rule)))) break outer;
        }
      }
    }

    if (!opt) return undefined;
    const rulesets: Rule[][] = [];
    for (const node of nodes) {
      if (index === ref.length - 1 && node.getRules().length === 0 && node.childrenCount() > 0) return undefined;
      const rules = node.getRules();
      if (rules.length > 0) rulesets.push(rules);
    }
    if (rulesets.length === 0) return { rulesets, path: [], index };

    const path: Operand[] = [S(this.getStringConst(`g${this.funcs.gen()}`))];
    for (let i = 1; i <= index; i++) {
      const r = ref[i].value;
      if (r.type === 'var') {
        const l = this.vars.get(r.value);
        if (l === undefined) return undefined;
        path.push(L(l));
      } else if (r.type === 'string') {
        path.push(S(this.getStringConst(r.value)));
      }
    }
    return { rulesets, path, index };
  }

  private unseenVars(t: Term): boolean {
    return someVar(t, (v) => this.vars.get(v) === undefined);
  }

  /** input, data and the caller variables of active `with` mocks: the leading arguments of every rule function. */
  private defaultOperands(): Operand[] {
    return this.defaultLocals().map(L);
  }

  private defaultLocals(): Local[] {
    const extras = this.funcs.extras().map((name) => {
      const l = this.vars.get(name);
      if (l === undefined) throw new PlanError(`internal: mock value ${name} out of scope`, this.loc);
      return l;
    });
    return [this.vars.get('input') ?? INPUT, this.vars.get('data') ?? DATA, ...extras];
  }

  /** Whether the term reads variables bound in the current body (other than input and data). */
  private readsLocals(t: Term): boolean {
    return someVar(t, (v) => v !== 'input' && v !== 'data' && this.vars.get(v) !== undefined);
  }

  private isFunction(r: Term[]): boolean {
    const node = this.rules.lookup(r);
    return node !== undefined && node.arity() > 0;
  }

  /**
   * An IR location for a statement whose failure names a rule (conflict errors carry the rule's
   * location, as OPA's completeDocConflictErr(rule.Location)); undefined without a file.
   */
  private stmtLoc(loc: AstLocation | undefined): Stmt['location'] {
    if (!loc || !loc.file) return undefined;
    return { file: this.getFileConst(loc.file), row: loc.row, col: loc.col };
  }

  /** Records that evaluation reached `loc` (coverage builds only); never makes anything fail. */
  private planCover(loc: AstLocation | undefined): void {
    if (!this.opts.coverage || !loc || !loc.file) return;
    const lrow = this.newLocal();
    this.appendStmt({ type: 'MakeNumberIntStmt', value: loc.row, target: lrow });
    this.appendStmt({ type: 'CallStmt', func: COVER_BUILTIN, args: [S(this.getStringConst(loc.file)), L(lrow)], result: this.newLocal() });
    this.externs.set(COVER_BUILTIN, { name: COVER_BUILTIN, arity: 2 });
  }

  // ---- statics and emission ----------------------------------------------------------------

  private planExterns(): void {
    this.policy.static.builtinFuncs = [...this.externs.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((d) => ({ name: d.name, arity: d.arity, result: !d.void }));
  }

  private getStringConst(s: string): number {
    let i = this.strings.get(s);
    if (i === undefined) {
      i = this.policy.static.strings.length;
      this.policy.static.strings.push(s);
      this.strings.set(s, i);
    }
    return i;
  }

  private getFileConst(s: string): number {
    let i = this.files.get(s);
    if (i === undefined) {
      i = this.policy.static.files.length;
      this.policy.static.files.push(s);
      this.files.set(s, i);
    }
    return i;
  }

  private appendStmt(s: Stmt): void {
    this.appendStmtToBlock(s, this.curr);
  }

  private appendStmtToBlock(s: Stmt, b: Block): void {
    if (this.loc && s.location === undefined) {
      s.location = { file: this.getFileConst(this.loc.file || '<query>'), row: this.loc.row, col: this.loc.col };
    }
    b.stmts.push(s);
  }

  private blockWithStmt(s: Stmt): Block {
    const b: Block = { stmts: [] };
    this.appendStmtToBlock(s, b);
    return b;
  }

  private newLocal(): Local {
    return this.lnext++;
  }
}

/** Plans the compiled policy's queries (each one plan) and the rules they need. */
export function planPolicy(compiled: Pick<CompiledPolicy, 'modules' | 'queries'> & Partial<Pick<CompiledPolicy, 'builtins'>>, opts?: PlanOptions): Policy {
  return new Planner(compiled, opts).run();
}
