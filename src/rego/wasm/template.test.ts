// The prepared runtime template: kept on disk (template-cache.ts) and read back without
// binaryen, and the module without exception handling it makes possible.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { SEC, readImports, readSections } from './binary.js';
import { runtimeBytes } from './runtime.js';
import { readTemplate, templateFileName, templateKey, userCacheDir, writeTemplate } from './template-cache.js';
import { FEATURES, loadTemplateFrom } from './template.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'rego-template-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('template cache', () => {
  it('keys templates by runtime content and mode', () => {
    const a = new Uint8Array([1, 2, 3]);
    expect(templateKey(a, 'eh')).toBe(templateKey(new Uint8Array([1, 2, 3]), 'eh'));
    expect(templateKey(a, 'eh')).not.toBe(templateKey(a, 'noeh'));
    expect(templateKey(a, 'eh')).not.toBe(templateKey(new Uint8Array([1, 2, 4]), 'eh'));
    expect(templateFileName(templateKey(a, 'noeh'))).toMatch(/^runtime-template-noeh-[0-9a-f]{24}\.wasm$/);
  });

  it('lives in $XDG_CACHE_HOME, else in ~/.cache, never without a home', () => {
    expect(userCacheDir({ XDG_CACHE_HOME: '/var/cache/u' })).toBe('/var/cache/u/sip-bastion');
    expect(userCacheDir({ XDG_CACHE_HOME: 'relative' })).toMatch(/\/\.cache\/sip-bastion$/);
    expect(userCacheDir({})).toMatch(/\/\.cache\/sip-bastion$/);
    expect(userCacheDir({})).not.toContain('node_modules');
  });

  it('writes whole files, reads them back, and fails softly where it cannot write', () => {
    const dir = tempDir();
    const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    expect(writeTemplate('eh-abc', join(dir, 'c'), bytes)).toBe(true);
    expect(readdirSync(join(dir, 'c'))).toEqual(['runtime-template-eh-abc.wasm']);
    expect(readTemplate('eh-abc', [undefined, join(dir, 'missing'), join(dir, 'c')])).toEqual(bytes);
    expect(readTemplate('eh-other', [join(dir, 'c')])).toBeUndefined();
    writeFileSync(join(dir, 'file'), 'not a directory');
    expect(writeTemplate('eh-abc', join(dir, 'file', 'sub'), bytes)).toBe(false);
    expect(writeTemplate('eh-abc', undefined, bytes)).toBe(false);
  });

  it('removes templates unused for a month when it writes one', () => {
    const dir = tempDir();
    const old = join(dir, 'runtime-template-eh-old.wasm');
    const recent = join(dir, 'runtime-template-noeh-recent.wasm');
    writeFileSync(old, 'x');
    writeFileSync(recent, 'x');
    const longAgo = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    utimesSync(old, longAgo, longAgo);
    expect(writeTemplate('eh-new', dir, new Uint8Array([1]))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['runtime-template-eh-new.wasm', 'runtime-template-noeh-recent.wasm']);
  });

  it('prepares a template when none loads, caches it, and reads the cache next time', async () => {
    const shipped = tempDir();
    const cacheDir = join(tempDir(), 'cache');
    const runtime = runtimeBytes();
    const key = templateKey(runtime, 'eh');
    writeFileSync(join(shipped, templateFileName(key)), 'damaged');
    const first = await loadTemplateFrom({ runtime, mode: 'eh', shipped, cacheDir });
    expect(readdirSync(cacheDir)).toEqual([templateFileName(key)]);
    const again = await loadTemplateFrom({ runtime, mode: 'eh', shipped, cacheDir });
    expect(again.code.length).toBe(first.code.length);
    expect(again.heapBase).toBe(first.heapBase);
  });
});

describe('modules without exception handling', () => {
  const source = 'package t\n\nr := count(input.x)\n';

  it('carry no tag, no `eh` import, and validate without the proposal (a module using it does not)', async () => {
    // binaryen's validator, with the features of a module without exception handling, in a
    // child process (it reports every use of the proposal on stderr)
    const validatesWithoutEH = (...modules: Uint8Array[]): boolean[] => {
      const dir = tempDir();
      const files = modules.map((wasm, i) => {
        const f = join(dir, `m${i}.wasm`);
        writeFileSync(f, wasm);
        return f;
      });
      const script = `
        import { readFileSync } from 'node:fs';
        const b = (await import(${JSON.stringify(import.meta.resolve('binaryen'))})).default;
        const features = ${FEATURES.toString()};
        const out = process.argv.slice(1).map((f) => {
          const m = b.readBinary(readFileSync(f));
          m.setFeatures(features(b, false));
          const ok = m.validate() === 1;
          m.dispose();
          return ok;
        });
        process.stdout.write(JSON.stringify(out));`;
      const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script, ...files], { stdio: ['ignore', 'pipe', 'ignore'] });
      return JSON.parse(stdout.toString()) as boolean[];
    };
    const without = await compile({ modules: [{ file: 't.rego', source }], entrypoints: ['t/r'], exceptionHandling: false });
    const withEH = await compile({ modules: [{ file: 't.rego', source }], entrypoints: ['t/r'] });
    const sections = readSections(without.wasm!);
    expect(sections.some((s) => s.id === SEC.tag)).toBe(false);
    expect(readImports(sections.find((s) => s.id === SEC.import)!.payload).map((i) => i.module)).not.toContain('eh');
    expect(readSections(withEH.wasm!).some((s) => s.id === SEC.tag)).toBe(true);
    expect(validatesWithoutEH(without.wasm!, withEH.wasm!)).toEqual([true, false]);
  });

  it('evaluate as the default modules do, many times over on one instance', async () => {
    const without = await compile({ modules: [{ file: 't.rego', source }], entrypoints: ['t/r'], exceptionHandling: false });
    const policy = await loadPolicy(without.wasm!);
    for (let i = 0; i < 50; i++) {
      expect(policy.evaluate({ x: [1, 2, i] })).toEqual([{ result: 3 }]);
      expect(policy.evaluate({ x: i })).toEqual([]); // count(number): undefined, and unwound
    }
  });
});
