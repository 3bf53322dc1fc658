// uuid.rfc4122 (random v4, stable per key within one evaluation) and uuid.parse (google/uuid's
// reading of the fields, as OPA reports them).
import { randomUUID } from 'node:crypto';
import { str } from './errors.js';
import { perEvaluation } from './eval-scope.js';
import type { BuiltinTable } from './types.js';

/** 16 bytes, or undefined, from the four textual forms google/uuid accepts. */
function uuidBytes(s: string): Uint8Array | undefined {
  let hex: string;
  if (s.length === 36) {
    if (s[8] !== '-' || s[13] !== '-' || s[18] !== '-' || s[23] !== '-') return undefined;
    hex = s.replaceAll('-', '');
  } else if (s.length === 38) {
    if (s[0] !== '{' || s[37] !== '}') return undefined;
    return uuidBytes(s.slice(1, 37));
  } else if (s.length === 45) {
    if (s.slice(0, 9).toLowerCase() !== 'urn:uuid:') return undefined;
    return uuidBytes(s.slice(9));
  } else if (s.length === 32) hex = s;
  else return undefined;
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

const G1582_NS100 = 122192928000000000n; // 100-ns intervals from 1582-10-15 to 1970-01-01

function variantOf(b: number): string {
  if ((b & 0xc0) === 0x80) return 'RFC4122';
  if ((b & 0xe0) === 0xc0) return 'Microsoft';
  if ((b & 0xe0) === 0xe0) return 'Future';
  return 'Reserved';
}

export function parseUUID(s: string): Record<string, unknown> | undefined {
  const u = uuidBytes(s);
  if (!u) return undefined;
  const version = u[6] >> 4;
  const out: Record<string, unknown> = { version, variant: variantOf(u[8]) };
  if (version === 1 || version === 2) {
    const dv = new DataView(u.buffer, u.byteOffset, 16);
    const timeLow = BigInt(dv.getUint32(0));
    const timeMid = BigInt(dv.getUint16(4));
    const timeHi = BigInt(dv.getUint16(6) & 0x0fff);
    const t100 = timeLow | (timeMid << 32n) | (timeHi << 48n);
    out.time = (t100 - G1582_NS100) * 100n;
    out.clocksequence = dv.getUint16(8) & 0x3fff;
    const node = [...u.slice(10)];
    out.nodeid = node.map((b) => b.toString(16).padStart(2, '0')).join('-');
    out.macvariables = `${node[0] & 0x02 ? 'local' : 'global'}:${node[0] & 0x01 ? 'multicast' : 'unicast'}`;
    if (version === 2) {
      const domain = u[9];
      out.domain = domain === 0 ? 'Person' : domain === 1 ? 'Group' : domain === 2 ? 'Org' : `Domain${domain}`;
      out.id = dv.getUint32(0);
    }
  }
  return out;
}

export const uuidBuiltins: BuiltinTable = {
  'uuid.rfc4122': (k) => {
    const key = str('uuid.rfc4122', k, 1);
    return perEvaluation(`uuid.rfc4122\u0000${key}`, () => randomUUID());
  },
  // Non-string input is undefined in OPA too (the type checker usually rejects it earlier).
  'uuid.parse': (s) => (typeof s === 'string' ? parseUUID(s) : undefined),
};
