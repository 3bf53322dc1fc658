// `bastion policy eval|test|check|build|fmt|lint|inspect|replay`, shaped like `opa eval|test|check|build|fmt|inspect`
// (lint like Regal's `regal lint`).
// The work is in src/policy/cli/; this file only maps flags and writes the outputs.
// Each subcommand imports its module when it runs: a cold `policy test` loads nothing of build,
// lint or replay.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliResult } from '../../policy/cli/common.js';
import type { EvalFormat } from '../../policy/cli/eval.js';
import { prewarm } from '../../policy/cli/tester/evaluator.js';
import { SUMMARIES } from './summaries.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];
/** `-O 2`, `-O2` and OPA's `-O=2`. */
function optimizeLevel(v: string): number {
  const n = Number(v.replace(/^=/, ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('optimization level must be a non-negative integer');
  return n;
}

/** Go's strconv.ParseBool for `--flag=false` style options. */
const goBool = (v: string | boolean | undefined): boolean => v === undefined || v === true || ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(String(v));

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function emit(r: CliResult): void {
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  process.exitCode = r.exitCode;
}

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description(SUMMARIES.policy);

  policy
    .command('eval')
    .description('evaluate a Rego query (compiled to WASM, evaluated by @open-policy-agent/opa-wasm)')
    .argument('<query>', 'Rego query, e.g. data.sip.decision')
    .option('-d, --data <path>', 'policy or data file or directory (repeatable)', collect, [])
    .option('-b, --bundle <path>', 'bundle directory or .tar.gz (repeatable)', collect, [])
    .option('-i, --input <path>', 'input document (JSON or YAML)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json', 'pretty', 'raw', 'values', 'bindings']).default('json'))
    .option('--fail', 'exit 1 if the result is undefined')
    .option('--fail-defined', 'exit 1 if the result is defined')
    .option('--strict', 'enable compiler strict mode')
    .option('--no-strict-builtin-errors', "OPA's default: a failing builtin call is undefined (default here: an error, as in the gateway)")
    .option('-s, --schema <path>', 'set schema file path or directory path')
    .option('--no-sip-schemas', "do not type input of packages under sip with the gateway's input schema")
    .action(async (query: string, o: { data: string[]; bundle: string[]; input?: string; format: EvalFormat; fail?: boolean; failDefined?: boolean; strict?: boolean; strictBuiltinErrors: boolean; schema?: string; sipSchemas: boolean }) => {
      emit(await (await import('../../policy/cli/eval.js')).runEval({ query, data: o.data, bundles: o.bundle, input: o.input, format: o.format, fail: o.fail, failDefined: o.failDefined, strict: o.strict, strictBuiltinErrors: o.strictBuiltinErrors, schema: o.schema, sipSchemas: o.sipSchemas }));
    });

  policy
    .command('test')
    .description('run test_* rules through the compiled WASM, as opa test (exit 0 all passed, 2 a test failed or the coverage threshold was missed, 1 load/compile error)')
    .argument('<paths...>', 'policy and data files or directories')
    .option('-b, --bundle', 'load paths as bundle files or root directories')
    .option('-v, --verbose', 'set verbose reporting mode')
    .option('-r, --run <regex>', 'run only test cases matching the regular expression (full name data.pkg.test_x)')
    .addOption(new Option('-f, --format <format>', 'set output format').choices(['pretty', 'json', 'gobench']).default('pretty'))
    .option('-c, --coverage', 'report coverage (OPA JSON format)')
    .option('--threshold <percent>', 'set coverage threshold and exit with non-zero status if coverage is less than threshold % (turns coverage on)', (v) => Number(v), 0)
    .option('-z, --exit-zero-on-skipped', 'skipped tests return status 0')
    .option('--timeout <duration>', 'set test timeout (default 5s, 30s when benchmarking)')
    .option('--count <n>', 'number of times to repeat each test', (v) => Number.parseInt(v, 10), 1)
    .option('--ignore <names>', "set file and directory names to ignore during loading (e.g., '.*' excludes hidden files); comma-separated, repeatable", (v: string, prev: string[]) => [...prev, ...v.split(',')], [])
    .option('--fail-on-empty', 'Whether to fail the test when no test was run')
    .option('--bench', 'benchmark the unit tests')
    .option('--strict', 'enable compiler strict mode')
    .option('--no-strict-builtin-errors', "OPA's default: a failing builtin call is undefined (default here: an error, as in the gateway)")
    .option('-s, --schema <path>', 'set schema file path or directory path')
    .option('--no-sip-schemas', "do not type input of packages under sip with the gateway's input schema")
    .addOption(new Option('--explain <mode>', 'enable query explanations (turns on -v)').choices(['fails', 'notes', 'full']))
    .option('--var-values', 'show local variable values in test output')
    .action(
      async (
        paths: string[],
        o: { explain?: 'fails' | 'notes' | 'full'; varValues?: boolean; schema?: string; sipSchemas: boolean; bundle?: boolean; verbose?: boolean; run?: string; format: 'pretty' | 'json' | 'gobench'; coverage?: boolean; threshold: number; exitZeroOnSkipped?: boolean; timeout?: string; count: number; ignore: string[]; failOnEmpty?: boolean; bench?: boolean; strict?: boolean; strictBuiltinErrors: boolean },
      ) => {
        prewarm(); // the evaluation worker boots while the test runner loads and the tests compile
        emit(
          await (await import('../../policy/cli/test.js')).runTestCommand({
            paths,
            bundle: o.bundle,
            verbose: o.verbose,
            run: o.run,
            format: o.format,
            coverage: o.coverage,
            threshold: o.threshold,
            exitZeroOnSkipped: o.exitZeroOnSkipped,
            timeout: o.timeout,
            count: o.count,
            ignore: o.ignore,
            failOnEmpty: o.failOnEmpty,
            bench: o.bench,
            explain: o.explain,
            varValues: o.varValues,
            strict: o.strict,
            strictBuiltinErrors: o.strictBuiltinErrors,
            schema: o.schema,
            sipSchemas: o.sipSchemas,
          }),
        );
      },
    );
  policy
    .command('fmt')
    .description("format Rego source files in OPA's canonical layout (stdin without paths)")
    .argument('[paths...]', 'files or directories (.rego files are formatted)')
    .option('-w, --write', 'overwrite the original source file')
    .option('-l, --list', 'list all files who would change when formatted')
    .option('-d, --diff', 'only display a diff of the changes')
    .option('--fail', 'non zero exit code on reformat')
    .option('--check-result [bool]', 'assert that the formatted code is valid and can be successfully parsed (default true)')
    .action(async (paths: string[], o: { write?: boolean; list?: boolean; diff?: boolean; fail?: boolean; checkResult?: string | boolean }) => {
      emit(await (await import('../../policy/cli/fmt.js')).runFmt({ paths, write: o.write, list: o.list, diff: o.diff, fail: o.fail, checkResult: goBool(o.checkResult), stdin: readStdin }));
    });
  policy
    .command('lint')
    .description('find mistakes that compile (rule names, categories and report formats of Regal; exit 3 on errors)')
    .argument('<paths...>', 'policy and data files or directories')
    .addOption(new Option('-f, --format <format>', 'set output format').choices(['pretty', 'compact', 'json', 'github']).default('pretty'))
    .addOption(new Option('-l, --fail-level <level>', 'set level at which to fail with a non-zero exit code').choices(['error', 'warning']).default('error'))
    .option('-d, --disable <rule>', 'disable specific rule(s) (repeatable)', collect, [])
    .option('-D, --disable-all', 'disable all rules')
    .option('--disable-category <category>', 'disable all rules in a category (repeatable)', collect, [])
    .option('-e, --enable <rule>', 'enable specific rule(s) (repeatable)', collect, [])
    .option('--enable-category <category>', 'enable all rules in a category (repeatable)', collect, [])
    .option('--no-color', 'disable color output (the output is never coloured)')
    .action(
      async (
        paths: string[],
        o: { format: 'pretty' | 'compact' | 'json' | 'github'; failLevel: 'error' | 'warning'; disable: string[]; disableAll?: boolean; disableCategory: string[]; enable: string[]; enableCategory: string[] },
      ) => {
        emit(await (await import('../../policy/cli/lint/lint.js')).runLint({ paths, format: o.format, failLevel: o.failLevel, disable: o.disable, disableAll: o.disableAll, disableCategory: o.disableCategory, enable: o.enable, enableCategory: o.enableCategory }));
      },
    );
  policy
    .command('check')
    .description('parse and compile policies; errors as file:line:col: code: message (exit 1 on any)')
    .argument('<paths...>', 'policy files or directories')
    .option('-b, --bundle', 'load paths as bundle files or root directories')
    .option('-S, --strict', 'enable compiler strict mode')
    .option('-s, --schema <path>', 'set schema file path or directory path')
    .option('--no-sip-schemas', "do not type input of packages under sip with the gateway's input schema")
    .addOption(new Option('-f, --format <format>', 'output format').choices(['pretty', 'json']).default('pretty'))
    .action(async (paths: string[], o: { bundle?: boolean; strict?: boolean; format: 'pretty' | 'json'; schema?: string; sipSchemas: boolean }) => {
      const common = { strict: o.strict, format: o.format, schema: o.schema, sipSchemas: o.sipSchemas };
      emit(await (await import('../../policy/cli/check.js')).runCheck(o.bundle ? { paths: [], bundles: paths, ...common } : { paths, ...common }));
    });

  policy
    .command('build')
    .description('build an OPA bundle (-t wasm: .manifest, /policy.wasm, data.json, sources; -t rego: sources and data)')
    .argument('<paths...>', 'policy and data files or directories')
    .option('-e, --entrypoint <path>', 'set slash separated entrypoint path (repeatable)', collect, [])
    .option('-o, --output <file>', 'set the output filename', 'bundle.tar.gz')
    .option('-r, --revision <rev>', 'set output bundle revision')
    .addOption(new Option('-t, --target <target>', 'set the output bundle target type (wasm: what the gateway runs)').choices(['wasm', 'rego']).default('wasm'))
    .option('-b, --bundle', 'load paths as bundle files or root directories')
    .option('-O, --optimize <level>', 'set optimization level (0: none; 1, 2: binaryen optimizes the WASM module)', (v) => optimizeLevel(v), 0)
    .option('--ignore <names>', 'set file and directory names to ignore during loading (comma-separated, repeatable)', (v: string, prev: string[]) => [...prev, ...v.split(',')], [])
    .option('--signing-key <key>', 'set the secret (HMAC) or path of the PEM file containing the private key (RSA and ECDSA)')
    .option('--signing-alg <alg>', 'name of the signing algorithm', 'RS256')
    .option('--verification-key-id <id>', 'name assigned to the key (the signature\'s kid)', 'default')
    .option('--claims-file <file>', 'set path of JSON file containing optional claims')
    .option('--strict', 'enable compiler strict mode')
    .option('--no-strict-builtin-errors', "OPA's default: a failing builtin call is undefined (default here: an error, as in the gateway)")
    .option('-s, --schema <path>', 'set schema file path or directory path')
    .option('--no-sip-schemas', "do not type input of packages under sip with the gateway's input schema")
    .option('--wasm-include-print', 'enable print statements inside of WebAssembly modules compiled by the compiler')
    .action(
      async (
        paths: string[],
        o: { wasmIncludePrint?: boolean; schema?: string; sipSchemas: boolean; entrypoint: string[]; output: string; revision?: string; target: 'wasm' | 'rego'; bundle?: boolean; optimize: number; ignore: string[]; signingKey?: string; signingAlg: string; verificationKeyId: string; claimsFile?: string; strict?: boolean; strictBuiltinErrors: boolean },
      ) => {
        emit(
          await (await import('../../policy/cli/build.js')).runBuild({
            paths,
            bundle: o.bundle,
            entrypoints: o.entrypoint,
            output: o.output,
            revision: o.revision,
            target: o.target,
            optimize: o.optimize,
            ignore: o.ignore,
            signingKey: o.signingKey,
            signingAlg: o.signingAlg,
            keyId: o.verificationKeyId,
            claimsFile: o.claimsFile,
            print: o.wasmIncludePrint,
            strict: o.strict,
            strictBuiltinErrors: o.strictBuiltinErrors,
            schema: o.schema,
            sipSchemas: o.sipSchemas,
          }),
        );
      },
    );
  policy
    .command('replay')
    .description('decide every logged input again with a candidate policy and show the decisions that would change (exit 2 when any did)')
    .requiredOption('--log <file>', 'gateway decision log (JSON lines; needs log.decision_input: true)')
    .requiredOption('--policy <path>', 'candidate policy: folder of .rego files or bundle .tar.gz')
    .option('-e, --entrypoint <path>', 'decision entrypoint', 'sip/decision')
    .option('-n, --examples <n>', 'number of changed decisions to show', (v) => Number.parseInt(v, 10), 10)
    .addOption(new Option('-f, --format <format>', 'output format').choices(['pretty', 'json']).default('pretty'))
    .action(async (o: { log: string; policy: string; entrypoint: string; examples: number; format: 'pretty' | 'json' }) => {
      emit(await (await import('../../policy/cli/replay.js')).runReplay({ log: o.log, policy: o.policy, entrypoint: o.entrypoint, examples: o.examples, format: o.format }));
    });
  policy
    .command('inspect')
    .description("summarize a bundle (file or directory) or a .rego file: manifest, namespaces, annotations (like opa inspect)")
    .argument('<path>', 'bundle .tar.gz, bundle directory or .rego file')
    .addOption(new Option('-f, --format <format>', 'set output format').choices(['pretty', 'json']).default('pretty'))
    .option('-a, --annotations', 'list annotations')
    .action(async (path: string, o: { format: 'pretty' | 'json'; annotations?: boolean }) => {
      emit(await (await import('../../policy/cli/inspect.js')).runInspect({ path, format: o.format, annotations: o.annotations }));
    });
}
