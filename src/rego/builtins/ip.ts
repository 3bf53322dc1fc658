// IP addresses and CIDRs as Go's net package parses and prints them (OPA's topdown/cidr.go uses
// net.ParseIP / net.ParseCIDR). Addresses are bigints with a family (32 or 128 bits).

export interface IP {
  bits: 32 | 128;
  value: bigint;
}

export interface IPNet {
  ip: IP; // as written (net.ParseCIDR masks it; IPs with a default mask keep their host bits)
  prefix: number;
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    // Go rejects empty octets, more than 3 digits, values > 255 and leading zeros.
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIPv6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined;
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsWanted = tailV4 === undefined ? 8 : 6;
  const dbl = head.indexOf('::');
  if (dbl !== head.lastIndexOf('::') && dbl >= 0) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const left = parse(head.slice(0, dbl));
    const right = parse(head.slice(dbl + 2));
    if (!left || !right || left.length + right.length >= groupsWanted) return undefined;
    groups = [...left, ...new Array(groupsWanted - left.length - right.length).fill(0), ...right];
  } else {
    const all = parse(head);
    if (!all || all.length !== groupsWanted) return undefined;
    groups = all;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (tailV4 !== undefined) v = (v << 32n) | tailV4;
  return v;
}

/** net.ParseIP: IPv4 or IPv6 text, no zone; undefined when invalid. */
export function parseIP(s: string): IP | undefined {
  if (s.includes(':')) {
    const v = parseIPv6(s);
    return v === undefined ? undefined : { bits: 128, value: v };
  }
  const v = parseIPv4(s);
  return v === undefined ? undefined : { bits: 32, value: v };
}

/** Go's `invalid CIDR address: <s>` on failure. */
export function parseCIDR(s: string): IPNet {
  const slash = s.indexOf('/');
  const fail = () => new Error(`invalid CIDR address: ${s}`);
  if (slash < 0) throw fail();
  const ip = parseIP(s.slice(0, slash));
  const mask = s.slice(slash + 1);
  if (!ip || !/^\d+$/.test(mask) || mask.length > 7) throw fail();
  const prefix = Number(mask);
  if (prefix > ip.bits) throw fail();
  return { ip: { bits: ip.bits, value: ip.value & maskOf(ip.bits, prefix) }, prefix };
}

export function maskOf(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

export function firstIP(n: IPNet): bigint {
  return n.ip.value & maskOf(n.ip.bits, n.prefix);
}

export function lastIP(n: IPNet): bigint {
  return firstIP(n) | ((1n << BigInt(n.ip.bits - n.prefix)) - 1n);
}

/** IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as IPv4, as Go's To4() does. */
function as4(ip: IP): IP {
  if (ip.bits === 128 && ip.value >> 32n === 0xffffn) return { bits: 32, value: ip.value & 0xffffffffn };
  return ip;
}

/** IPNet.Contains. */
export function netContains(n: IPNet, ip: IP): boolean {
  const a = as4(ip);
  const net4 = as4(n.ip);
  let prefix = n.prefix;
  if (net4.bits !== n.ip.bits) prefix -= 96;
  if (a.bits !== net4.bits || prefix < 0) return false;
  const m = maskOf(a.bits, prefix);
  return (a.value & m) === (net4.value & m);
}

/** IP.String(): dotted IPv4 (also for IPv4-mapped), RFC 5952 IPv6. */
export function formatIP(ip: IP): string {
  const a = as4(ip);
  if (a.bits === 32) {
    const v = Number(a.value);
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // longest run of zero groups (length >= 2) becomes ::
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function formatNet(n: IPNet): string {
  return `${formatIP(n.ip)}/${n.ip.bits === 128 && as4(n.ip).bits === 32 ? n.prefix - 96 : n.prefix}`;
}

/** Go's IP.DefaultMask prefix length for an IPv4 address (class A/B/C), or undefined (class D/E). */
export function defaultPrefix(v4: bigint): number | undefined {
  const first = Number(v4 >> 24n);
  if (first < 0x80) return 8;
  if (first < 0xc0) return 16;
  if (first < 0xe0) return 24;
  return undefined;
}

/** The fewest CIDRs covering [first, last] exactly. */
export function rangeToCIDRs(bits: 32 | 128, first: bigint, last: bigint): IPNet[] {
  const out: IPNet[] = [];
  let cur = first;
  while (cur <= last) {
    let size = 0; // host bits
    while (size < bits) {
      const block = 1n << BigInt(size + 1);
      if (cur % block !== 0n || cur + block - 1n > last) break;
      size++;
    }
    out.push({ ip: { bits, value: cur }, prefix: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}
