// `bastion policy inspect`: `opa inspect` (cmd/inspect.go, internal/bundle/inspect) for a bundle
// file, a bundle directory or one .rego file: the manifest (revision, roots, rego version,
// metadata; wasm entrypoints in JSON), the packages and their files, and with -a the METADATA
// annotations. Pretty output uses OPA's tables; -f json prints OPA's Info document.
import { readFile, stat } from 'node:fs/promises';
import { parseModule, type Module, type Rule, type Term } from '../../rego/index.js';
import { readBundle, type Bundle, type BundleManifest } from '../bundle.js';
import { loadPaths } from '../loader.js';
import type { CliResult } from './common.js';

export interface InspectOptions {
  path: string;
  format?: 'pretty' | 'json';
  annotations?: boolean;
}

interface AnnotationsRef {
  path: Array<{ type: string; value: string }>;
  annotations: Record<string, unknown>;
  location: { file: string; row: number; col: number };
}

export interface InspectInfo {
  manifest?: BundleManifest;
  signatures_config: { signatures?: string[]; plugin?: string };
  wasm_modules?: Array<{ url: string; path: string; entrypoints: string[] }>;
  namespaces?: Record<string, string[]>;
  annotations?: AnnotationsRef[];
}

const name = (t: Term): string => (t.value.type === 'var' || t.value.type === 'string' ? t.value.value : '');

function packageString(m: Module): string {
  return 'data.' + m.package.path.slice(1).map(name).join('.');
}

function pathTerms(parts: string[]): AnnotationsRef['path'] {
  return [{ type: 'var', value: 'data' }, ...parts.map((p) => ({ type: 'string', value: p }))];
}

/** The annotation blocks of a module, attached like OPA's annotation set (package, or the rule below). */
function annotationsOf(m: Module, file: string): AnnotationsRef[] {
  const out: AnnotationsRef[] = [];
  const pkg = m.package.path.slice(1).map(name);
  for (const a of m.annotations ?? []) {
    const { scope, location, ...rest } = a;
    const endRow = (location?.row ?? 0) + (location?.text?.split('\n').length ?? 1) - 1;
    let path = pkg;
    if (scope === 'rule' || scope === 'document') {
      const rule: Rule | undefined = m.rules.find((r) => (r.location?.row ?? 0) > endRow);
      if (rule) path = [...pkg, ...rule.head.reference.map(name).filter(Boolean)];
    }
    out.push({ path: pathTerms(path), annotations: { scope, ...rest }, location: { file, row: location?.row ?? 0, col: location?.col ?? 0 } });
  }
  return out;
}

async function loadTarget(path: string): Promise<{ bundle: Bundle; files: Record<string, string> }> {
  const st = await stat(path);
  if (st.isDirectory()) {
    const loaded = await loadPaths([path], 'bundle');
    return {
      bundle: { manifest: loaded.manifest ?? {}, data: loaded.data, modules: loaded.modules.map((m) => ({ path: m.file, source: m.source })), wasm: [] },
      files: Object.fromEntries(loaded.modules.map((m) => [m.file, m.file])),
    };
  }
  if (path.endsWith('.rego')) {
    return { bundle: { manifest: {}, data: {}, modules: [{ path, source: await readFile(path, 'utf8') }], wasm: [] }, files: { [path]: path } };
  }
  const bundle = await readBundle(await readFile(path));
  return { bundle, files: Object.fromEntries(bundle.modules.map((m) => [m.path, '/' + m.path])) };
}

export async function inspectInfo(o: InspectOptions): Promise<InspectInfo> {
  const { bundle, files } = await loadTarget(o.path);
  const info: InspectInfo = { signatures_config: bundle.signatures ?? {} };
  if (Object.keys(bundle.manifest).length > 0) info.manifest = bundle.manifest;
  const namespaces: Record<string, string[]> = {};
  const annotations: AnnotationsRef[] = [];
  for (const m of bundle.modules) {
    const r = parseModule(m.source, files[m.path] ?? m.path);
    if (!r.module) throw new Error(r.errors.map((e) => `${e.location?.file ?? ''}:${e.location?.row ?? 0}: ${e.code}: ${e.message}`).join('\n'));
    (namespaces[packageString(r.module)] ??= []).push(files[m.path] ?? m.path);
    if (o.annotations) annotations.push(...annotationsOf(r.module, files[m.path] ?? m.path));
  }
  if (bundle.wasm.length > 0) {
    info.wasm_modules = bundle.wasm.map((w) => ({
      url: '/' + w.path,
      path: '/' + w.path,
      entrypoints: (bundle.manifest.wasm ?? []).filter((x) => x.module.replace(/^\/+/, '') === w.path).map((x) => 'data.' + x.entrypoint.replace(/\//g, '.')),
    }));
  }
  if (Object.keys(namespaces).length > 0) info.namespaces = Object.fromEntries(Object.keys(namespaces).sort().map((k) => [k, namespaces[k]!]));
  if (annotations.length > 0) info.annotations = annotations;
  return info;
}

/** olekukonko/tablewriter's default table: centred upper-case header, left-aligned cells; a repeated first column is shown once. */
function table(headers: string[], rows: string[][], mergeFirst: boolean): string {
  const shown = rows.map((r, i) => (mergeFirst && i > 0 && r[0] === rows[i - 1]![0] ? ['', ...r.slice(1)] : r));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const center = (s: string, w: number): string => {
    const left = Math.floor((w - s.length) / 2);
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
  };
  const head = '|' + headers.map((h, i) => ' ' + center(h.toUpperCase(), widths[i]!) + ' ').join('|') + '|';
  const body = shown.map((r) => '|' + r.map((c, i) => ' ' + c.padEnd(widths[i]!) + ' ').join('|') + '|');
  return [line, head, line, ...body, line].join('\n') + '\n';
}

const truncate = (s: string, max = 50): string => (s.length < max ? s : s.slice(0, max - 3) + '...');

export function prettyInspect(info: InspectInfo, withAnnotations: boolean): string {
  let out = '';
  const m = info.manifest;
  if (m) {
    const rows: string[][] = [];
    if (m.rego_version !== undefined) rows.push(['Rego Version', String(m.rego_version)]);
    if (m.revision) rows.push(['Revision', truncate(m.revision)]);
    const roots = m.roots ?? [];
    if (roots.length === 1 && roots[0] !== '') rows.push(['Roots', truncate(roots[0]!)]);
    else if (roots.length > 1) for (const r of [...roots].sort()) rows.push(['Roots', truncate(r)]);
    if (m.metadata && Object.keys(m.metadata).length > 0) rows.push(['Metadata', truncate(JSON.stringify(m.metadata))]);
    if (rows.length > 0) out += 'MANIFEST:\n' + table(['Field', 'Value'], rows, true);
  }
  if (info.namespaces) {
    const rows = Object.entries(info.namespaces).flatMap(([ns, files]) => files.map((f) => [ns, truncate(f)]));
    out += 'NAMESPACES:\n' + table(['Namespace', 'File'], rows, true);
  }
  if (withAnnotations && info.annotations) {
    out += 'ANNOTATIONS:\n';
    for (const a of info.annotations) {
      const pathString = a.path.slice(1).map((p) => p.value).join('.');
      const title = typeof a.annotations.title === 'string' && a.annotations.title.trim() ? a.annotations.title.trim() : pathString;
      out += `${title}\n${'='.repeat(Math.min(title.length, 80))}\n\n`;
      if (typeof a.annotations.description === 'string' && a.annotations.description) out += `${a.annotations.description}\n\n`;
      if (a.annotations.scope === 'package' || a.annotations.scope === 'subpackages') out += `Package:  ${pathString}\n`;
      else out += `Rule:     ${a.path[a.path.length - 1]?.value ?? ''}\n`;
      out += `Location: ${a.location.file}:${a.location.row}\n`;
      out += `Scope: ${String(a.annotations.scope)}\n`;
      if (a.annotations.entrypoint === true) out += 'Entrypoint: true\n';
      out += '\n';
    }
  }
  return out;
}

export async function runInspect(o: InspectOptions): Promise<CliResult> {
  let info: InspectInfo;
  try {
    info = await inspectInfo(o);
  } catch (e) {
    return { stdout: '', stderr: `error: ${(e as Error).message}\n`, exitCode: 1 };
  }
  if (o.format === 'json') return { stdout: JSON.stringify(info, null, 2) + '\n', stderr: '', exitCode: 0 };
  return { stdout: prettyInspect(info, !!o.annotations), stderr: '', exitCode: 0 };
}
