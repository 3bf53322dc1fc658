// rand.intn, test.sleep (OPA's test helper) and rego.parse_module.
import { randomInt } from 'node:crypto';
import { parseModule } from '../parser/index.js';
import { builtinError, int, str } from './errors.js';
import { perEvaluation } from './eval-scope.js';
import type { BuiltinTable } from './types.js';

/**
 * Our AST in OPA's JSON shape, approximately: terms become {type, value}, locations are dropped.
 * Enough for the common reads (`module.package.path`, rule heads); not a byte-exact copy of OPA's.
 */
function toOpaJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toOpaJson);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // a Term: {value: {type, value}, location?}
    if ('value' in o && o.value && typeof o.value === 'object' && 'type' in (o.value as object) && Object.keys(o).every((k) => k === 'value' || k === 'location')) {
      return toOpaJson(o.value);
    }
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(o)) {
      if (k === 'location' || k === 'file' || e === undefined) continue;
      out[k] = toOpaJson(e);
    }
    return out;
  }
  return v;
}

let sleepCell: Int32Array | undefined;

export const miscBuiltins: BuiltinTable = {
  'rand.intn': (s, n) => {
    const name = 'rand.intn';
    const key = str(name, s, 1);
    let max = int(name, n, 2);
    if (max === 0) return 0;
    if (max < 0) max = -max;
    if (max > 2 ** 48) throw builtinError(name, 'operand 2 too large');
    return perEvaluation(`rand.intn\u0000${key}\u0000${max}`, () => randomInt(max));
  },
  // OPA registers test.sleep for its own tests; a blocking wait, bounded to 10 s.
  'test.sleep': (d) => {
    const name = 'test.sleep';
    const text = str(name, d, 1);
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(text);
    if (!m) throw builtinError(name, `time: invalid duration ${JSON.stringify(text)}`);
    const ms = Number(m[1]) * { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[m[2] as 'ms'];
    sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(sleepCell, 0, 0, Math.min(ms, 10_000));
    return null;
  },
  'rego.parse_module': (filename, source) => {
    const name = 'rego.parse_module';
    const file = str(name, filename, 1);
    const text = str(name, source, 2);
    const r = parseModule(text, file);
    if (!r.module || r.errors.length > 0) {
      const e = r.errors[0];
      throw builtinError(name, e ? `${e.code}: ${e.message}` : 'rego_parse_error: empty module');
    }
    return toOpaJson({ package: r.module.package, imports: r.module.imports.length ? r.module.imports : undefined, rules: r.module.rules });
  },
};
