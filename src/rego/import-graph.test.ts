// The shape of the toolchain's import graph, checked on the sources (every `import`, `export
// ... from` and `import()` with a relative specifier, type-only imports included):
//  - no import cycles in src/rego (the AssemblyScript runtime included);
//  - src/rego imports nothing else of the project;
//  - the rest of src/ reaches the toolchain through src/rego/index.ts only (tests and testing/
//    helpers may reach further);
//  - what the build compiles (tsconfig.build.json and everything it imports) holds no dev tool;
//  - the package exports the toolchain as `sip-bastion/rego` (index.ts) and nothing deeper.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const rego = join(root, 'src/rego');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The project files a source file imports (relative specifiers resolved; packages ignored). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const base = resolve(dirname(file), fileName);
    const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
    const hit = candidates.find((c) => c.endsWith('.ts') && existsSync(c));
    if (hit) out.push(hit);
  }
  return out;
}

/** Strongly connected components with more than one file (or a file importing itself). */
function cycles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.map((f) => relative(root, f)).sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

const isTestOnly = (f: string) => f.endsWith('.test.ts') || f.split('/').includes('testing');

/** Development tools of the toolchain: run with tsx from the sources, never shipped. */
const DEV_TOOLS = [
  'src/rego/ir/interp.ts',
  'src/rego/ir/print.ts',
  'src/rego/planner/debug-case.ts',
  'src/rego/planner/interp-conformance.ts',
  'src/rego/wasm/eval-profile.ts',
  'src/rego/wasm/test-helpers.ts',
  'src/rego/runtime/builtins-test-helpers.ts',
  'src/rego/conformance/',
];

describe('the import graph', () => {
  it('has no cycles in src/rego', () => {
    expect(cycles(tsFiles(rego))).toEqual([]);
  });

  it('finds a cycle when there is one (type-only and extensionless imports included)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-graph-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport type A = B;\n");
      writeFileSync(join(dir, 'b.ts'), 'import { c } from "./c";\nexport type B = number;\nexport const x = c;\n');
      writeFileSync(join(dir, 'c.ts'), "export const c = 1;\nexport const a = () => import('./a.js');\n");
      expect(cycles(['a.ts', 'b.ts', 'c.ts'].map((f) => join(dir, f)))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps src/rego free of the rest of the project', () => {
    const escapes = tsFiles(rego).flatMap((f) => importsOf(f).filter((i) => !i.startsWith(rego + '/')).map((i) => `${relative(root, f)} -> ${relative(root, i)}`));
    expect(escapes).toEqual([]);
  });

  it('lets the rest of src/ use the toolchain through src/rego/index.ts only', () => {
    const index = join(rego, 'index.ts');
    const others = tsFiles(join(root, 'src')).filter((f) => !f.startsWith(rego + '/') && !isTestOnly(f));
    const reaching = others.flatMap((f) => importsOf(f).filter((i) => i.startsWith(rego + '/') && i !== index).map((i) => `${relative(root, f)} -> ${relative(root, i)}`));
    expect(reaching).toEqual([]);
    expect(others.some((f) => importsOf(f).includes(index))).toBe(true);
  });

  it('exports the toolchain from the package as its index (`sip-bastion/rego`) and nothing else of it', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string> };
    const rego = Object.entries(pkg.exports).filter(([, target]) => target.startsWith('./dist/src/rego/'));
    expect(rego).toEqual([['./rego', './dist/src/rego/index.js']]);
    expect(Object.values(pkg.exports).every((t) => !t.includes('*'))).toBe(true);
  });

  it('builds no dev tool, test or testing helper into dist/', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(String(d.messageText));
      },
    })!;
    const built = new Set<string>();
    const todo = config.fileNames.map((f) => resolve(f));
    while (todo.length > 0) {
      const f = todo.pop()!;
      if (built.has(f)) continue;
      built.add(f);
      todo.push(...importsOf(f));
    }
    const shipped = [...built].map((f) => relative(root, f));
    expect(shipped).toContain('src/rego/index.ts');
    expect(shipped.filter((f) => isTestOnly(f) || DEV_TOOLS.some((d) => (d.endsWith('/') ? f.startsWith(d) : f === d)))).toEqual([]);
  });
});
