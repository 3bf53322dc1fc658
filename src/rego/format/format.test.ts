// The formatter against the layout rules of OPA's v1/format (the cases of its testfiles,
// rewritten here as small modules of our own) and idempotency on the example policies.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSource } from './index.js';

const fmt = (src: string): string => {
  const r = formatSource(src, 'x.rego');
  if (r.text === undefined) throw new Error(JSON.stringify(r.errors));
  return r.text;
};

/** Input, then the canonical text; every canonical text must also format to itself. */
const CASES: Array<[string, string, string]> = [
  [
    'tabs, := and if; one-line bodies stay on the head line; {} bodies of one expression collapse; `= true` is implied',
    'package t\n\nallowed = true if { input.x > 1 }\n\nq[k] = v if {\n    v := 1\n    k := "one"\n}\n\ns[x] if { x := "a" } # trailing\n',
    'package t\n\nallowed if input.x > 1\n\nq[k] := v if {\n\tv := 1\n\tk := "one"\n}\n\ns[x] if x := "a" # trailing\n',
  ],
  [
    'else: after a closing brace on its line it stays there; on a line of its own (or after a one-line rule) it gets a blank line',
    'package t\n\na := 1 if { input.x } else := 2\n\nb := 1 if {\n  input.x\n  input.y\n} else := 2 if { input.z }\n\nc := 1 if {\n  input.x\n  input.y\n}\nelse := 2\n',
    'package t\n\na := 1 if input.x\n\nelse := 2\n\nb := 1 if {\n\tinput.x\n\tinput.y\n} else := 2 if input.z\n\nc := 1 if {\n\tinput.x\n\tinput.y\n}\n\nelse := 2\n',
  ],
  [
    'ref heads: `if true` bodies dropped, constants of ref heads get := true, contains for sets',
    'package t\n\nx.y.z = "v" if true\nx.y.w contains n if some n in [1, 2]\nm[k].n if { k := 1 }\nm[k].o if { true }\n',
    'package t\n\nx.y.z := "v"\nx.y.w contains n if some n in [1, 2]\nm[k].n if k := 1\nm[k].o := true\n',
  ],
  [
    'a two-term ref head without longer ref heads in the module is written with brackets',
    'package t\n\nobj.field := 1\n\nobj.other := 2\n',
    'package t\n\nobj["field"] := 1\n\nobj["other"] := 2\n',
  ],
  [
    'adjacent one-liners stay grouped; multi-expression rules are separated by blank lines',
    'package t\n\na := 1\nb := 2\nr if input.a\nlong if {\n  input.a\n  input.b\n}\nr if input.b\n',
    'package t\n\na := 1\nb := 2\nr if input.a\n\nlong if {\n\tinput.a\n\tinput.b\n}\n\nr if input.b\n',
  ],
  [
    'imports sorted within groups separated by blank lines; comments on import lines stay',
    'package t\n\nimport data.zeta # last\nimport data.alpha\n\nimport input.b\nimport data.c as cc\n\nx := 1\n',
    'package t\n\nimport data.alpha\nimport data.zeta # last\n\nimport data.c as cc\nimport input.b\n\nx := 1\n',
  ],
  [
    'infix builtins: calls written as functions become operators; nested operators get parentheses',
    'package t\n\nf(x) = x % 2 == 0\n\np if {\n  plus(1, 2, y)\n  z := mul(y, plus(y, 1))\n}\n',
    'package t\n\nf(x) := (x % 2) == 0\n\np if {\n\ty = 1 + 2\n\tz := y * (y + 1)\n}\n',
  ],
  [
    'composites: one line stays one line; the author\'s line breaks keep one element group per line and a trailing comma',
    'package t\n\np := {"a": 1,\n  "b": [1,2,\n  3]}\n\nq := count(\n  [1, 2] # two\n)\n\nr := concat("/",\n  ["x", "y"])\n',
    'package t\n\np := {\n\t"a": 1,\n\t"b": [\n\t\t1, 2,\n\t\t3,\n\t],\n}\n\nq := count([1, 2]) # two\n\nr := concat(\n\t"/",\n\t["x", "y"],\n)\n',
  ],
  [
    'every and comprehensions: one line or a block, as written',
    'package t\n\np if {\n  every x in [1,2] { x > 0 }\n  every k, v in input.m {\n    k != v\n  }\n  s := {y | some y in [1,2]}\n  o := {k: v |\n    some k, v in input.m\n  }\n}\n',
    'package t\n\np if {\n\tevery x in [1, 2] { x > 0 }\n\tevery k, v in input.m {\n\t\tk != v\n\t}\n\ts := {y | some y in [1, 2]}\n\to := {k: v |\n\t\tsome k, v in input.m\n\t}\n}\n',
  ],
  [
    'comments: before rules and expressions, at line ends, blank lines between comment blocks kept once',
    '# head comment\n\n\npackage t\n\n# about p\np if {   # opening\n  input.a   # why a\n\n\n  # before b\n  input.b\n}    \n\n# trailing comment   \n',
    '# head comment\n\npackage t\n\n# about p\np if { # opening\n\tinput.a # why a\n\n\t# before b\n\tinput.b\n}\n\n# trailing comment\n',
  ],
  [
    'in and some: `x in xs`, `k, v in xs`, parentheses where the operator would be ambiguous',
    'package t\n\np if {\n  some x in input.xs\n  some k, v in input.m\n  {1, (2, 3 in [3])}\n  f(1, 2 in [2])\n  x in {1,2}\n}\n\nf(_, _) = true\n',
    'package t\n\np if {\n\tsome x in input.xs\n\tsome k, v in input.m\n\t{1, (2, 3 in [3])}\n\tf(1, 2 in [2])\n\tx in {1, 2}\n}\n\nf(_, _) := true\n',
  ],
  [
    'with: on the expression line, or indented when written on following lines',
    'package t\n\np if {\n  q with input as {"a": 1}\n  q with input as 1\n    with data.x as 2\n}\n\nq := true\n',
    'package t\n\np if {\n\tq with input as {"a": 1}\n\tq with input as 1\n\t\twith data.x as 2\n}\n\nq := true\n',
  ],
  [
    'strings keep their escapes; raw strings and keyword ref keys stay as written; sets',
    'package t["if"]\n\np := "a\\u0041\\t" if { input["not"]; input.not }\nq := `raw\\n`\ne := set()\ns := {3, 1}\n',
    'package t["if"]\n\np := "a\\u0041\\t" if {\n\tinput["not"]\n\tinput.not\n}\n\nq := `raw\\n`\ne := set()\ns := {3, 1}\n',
  ],
  [
    'rego.v1 makes future.keywords imports redundant: they are dropped, their comments kept',
    'package t\n\nimport rego.v1\nimport future.keywords.in # not needed\n\np if 1 in [1]\n',
    'package t\n\nimport rego.v1\n\n# not needed\n\np if 1 in [1]\n',
  ],
  [
    'default rules and functions',
    'package t\n\ndefault allow = false\nallow if input.ok\nf(x) = y if { y := x }\ng(x) if x\n',
    'package t\n\ndefault allow := false\n\nallow if input.ok\nf(x) := y if y := x\ng(x) if x\n',
  ],
  [
    'METADATA blocks are kept with the rule they annotate',
    'package t\n\n# METADATA\n# title: A\n# description: d\np if input.x\n',
    'package t\n\n# METADATA\n# title: A\n# description: d\np if input.x\n',
  ],
];

describe('formatSource (OPA v1/format layout)', () => {
  for (const [name, input, want] of CASES) {
    it(name, () => {
      expect(fmt(input)).toBe(want);
      expect(fmt(want)).toBe(want);
    });
  }

  it('parse errors come back with their location, nothing is written', () => {
    const r = formatSource('package t\n\np if {\n', 'bad.rego');
    expect(r.text).toBeUndefined();
    expect(r.errors[0]).toMatchObject({ code: 'rego_parse_error', location: { file: 'bad.rego', row: 4 } });
  });

  it('comments inside a composite: one goes to the line end; two keep the composite as written', () => {
    expect(fmt('package t\n\nv := {"a": # note\n"b"}\n')).toBe('package t\n\nv := {"a": "b"} # note\n');
    const two = 'package t\n\nv := {"a":  # one\n"b"} # two\n';
    expect(fmt(two)).toBe(two);
  });
});

describe('the example policies', () => {
  const root = fileURLToPath(new URL('../../../policies/', import.meta.url));
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.rego')) files.push(p);
    }
  };
  walk(root);

  it('are canonically formatted, and formatting is idempotent on each', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      const once = fmt(src);
      expect(once, f).toBe(src);
      expect(fmt(once), f).toBe(once);
    }
  });
});
