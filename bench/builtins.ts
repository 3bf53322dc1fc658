// Host builtin figures (printed, not asserted): `npx tsx bench/builtins.ts`.
// µs per call of regex.match, glob.match, net.cidr_contains and crypto.x509.parse_certificates
// (3-certificate chain made with openssl): first called directly on the host table, then through
// a module compiled by our compiler and evaluated by the official SDK (host call + marshalling).
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compile } from '../src/rego/index.js';
import { hostBuiltins } from '../src/rego/builtins/host.js';
import { makeChain } from '../src/rego/builtins/testing/pki.js';

const chain = makeChain();
const chainPem = chain.leafPem + chain.intermediatePem + chain.rootPem;

interface Case {
  name: string;
  args: unknown[];
  rego: string; // rule body computing `r` from input.a, input.b, input.c
  input: Record<string, unknown>;
  iterations: number;
}

const cases: Case[] = [
  { name: 'regex.match', args: ['^sips?:[a-z0-9.-]+@example\\.(com|org)$', 'sip:alice@example.com'], rego: 'r := regex.match(input.a, input.b)', input: { a: '^sips?:[a-z0-9.-]+@example\\.(com|org)$', b: 'sip:alice@example.com' }, iterations: 100_000 },
  { name: 'glob.match', args: ['*.trunk.example.com', ['.'], 'edge1.trunk.example.com'], rego: 'r := glob.match(input.a, input.b, input.c)', input: { a: '*.trunk.example.com', b: ['.'], c: 'edge1.trunk.example.com' }, iterations: 100_000 },
  { name: 'net.cidr_contains', args: ['10.20.0.0/16', '10.20.30.40'], rego: 'r := net.cidr_contains(input.a, input.b)', input: { a: '10.20.0.0/16', b: '10.20.30.40' }, iterations: 100_000 },
  { name: 'crypto.x509.parse_certificates (3 certs)', args: [chainPem], rego: 'r := count(crypto.x509.parse_certificates(input.a))', input: { a: chainPem }, iterations: 3_000 },
];

function time(iterations: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(1000, iterations / 10); i++) fn(); // warm-up
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000 / iterations);
  }
  return best;
}

console.log(`${'builtin'.padEnd(42)} ${'host call µs'.padStart(13)} ${'compiled eval µs'.padStart(17)}`);
for (const c of cases) {
  const fn = hostBuiltins[c.name.split(' ')[0]];
  const direct = time(c.iterations, () => fn(...c.args));
  let viaWasm = 'n/a';
  try {
    const compiled = await compile({ modules: [{ file: 'bench.rego', source: `package bench\n\n${c.rego}\n` }], entrypoints: ['bench/r'] });
    if (!compiled.wasm) throw new Error(compiled.errors.map((e) => e.message).join('; '));
    const policy = await loadPolicy(compiled.wasm, undefined, hostBuiltins as never);
    const check = policy.evaluate(c.input, 'bench/r') as Array<{ result: unknown }>;
    if (!Array.isArray(check) || check.length !== 1) throw new Error(`unexpected result ${JSON.stringify(check)}`);
    viaWasm = time(Math.ceil(c.iterations / 2), () => policy.evaluate(c.input, 'bench/r')).toFixed(2);
  } catch (err) {
    viaWasm = `n/a (${(err as Error).message.slice(0, 60)})`;
  }
  console.log(`${c.name.padEnd(42)} ${direct.toFixed(2).padStart(13)} ${viaWasm.padStart(17)}`);
}
