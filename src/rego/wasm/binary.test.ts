import { describe, expect, it } from 'vitest';
import { emitWasm } from './emit.js';
import { planPolicy, L } from './test-helpers.js';
import { Reader, Writer, readSections, readExports, readImports, SEC } from './binary.js';

describe('wasm binary helpers', () => {
  it('round-trips LEB128 numbers at their edges', () => {
    const us = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 32 - 1];
    const ss = [0, 1, -1, 63, -64, 64, -65, 2 ** 31 - 1, -(2 ** 31)];
    const w = new Writer();
    us.forEach((u) => w.u32(u));
    ss.forEach((s) => w.s32(s));
    const r = new Reader(w.finish());
    expect(us.map(() => r.u32())).toEqual(us);
    expect(ss.map(() => r.s32())).toEqual(ss);
    expect(r.done()).toBe(true);
  });

  it('links a module that WebAssembly accepts, with only ABI exports and env imports', async () => {
    const wasm = await emitWasm(planPolicy([], [{ type: 'AssignVarStmt', source: L(0), target: 2 }]));
    expect(WebAssembly.validate(wasm as Uint8Array<ArrayBuffer>)).toBe(true);
    const sections = readSections(wasm);
    const ids = sections.map((s) => s.id);
    // the order the binary format requires: tag between memory and global, datacount before code
    const rank = (id: number) => (id === SEC.datacount ? 9.5 : id === SEC.tag ? 5.5 : id);
    expect(ids).toEqual([...ids].sort((a, b) => rank(a) - rank(b)));
    const exports = readExports(sections.find((s) => s.id === SEC.export)!.payload).map((e) => e.name);
    expect(exports.filter((n) => n.startsWith('__rt_') || n === 'memory')).toEqual([]);
    expect(exports).toContain('opa_eval');
    const imports = readImports(sections.find((s) => s.id === SEC.import)!.payload);
    expect(new Set(imports.map((i) => i.module))).toEqual(new Set(['env']));
  });
});
