// Results cross the SDK boundary as JSON text. JS numbers cannot carry OPA's big integers and
// exact decimals (units.parse("1Ei"), time.parse_rfc3339_ns near the int64 limits), so builtins may
// return `bigint` or `RawNumber` inside their result; such results are handed to the SDK as an
// ArrayBuffer of JSON text written here, which the SDK's `_loadJSON` accepts as is.

/** A number kept as its exact decimal text, e.g. "0.001" or "1152921504606846976". */
export class RawNumber {
  constructor(readonly text: string) {}
  toJSON(): number {
    return Number(this.text);
  }
}

export function needsExactEncoding(v: unknown): boolean {
  if (typeof v === 'bigint') return !Number.isSafeInteger(Number(v));
  if (v instanceof RawNumber) return true;
  if (Array.isArray(v)) return v.some(needsExactEncoding);
  if (v && typeof v === 'object') return Object.values(v).some(needsExactEncoding);
  return false;
}

/** JSON text with bigints and RawNumbers written digit for digit. */
export function exactJSON(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof RawNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map((e) => (e === undefined ? 'null' : exactJSON(e))).join(',')}]`;
  if (v && typeof v === 'object') {
    const parts: string[] = [];
    for (const [k, e] of Object.entries(v)) if (e !== undefined) parts.push(`${JSON.stringify(k)}:${exactJSON(e)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** What a host builtin hands to the SDK: the plain value, or JSON bytes when exactness needs it. */
export function toSdkResult(v: unknown): unknown {
  if (typeof v === 'bigint' && Number.isSafeInteger(Number(v))) return Number(v);
  if (v === undefined || !needsExactEncoding(v)) return containsBigint(v) ? toPlain(v) : v;
  const bytes = new TextEncoder().encode(exactJSON(v));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** A JS value that tests can compare with JSON.parse'd expectations (exact numbers become JS numbers). */
export function toPlain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof RawNumber) return Number(v.text);
  if (Array.isArray(v)) return v.map(toPlain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, toPlain(e)]));
  return v;
}

function containsBigint(v: unknown): boolean {
  if (typeof v === 'bigint') return true;
  if (Array.isArray(v)) return v.some(containsBigint);
  if (v && typeof v === 'object' && !(v instanceof RawNumber)) return Object.values(v).some(containsBigint);
  return false;
}
