// The policy's static data segment: constant strings laid out as ready-made OPA string
// values (so constants cost no allocation), the two booleans, and the NUL-terminated
// `builtins()` / `entrypoints()` JSON texts.
const STRING_KIND = 4;
const BOOLEAN_KIND = 2;

export interface StaticLayout {
  bytes: Uint8Array;
  base: number;
  end: number;
  /** Address of the OPA string value of strings[i]. */
  stringValue: number[];
  /** Address and byte length of the UTF-8 text of strings[i]. */
  stringText: Array<{ addr: number; len: number }>;
  trueAddr: number;
  falseAddr: number;
  builtinsJson: number;
  entrypointsJson: number;
}

export function layoutStatic(base: number, strings: string[], builtinsJson: string, entrypointsJson: string): StaticLayout {
  const enc = new TextEncoder();
  const texts = strings.map((s) => enc.encode(s));
  const bj = enc.encode(builtinsJson);
  const ej = enc.encode(entrypointsJson);
  let size = 16 + strings.length * 12 + bj.length + ej.length + 16;
  for (const t of texts) size += t.length;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let off = 0;
  const trueAddr = base + off;
  view.setInt32(off, BOOLEAN_KIND, true); view.setInt32(off + 4, 1, true); off += 8;
  const falseAddr = base + off;
  view.setInt32(off, BOOLEAN_KIND, true); view.setInt32(off + 4, 0, true); off += 8;
  const stringValue: number[] = [];
  const stringText: Array<{ addr: number; len: number }> = [];
  // values first (4-byte aligned), texts after
  const valuesStart = off;
  off += strings.length * 12;
  texts.forEach((t, i) => {
    const addr = base + off;
    bytes.set(t, off);
    off += t.length;
    stringText.push({ addr, len: t.length });
    const v = valuesStart + i * 12;
    view.setInt32(v, STRING_KIND, true);
    view.setInt32(v + 4, t.length, true);
    view.setInt32(v + 8, addr, true);
    stringValue.push(base + v);
  });
  const builtinsAddr = base + off;
  bytes.set(bj, off); off += bj.length + 1;
  const entrypointsAddr = base + off;
  bytes.set(ej, off); off += ej.length + 1;
  return {
    bytes: bytes.subarray(0, off),
    base,
    end: base + off,
    stringValue,
    stringText,
    trueAddr,
    falseAddr,
    builtinsJson: builtinsAddr,
    entrypointsJson: entrypointsAddr,
  };
}
