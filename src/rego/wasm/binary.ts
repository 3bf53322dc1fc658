// Just enough of the WebAssembly binary format to split a module into sections, read the
// vectors the linker needs (types, imports, functions, exports, code, data) and write a
// module back. Instruction bytes are never decoded: code bodies are copied as they are.

export const SEC = { custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, datacount: 12, tag: 13 } as const;

export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }
  u8(): number {
    if (this.pos >= this.end) throw new Error('wasm: unexpected end');
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 28 && (b & 0x70) !== 0 && shift >= 35) throw new Error('wasm: u32 too long');
    }
  }
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.u8();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 32 && b & 0x40) result |= -1 << shift;
    return result | 0;
  }
  take(n: number): Uint8Array {
    if (this.pos + n > this.end) throw new Error('wasm: unexpected end');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  name(): string {
    return new TextDecoder().decode(this.take(this.u32()));
  }
  done(): boolean {
    return this.pos >= this.end;
  }
}

export class Writer {
  private chunks: Uint8Array[] = [];
  private cur: number[] = [];
  private length = 0;
  byte(b: number): this {
    this.cur.push(b & 0xff);
    this.length++;
    return this;
  }
  u32(v: number): this {
    let x = v >>> 0;
    do {
      let b = x & 0x7f;
      x >>>= 7;
      if (x !== 0) b |= 0x80;
      this.byte(b);
    } while (x !== 0);
    return this;
  }
  s32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
        this.byte(b);
        return this;
      }
      this.byte(b | 0x80);
    }
  }
  bytes(bs: Uint8Array): this {
    if (this.cur.length > 0) {
      this.chunks.push(Uint8Array.from(this.cur));
      this.cur = [];
    }
    this.chunks.push(bs);
    this.length += bs.length;
    return this;
  }
  name(s: string): this {
    const bs = new TextEncoder().encode(s);
    return this.u32(bs.length).bytes(bs);
  }
  /** A section: id, then the size-prefixed payload written by `f`. */
  section(id: number, f: (w: Writer) => void): this {
    const w = new Writer();
    f(w);
    const payload = w.finish();
    return this.byte(id).u32(payload.length).bytes(payload);
  }
  finish(): Uint8Array {
    if (this.cur.length > 0) {
      this.chunks.push(Uint8Array.from(this.cur));
      this.cur = [];
    }
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

export interface Section {
  id: number;
  /** payload (without id and size) */
  payload: Uint8Array;
}

export function readSections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  const magic = r.take(8);
  if (magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d || magic[4] !== 1) throw new Error('wasm: not a version 1 module');
  const out: Section[] = [];
  while (!r.done()) {
    const id = r.u8();
    const size = r.u32();
    out.push({ id, payload: r.take(size) });
  }
  return out;
}

export const HEADER = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

export interface FuncType {
  params: number[]; // value type bytes (0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64)
  results: number[];
}

export function readTypes(payload: Uint8Array): FuncType[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: FuncType[] = [];
  for (let i = 0; i < n; i++) {
    if (r.u8() !== 0x60) throw new Error('wasm: unsupported type form');
    const params = Array.from(r.take(r.u32()));
    const results = Array.from(r.take(r.u32()));
    out.push({ params, results });
  }
  return out;
}

export function writeType(w: Writer, t: FuncType): void {
  w.byte(0x60).u32(t.params.length);
  t.params.forEach((p) => w.byte(p));
  w.u32(t.results.length);
  t.results.forEach((p) => w.byte(p));
}

export type Import =
  | { module: string; field: string; kind: 0; type: number }
  | { module: string; field: string; kind: 2; min: number; max?: number }
  | { module: string; field: string; kind: 1 | 3; raw: Uint8Array };

export function readImports(payload: Uint8Array): Import[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: Import[] = [];
  for (let i = 0; i < n; i++) {
    const module = r.name();
    const field = r.name();
    const kind = r.u8();
    if (kind === 0) out.push({ module, field, kind, type: r.u32() });
    else if (kind === 2) {
      const flag = r.u32();
      if (flag > 1) throw new Error('wasm: unsupported memory limits');
      const min = r.u32();
      out.push(flag === 1 ? { module, field, kind, min, max: r.u32() } : { module, field, kind, min });
    } else if (kind === 1 || kind === 3) {
      const start = r.pos;
      if (kind === 1) {
        r.u8();
        const flag = r.u32();
        r.u32();
        if (flag === 1) r.u32();
      } else {
        r.u8();
        r.u8();
      }
      out.push({ module, field, kind, raw: payload.slice(start, r.pos) });
    } else throw new Error(`wasm: unsupported import kind ${kind}`);
  }
  return out;
}

export function writeImports(w: Writer, imports: Import[]): void {
  w.u32(imports.length);
  for (const im of imports) {
    w.name(im.module).name(im.field).byte(im.kind);
    if (im.kind === 0) w.u32(im.type);
    else if (im.kind === 2) {
      if (im.max === undefined) w.byte(0).u32(im.min);
      else w.byte(1).u32(im.min).u32(im.max);
    } else w.bytes(im.raw);
  }
}

export function readU32Vec(payload: Uint8Array): number[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u32());
  return out;
}

export interface Export {
  name: string;
  kind: number;
  index: number;
}

export function readExports(payload: Uint8Array): Export[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: Export[] = [];
  for (let i = 0; i < n; i++) out.push({ name: r.name(), kind: r.u8(), index: r.u32() });
  return out;
}

/** Function bodies of the code section, each without its size prefix. */
export function readCode(payload: Uint8Array): Uint8Array[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.take(r.u32()));
  return out;
}

export interface DataSegment {
  /** the whole encoded segment, copied as is */
  raw: Uint8Array;
  /** start address of an active segment with an `i32.const` offset */
  offset?: number;
  size: number;
}

export function readData(payload: Uint8Array): DataSegment[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: DataSegment[] = [];
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    const flag = r.u32();
    let offset: number | undefined;
    if (flag === 0 || flag === 2) {
      if (flag === 2) r.u32();
      const op = r.u8();
      if (op !== 0x41) throw new Error('wasm: unsupported data segment offset');
      offset = r.s32() >>> 0;
      if (r.u8() !== 0x0b) throw new Error('wasm: unsupported data segment offset');
    } else if (flag !== 1) throw new Error('wasm: unsupported data segment');
    const size = r.u32();
    r.take(size);
    out.push({ raw: payload.slice(start, r.pos), offset, size });
  }
  return out;
}

/** An active segment for memory 0 at a constant address. */
export function writeActiveSegment(w: Writer, offset: number, data: Uint8Array): void {
  w.u32(0).byte(0x41).s32(offset | 0).byte(0x0b).u32(data.length).bytes(data);
}

/** Value type byte -> the binaryen type. */
export function binaryenType(b: { i32: number; i64: number; f32: number; f64: number }, t: number): number {
  switch (t) {
    case 0x7f: return b.i32;
    case 0x7e: return b.i64;
    case 0x7d: return b.f32;
    case 0x7c: return b.f64;
    default: throw new Error(`wasm: unsupported value type 0x${t.toString(16)}`);
  }
}
