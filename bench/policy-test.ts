// `bastion policy test policies/` end to end (load, parse, compile all test_* rules to one WASM
// module, evaluate each through the SDK), repeated; then per-test evaluation times.
// Figures are printed, never asserted.
import { fileURLToPath } from 'node:url';
import { runTests } from '../src/policy/cli/test.js';

const policies = fileURLToPath(new URL('../policies/', import.meta.url));
const runs = 5;
const totals: number[] = [];
const compiles: number[] = [];
let last: Awaited<ReturnType<typeof runTests>> | undefined;
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  last = await runTests({ paths: [policies] });
  totals.push(Number(process.hrtime.bigint() - t0) / 1e6);
  compiles.push((last.compileNs ?? 0) / 1e6);
  if (last.errors.length) throw new Error(last.errors.map((e) => e.message).join('\n'));
}
const tests = last!.results;
const failing = tests.filter((r) => r.fail || r.error).length;
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`policy test policies/: ${tests.length} tests (${failing} failing), ${runs} runs`);
console.log(`  end to end      median ${med(totals).toFixed(1)} ms  (first run ${totals[0]!.toFixed(1)} ms)`);
console.log(`  compile to WASM median ${med(compiles).toFixed(1)} ms`);
const per = tests.filter((r) => !r.skip).map((r) => r.duration / 1e3);
console.log(`  per test        median ${med(per).toFixed(1)} µs, max ${Math.max(...per).toFixed(1)} µs, sum ${per.reduce((a, b) => a + b, 0).toFixed(0)} µs`);

const cov = await runTests({ paths: [policies], coverage: true });
console.log(`  with --coverage: ${cov.coverage?.coverage.toFixed(1)} % of ${(cov.coverage?.covered_lines ?? 0) + (cov.coverage?.not_covered_lines ?? 0)} lines, compile ${((cov.compileNs ?? 0) / 1e6).toFixed(1)} ms`);
