// WebAssembly instructions for the generated policy code, written straight to bytes. The code
// generator (codegen.ts) builds expression trees with the same shapes as binaryen's builder API
// (`m.block`, `m.if`, `m.br`, `m.call`, `m.local.get`, `m.i32.const`, ...); a function body
// is then encoded once, resolving labels to branch depths and function names to indices.
// Linking a policy therefore never loads binaryen (its load is most of a cold start): only
// the small instruction set the generator uses is needed here.
import { Writer } from './binary.js';

export type ValType = 'i32' | 'i64' | 'none' | 'unreachable';

export const I32: ValType = 'i32';
export const NONE: ValType = 'none';

/** An instruction tree: its result type and how to write it. */
export interface Expr {
  readonly type: ValType;
  readonly write: (cx: EncodeContext) => void;
}

/** What encoding a body needs: the output, the enclosing labels, function indices by name. */
export interface EncodeContext {
  w: Writer;
  labels: Array<string | null>;
  funcIndex(name: string): number;
}

const VALTYPE_BYTE: Record<'i32' | 'i64', number> = { i32: 0x7f, i64: 0x7e };

function blockType(w: Writer, t: ValType): void {
  if (t === 'i32' || t === 'i64') w.byte(VALTYPE_BYTE[t]);
  else w.byte(0x40);
}

function depth(cx: EncodeContext, label: string): number {
  for (let i = cx.labels.length - 1; i >= 0; i--) if (cx.labels[i] === label) return cx.labels.length - 1 - i;
  throw new Error(`wasm encoder: branch to unknown label ${label}`);
}

/** Signed LEB128 of a 64-bit integer. */
function writeS64(w: Writer, v: bigint): void {
  let x = BigInt.asIntN(64, v);
  for (;;) {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    if ((x === 0n && (b & 0x40) === 0) || (x === -1n && (b & 0x40) !== 0)) {
      w.byte(b);
      return;
    }
    w.byte(b | 0x80);
  }
}

const op = (type: ValType, code: number, ...args: Expr[]): Expr => ({
  type,
  write: (cx) => {
    for (const a of args) a.write(cx);
    cx.w.byte(code);
  },
});

const log2 = (align: number) => 31 - Math.clz32(align);

/** The builder: binaryen's expression API for the instructions the code generator uses. */
export class CodeBuilder {
  block(label: string | null, children: Expr[], type: ValType = NONE): Expr {
    return {
      type,
      write: (cx) => {
        cx.w.byte(0x02);
        blockType(cx.w, type);
        cx.labels.push(label);
        for (const c of children) c.write(cx);
        cx.labels.pop();
        cx.w.byte(0x0b);
      },
    };
  }

  loop(label: string, body: Expr): Expr {
    const type = body.type === 'unreachable' ? NONE : body.type;
    return {
      type,
      write: (cx) => {
        cx.w.byte(0x03);
        blockType(cx.w, type);
        cx.labels.push(label);
        body.write(cx);
        cx.labels.pop();
        cx.w.byte(0x0b);
      },
    };
  }

  if(cond: Expr, then: Expr, otherwise?: Expr): Expr {
    let type: ValType = NONE;
    if (otherwise) {
      if (then.type === otherwise.type) type = then.type;
      else if (then.type === 'unreachable') type = otherwise.type;
      else if (otherwise.type === 'unreachable') type = then.type;
    }
    if (type === 'unreachable') type = NONE;
    return {
      type,
      write: (cx) => {
        cond.write(cx);
        cx.w.byte(0x04);
        blockType(cx.w, type);
        cx.labels.push(null);
        then.write(cx);
        if (otherwise) {
          cx.w.byte(0x05);
          otherwise.write(cx);
        }
        cx.labels.pop();
        cx.w.byte(0x0b);
      },
    };
  }

  br(label: string, cond?: Expr): Expr {
    return {
      type: cond ? NONE : 'unreachable',
      write: (cx) => {
        if (cond) cond.write(cx);
        cx.w.byte(cond ? 0x0d : 0x0c).u32(depth(cx, label));
      },
    };
  }

  call(name: string, args: Expr[], type: ValType): Expr {
    return {
      type,
      write: (cx) => {
        for (const a of args) a.write(cx);
        cx.w.byte(0x10).u32(cx.funcIndex(name));
      },
    };
  }

  return(value?: Expr): Expr {
    return value ? op('unreachable', 0x0f, value) : op('unreachable', 0x0f);
  }

  unreachable(): Expr {
    return op('unreachable', 0x00);
  }

  /** Legacy exception handling: `try` with one `catch` of tag 0 (the runtime's only tag). */
  try(label: string | null, body: Expr, _tags: string[], catches: Expr[]): Expr {
    const type = body.type === 'unreachable' ? NONE : body.type;
    return {
      type,
      write: (cx) => {
        cx.w.byte(0x06);
        blockType(cx.w, type);
        cx.labels.push(label);
        body.write(cx);
        for (const c of catches) {
          cx.w.byte(0x07).u32(0);
          c.write(cx);
        }
        cx.labels.pop();
        cx.w.byte(0x0b);
      },
    };
  }

  readonly local = {
    get: (index: number, type: ValType): Expr => ({ type, write: (cx) => void cx.w.byte(0x20).u32(index) }),
    set: (index: number, value: Expr): Expr => ({
      type: NONE,
      write: (cx) => {
        value.write(cx);
        cx.w.byte(0x21).u32(index);
      },
    }),
  };

  readonly i32 = {
    const: (v: number): Expr => ({ type: I32, write: (cx) => void cx.w.byte(0x41).s32(v) }),
    eqz: (a: Expr) => op(I32, 0x45, a),
    eq: (a: Expr, b: Expr) => op(I32, 0x46, a, b),
    ne: (a: Expr, b: Expr) => op(I32, 0x47, a, b),
    ge_s: (a: Expr, b: Expr) => op(I32, 0x4e, a, b),
    add: (a: Expr, b: Expr) => op(I32, 0x6a, a, b),
    load: (offset: number, align: number, ptr: Expr): Expr => ({
      type: I32,
      write: (cx) => {
        ptr.write(cx);
        cx.w.byte(0x28).u32(log2(align)).u32(offset);
      },
    }),
    store: (offset: number, align: number, ptr: Expr, value: Expr): Expr => ({
      type: NONE,
      write: (cx) => {
        ptr.write(cx);
        value.write(cx);
        cx.w.byte(0x36).u32(log2(align)).u32(offset);
      },
    }),
  };

  readonly i64 = {
    const: (v: bigint): Expr => ({
      type: 'i64',
      write: (cx) => {
        cx.w.byte(0x42);
        writeS64(cx.w, v);
      },
    }),
    extend_s: (a: Expr) => op('i64', 0xac, a),
  };
}

/**
 * A function body in the binary format: its locals (`vars` i32 locals after the parameters)
 * and its code, ending with `end`. A body that leaves no value for a function with a result
 * ends in a `return` on every path (as binaryen types such a block unreachable): an
 * `unreachable` after it keeps the validator's stack typing satisfied.
 */
export function encodeBody(vars: number, body: Expr, result: ValType, funcIndex: (name: string) => number): Uint8Array {
  const w = new Writer();
  if (vars > 0) w.u32(1).u32(vars).byte(0x7f);
  else w.u32(0);
  body.write({ w, labels: [], funcIndex });
  if (result !== NONE && body.type !== result) w.byte(0x00);
  w.byte(0x0b);
  return w.finish();
}
