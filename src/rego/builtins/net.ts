// net.cidr_* and net.lookup_ip_addr (OPA's topdown/cidr.go, topdown/net.go).
// Limitation of the JSON boundary: a set operand of net.cidr_contains_matches arrives as an array,
// so its matches are keyed by index rather than by the set element as OPA does.
import { execFileSync } from 'node:child_process';
import { SetArg, builtinError, str, typeError } from './errors.js';
import { toSet } from './compare.js';
import { defaultPrefix, firstIP, formatIP, formatNet, lastIP, netContains, parseCIDR, parseIP, rangeToCIDRs, type IPNet } from './ip.js';
import type { BuiltinTable } from './types.js';

const cidrCache = new Map<string, IPNet>();

function cidrOperand(name: string, v: unknown): IPNet {
  // OPA reports every CIDR operand's type error as operand 1 (getNetFromOperand).
  const s = str(name, v, 1);
  const hit = cidrCache.get(s);
  if (hit) return hit;
  let net: IPNet;
  try {
    net = parseCIDR(s);
  } catch (err) {
    throw builtinError(name, (err as Error).message);
  }
  if (cidrCache.size >= 500) cidrCache.delete(cidrCache.keys().next().value as string);
  cidrCache.set(s, net);
  return net;
}

function cidrContains(name: string, a: unknown, b: unknown): boolean {
  const net = cidrOperand(name, a);
  const bs = str(name, b, 1);
  const ip = parseIP(bs);
  if (ip) return netContains(net, ip);
  let other: IPNet;
  try {
    other = parseCIDR(bs);
  } catch {
    throw builtinError(name, `not a valid textual representation of an IP address or CIDR: ${bs}`);
  }
  if (!netContains(net, other.ip)) return false;
  return netContains(net, { bits: other.ip.bits, value: lastIP(other) });
}

const ELEMENT_ERR = 'element must be string or non-empty array';

function matchOperand(name: string, pos: number, v: unknown): Array<[string, unknown]> {
  const cidrOf = (e: unknown): string => {
    if (typeof e === 'string') return e;
    if (Array.isArray(e) && e.length > 0) return e[0] as string;
    throw builtinError(name, `operand ${pos}: ${ELEMENT_ERR}`);
  };
  if (typeof v === 'string') return [[v, v]];
  // a set keys its matches by the element itself, an array by index (OPA's evalNetCIDRContainsMatchesOperand)
  if (v instanceof SetArg) return v.items.map((e) => [cidrOf(e), e]);
  if (Array.isArray(v)) return v.map((e, i) => [cidrOf(e), i]);
  if (v && typeof v === 'object') return Object.entries(v).map(([k, e]) => [cidrOf(e), k]);
  return [];
}

const EXPAND_LIMIT = 1 << 20; // more addresses than this would not fit any policy's memory

function lookup(name: string, host: string): string[] {
  const literal = parseIP(host);
  if (literal) return [formatIP(literal)];
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(host)) throw builtinError(name, `lookup ${host}: no such host`);
  // Host builtins are synchronous (the SDK calls them from inside WASM): getent resolves through NSS
  // (/etc/hosts, DNS) as Go's resolver does, with a bounded wait.
  let out: string;
  try {
    out = execFileSync('getent', ['ahosts', host], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    throw builtinError(name, `lookup ${host}: no such host`);
  }
  const addrs = new Set<string>();
  for (const line of out.split('\n')) {
    const ip = parseIP(line.split(/\s+/)[0] ?? '');
    if (ip) addrs.add(formatIP(ip));
  }
  return toSet([...addrs]) as string[];
}

export const netBuiltins: BuiltinTable = {
  'net.cidr_contains': (cidr, cidrOrIp) => cidrContains('net.cidr_contains', cidr, cidrOrIp),
  'net.cidr_overlap': (cidr, cidrOrIp) => cidrContains('net.cidr_overlap', cidr, cidrOrIp),
  'net.cidr_intersects': (a, b) => {
    const name = 'net.cidr_intersects';
    const na = cidrOperand(name, a);
    const nb = cidrOperand(name, b);
    return netContains(na, nb.ip) || netContains(nb, na.ip);
  },
  'net.cidr_is_valid': (cidr) => {
    if (typeof cidr !== 'string') return false;
    try {
      parseCIDR(cidr);
      return true;
    } catch {
      return false;
    }
  },
  'net.cidr_expand': (cidr) => {
    const name = 'net.cidr_expand';
    const net = cidrOperand(name, cidr);
    const first = firstIP(net);
    const last = lastIP(net);
    if (last - first + 1n > BigInt(EXPAND_LIMIT)) throw builtinError(name, `CIDR ${str(name, cidr, 1)} has too many addresses to expand`);
    const out: string[] = [];
    for (let v = first; v <= last; v++) out.push(formatIP({ bits: net.ip.bits, value: v }));
    return toSet(out);
  },
  'net.cidr_contains_matches': (cidrs, cidrsOrIps) => {
    const name = 'net.cidr_contains_matches';
    const result: unknown[] = [];
    const left = matchOperand(name, 1, cidrs);
    const right = matchOperand(name, 2, cidrsOrIps);
    for (const [c1, k1] of left) {
      for (const [c2, k2] of right) {
        if (cidrContains(name, c1, c2)) result.push([k1, k2]);
      }
    }
    return toSet(result);
  },
  'net.cidr_merge': (addrs) => {
    const name = 'net.cidr_merge';
    if (!Array.isArray(addrs)) throw typeError(name, 1, addrs, 'array', 'set');
    const nets: IPNet[] = addrs.map((e) => {
      if (typeof e !== 'string') throw builtinError(name, 'element must be string');
      const ip = parseIP(e);
      if (!ip) {
        try {
          return parseCIDR(e);
        } catch (err) {
          throw builtinError(name, (err as Error).message);
        }
      }
      if (ip.bits === 32) return { ip, prefix: defaultPrefix(ip.value) ?? 32 };
      throw builtinError(name, 'IPv6 invalid: needs prefix length');
    });
    const out: string[] = [];
    for (const bits of [32, 128] as const) {
      type Range = { first: bigint; last: bigint; net?: IPNet };
      const ranges: Range[] = nets.filter((n) => n.ip.bits === bits).map((n) => ({ first: firstIP(n), last: lastIP(n), net: n }));
      ranges.sort((a, b) => (a.last !== b.last ? (a.last < b.last ? -1 : 1) : a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
      // OPA's right-to-left merge of adjacent or overlapping ranges (from netaddr).
      for (let i = ranges.length - 1; i > 0; i--) {
        if (ranges[i].first - 1n <= ranges[i - 1].last) {
          const first = ranges[i - 1].first < ranges[i].first ? ranges[i - 1].first : ranges[i].first;
          ranges[i - 1] = { first, last: ranges[i].last };
          ranges.splice(i, 1);
        }
      }
      for (const r of ranges) {
        if (r.net) out.push(formatNet(r.net));
        else out.push(...rangeToCIDRs(bits, r.first, r.last).map(formatNet));
      }
    }
    return toSet(out);
  },
  'net.lookup_ip_addr': (host) => lookup('net.lookup_ip_addr', str('net.lookup_ip_addr', host, 1)),
};
