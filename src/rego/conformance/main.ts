// `npm run conformance -- [topic-or-file ...] [--dir <path>] [--core|--builtins] [--slow] [--no-eh] [--verbose]`
// --no-eh compiles modules without the WASM exception-handling proposal; --error-text also
// requires an expected error's text in the message (the project's own cases in test/rego-cases).
// Prints a table per topic and, as its last line, {"passed":N,"failed":N,"errored":N,"total":N}.
import { readFileSync } from 'node:fs';
import { CORE_TOPICS, defaultSuiteDir, loadCases } from './cases.js';
import { runCase, tally, type CaseResult } from './runner.js';

interface Args { dir: string; selectors: string[]; group?: 'core' | 'builtins'; slow: boolean; noEh: boolean; errorText: boolean; verbose: boolean }

function parseArgs(argv: string[]): Args {
  const args: Args = { dir: defaultSuiteDir(), selectors: [], slow: false, noEh: false, errorText: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir') args.dir = argv[++i];
    else if (a === '--core') args.group = 'core';
    else if (a === '--builtins') args.group = 'builtins';
    else if (a === '--slow') args.slow = true;
    else if (a === '--no-eh') args.noEh = true;
    else if (a === '--error-text') args.errorText = true;
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else args.selectors.push(a);
  }
  return args;
}

function loadExclusions(): Record<string, string> {
  const raw = JSON.parse(readFileSync(new URL('./exclusions.json', import.meta.url), 'utf8')) as Record<string, string>;
  delete raw.$comment;
  return raw;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let cases = loadCases(args.dir, args.selectors);
  if (args.group === 'core') cases = cases.filter((c) => CORE_TOPICS.has(c.topic));
  if (args.group === 'builtins') cases = cases.filter((c) => !CORE_TOPICS.has(c.topic));
  const exclusions = loadExclusions();
  const hostBuiltins = await loadHostBuiltins();
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runCase(c, { slowPath: args.slow, exclusions, hostBuiltins, exceptionHandling: !args.noEh, checkErrorText: args.errorText });
    results.push(r);
    if (args.verbose && r.outcome !== 'passed') console.log(`${r.outcome.toUpperCase()} ${r.note}: ${r.detail ?? ''}`);
  }
  const byTopic = new Map<string, CaseResult[]>();
  for (const r of results) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
  console.log(`${'topic'.padEnd(44)} ${'pass'.padStart(5)} ${'fail'.padStart(5)} ${'err'.padStart(5)} ${'excl'.padStart(5)} ${'total'.padStart(5)}`);
  for (const [topic, rs] of [...byTopic].sort(([a], [b]) => a.localeCompare(b))) {
    const t = tally(rs);
    const kind = CORE_TOPICS.has(topic) ? 'core' : 'builtin';
    console.log(`${`${topic} (${kind})`.padEnd(44)} ${String(t.passed).padStart(5)} ${String(t.failed).padStart(5)} ${String(t.errored).padStart(5)} ${String(t.excluded).padStart(5)} ${String(t.total).padStart(5)}`);
  }
  const core = tally(results.filter((r) => CORE_TOPICS.has(r.topic)));
  const builtins = tally(results.filter((r) => !CORE_TOPICS.has(r.topic)));
  console.log(`core: ${core.passed}/${core.total} passed; builtins: ${builtins.passed}/${builtins.total} passed; excluded: ${core.excluded + builtins.excluded}`);
  const t = tally(results);
  console.log(JSON.stringify({ passed: t.passed, failed: t.failed, errored: t.errored, total: t.total }));
}

/** The project's host builtins (issue 5), one set per strictness. */
async function loadHostBuiltins(): Promise<(strict: boolean) => Record<string, (...args: unknown[]) => unknown>> {
  const { createHostBuiltins } = await import('../builtins/host.js');
  const sets = new Map([true, false].map((strict) => [strict, createHostBuiltins({ strict }) as Record<string, (...args: unknown[]) => unknown>]));
  return (strict) => sets.get(strict)!;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
