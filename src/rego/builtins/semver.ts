// semver.is_valid / semver.compare (OPA's internal/semver: strict SemVer 2.0.0, no "v" prefix).
import { builtinError, str } from './errors.js';
import type { BuiltinTable } from './types.js';

interface Version {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string[];
}

const NUM = '0|[1-9]\\d*';
const PRE_ID = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const RE = new RegExp(`^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?$`);

export function parseSemver(s: string): Version | undefined {
  const m = RE.exec(s);
  if (!m) return undefined;
  return { major: BigInt(m[1]), minor: BigInt(m[2]), patch: BigInt(m[3]), pre: m[4] ? m[4].split('.') : [] };
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareSemver(a: Version, b: Version): number {
  const c = cmp(a.major, b.major) || cmp(a.minor, b.minor) || cmp(a.patch, b.patch);
  if (c) return c;
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length === 0 ? 0 : a.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    let r: number;
    if (xn && yn) r = cmp(BigInt(x), BigInt(y));
    else if (xn) r = -1;
    else if (yn) r = 1;
    else r = x < y ? -1 : x > y ? 1 : 0;
    if (r) return r;
  }
  return Math.sign(a.pre.length - b.pre.length);
}

export const semverBuiltins: BuiltinTable = {
  'semver.is_valid': (v) => typeof v === 'string' && parseSemver(v) !== undefined,
  'semver.compare': (a, b) => {
    const name = 'semver.compare';
    const sa = str(name, a, 1);
    const sb = str(name, b, 2);
    const va = parseSemver(sa);
    if (!va) throw builtinError(name, `operand 1: string ${sa} is not a valid SemVer`);
    const vb = parseSemver(sb);
    if (!vb) throw builtinError(name, `operand 2: string ${sb} is not a valid SemVer`);
    return compareSemver(va, vb);
  },
};
