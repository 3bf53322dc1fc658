// CN mapping file (repro's CommonNameMappings format): one line per certificate CN,
//   <CN> TAB <identity>[,<identity>...]
// where an identity is `user@domain` or a bare `domain`. `#` comment lines and blank lines are
// skipped. Any other line is an error naming the file and the line, so an operator can fix it.
import { readFileSync } from 'node:fs';

export type CnMap = ReadonlyMap<string, readonly string[]>;

export class CnMapError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'CnMapError';
  }
}

// Deliberately plain: a DNS-ish domain and an optional SIP user part (no spaces, commas, tabs, '@' twice).
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const USER = /^[A-Za-z0-9\-_.!~*'()&=+$;?/%]+$/;

export function parseCnMap(text: string, file = '<cn-map>'): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const tab = raw.indexOf('\t');
    if (tab < 0) throw new CnMapError(file, n, 'expected "<CN><TAB><identity>[,<identity>...]" (no TAB found)');
    const cn = raw.slice(0, tab);
    const rest = raw.slice(tab + 1).trim();
    if (cn.trim() === '') throw new CnMapError(file, n, 'empty CN before the TAB');
    if (cn !== cn.trim()) throw new CnMapError(file, n, `CN "${cn}" has leading or trailing spaces`);
    if (rest === '') throw new CnMapError(file, n, `no identities after the TAB for CN "${cn}"`);
    if (rest.includes('\t')) throw new CnMapError(file, n, 'more than one TAB on the line');
    const ids = rest.split(',').map((s) => s.trim());
    for (const id of ids) {
      const err = identityError(id);
      if (err) throw new CnMapError(file, n, `bad identity "${id}" for CN "${cn}": ${err}`);
    }
    if (map.has(cn)) throw new CnMapError(file, n, `CN "${cn}" is mapped twice`);
    map.set(cn, ids.map(normalizeIdentity));
  });
  return map;
}

export function loadCnMap(file: string): Map<string, string[]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CnMapError(file, 0, `cannot read: ${(e as Error).message}`);
  }
  return parseCnMap(text, file);
}

function identityError(id: string): string | null {
  if (id === '') return 'empty identity (stray comma?)';
  const at = id.lastIndexOf('@');
  const user = at >= 0 ? id.slice(0, at) : null;
  const domain = at >= 0 ? id.slice(at + 1) : id;
  if (user !== null && (user === '' || !USER.test(user))) return 'user part must be non-empty and contain no spaces or "@"';
  if (!DOMAIN.test(domain)) return 'not a domain name (expected user@domain or domain)';
  return null;
}

// Domains are case-insensitive; the user part is kept as written (SIP user parts are case-sensitive).
function normalizeIdentity(id: string): string {
  const at = id.lastIndexOf('@');
  return at >= 0 ? `${id.slice(0, at)}@${id.slice(at + 1).toLowerCase()}` : id.toLowerCase();
}
