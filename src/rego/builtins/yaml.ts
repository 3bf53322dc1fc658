// yaml.is_valid, yaml.unmarshal and yaml.marshal with OPA's semantics (topdown/encoding.go over
// sigs.k8s.io/yaml, i.e. go-yaml v2: YAML 1.1 scalars such as yes/no/on/off, first document only,
// timestamps kept as strings, duplicate keys last-wins). Differences from the SDK's own yaml.*:
// yaml.is_valid of a non-string is false (SDK: undefined) and a malformed document is an
// eval_builtin_error in yaml.unmarshal (SDK: undefined). The SDK's builtins shadow same-named
// customBuiltins, so policies reach these through HOST_BUILTIN_ALIASES (see host.ts).
import YAML from 'yaml';
import { builtinError, str } from './errors.js';
import type { BuiltinTable } from './types.js';

const PARSE_OPTIONS = {
  version: '1.1' as const,
  uniqueKeys: false,
  // go-yaml leaves timestamps as strings when decoding into interface{}
  customTags: (tags: YAML.Tags) => tags.filter((t) => !String((t as { tag?: string }).tag).endsWith(':timestamp')),
};

/** go-yaml's wording for the common syntax errors, `line N: ...` as Go prints it. */
function goMessage(e: YAML.YAMLError): string {
  const line = e.linePos?.[0]?.line ?? 1;
  const first = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  let text = first;
  if (/^Flow sequence must end with a \]/.test(first)) text = "did not find expected ',' or ']'";
  else if (/^Flow map (in block collection )?must .*end with a \}/.test(first)) text = "did not find expected ',' or '}'";
  else if (/^Flow sequence in block collection must .*end with a \]/.test(first)) text = "did not find expected ',' or ']'";
  else if (/^Missing closing .?quote/.test(first)) text = 'found unexpected end of stream';
  else if (e.code === 'TAB_AS_INDENT') text = 'found character that cannot start any token';
  return `yaml: line ${line}: ${text}`;
}

type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

function parse(text: string): Parsed {
  let docs: YAML.Document.Parsed[];
  try {
    const all = YAML.parseAllDocuments(text, PARSE_OPTIONS);
    docs = Array.isArray(all) ? all : [all as unknown as YAML.Document.Parsed];
  } catch (e) {
    return { ok: false, message: `yaml: ${(e as Error).message.split('\n')[0]}` };
  }
  if (docs.length === 0) return { ok: true, value: null };
  const doc = docs[0];
  if (doc.errors.length > 0) return { ok: false, message: goMessage(doc.errors[0]) };
  try {
    return { ok: true, value: jsonSafe(doc.toJS({ maxAliasCount: 1000 })) };
  } catch (e) {
    return { ok: false, message: `yaml: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** What the YAML->JSON conversion leaves: map keys as strings, no undefined/NaN/Infinity. */
function jsonSafe(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`json: unsupported value: ${v}`);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, e]) => [String(k), jsonSafe(e)]));
  if (v instanceof Set) return [...v].map(jsonSafe);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, jsonSafe(e)]));
  return v;
}

export const yamlBuiltins: BuiltinTable = {
  'yaml.is_valid': (x) => typeof x === 'string' && parse(x).ok,
  'yaml.unmarshal': (x) => {
    const name = 'yaml.unmarshal';
    const r = parse(str(name, x, 1));
    if (!r.ok) throw builtinError(name, `error converting YAML to JSON: ${r.message}`);
    return r.value;
  },
  // go-yaml v2 output: keys sorted, sequences not indented below their key.
  'yaml.marshal': (x) => YAML.stringify(x, { indentSeq: false, sortMapEntries: true, version: '1.1', lineWidth: 0 }),
};
