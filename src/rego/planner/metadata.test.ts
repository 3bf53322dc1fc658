import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';

async function evalQuery(modules: string[], query: string): Promise<unknown> {
  const r = await compile({ modules: modules.map((source, i) => ({ file: `m${i}.rego`, source })), queries: [{ name: 'q', query }] });
  expect(r.errors).toEqual([]);
  const policy = await loadPolicy(r.wasm!);
  return policy.evaluate({}, 'q');
}

describe('rego.metadata.chain() / rego.metadata.rule() folded from METADATA annotations', () => {
  const root = `# METADATA
# scope: subpackages
# organizations: [Acme]
package acme
`;
  const pkg = `# METADATA
# title: Edge rules
# related_resources:
# - https://example.test/doc
# - ref: https://example.test/more
#   description: More
package acme.edge

# METADATA
# scope: document
# description: whether the peer is allowed
allow := false if { false }

# METADATA
# title: The real allow
# authors:
# - Jane Doe <jane@example.test>
# - name: Bob
# custom:
#   severity: high
allow := x if {
  x := {"chain": rego.metadata.chain(), "rule": rego.metadata.rule()}
}

plain := rego.metadata.rule()

f(a) := [a, rego.metadata.chain()]
`;

  it('gives the rule, document, package and subpackages entries, closest first', async () => {
    const got = (await evalQuery([root, pkg], 'x = data.acme.edge.allow')) as Array<{ x: { chain: unknown[]; rule: unknown } }>;
    const { chain, rule } = got[0].x;
    expect(chain).toEqual([
      { path: ['acme', 'edge', 'allow'], annotations: { scope: 'rule', title: 'The real allow', authors: [{ name: 'Jane Doe', email: 'jane@example.test' }, { name: 'Bob' }], custom: { severity: 'high' } } },
      { path: ['acme', 'edge', 'allow'], annotations: { scope: 'document', description: 'whether the peer is allowed' } },
      {
        path: ['acme', 'edge'],
        annotations: { scope: 'package', title: 'Edge rules', related_resources: [{ ref: 'https://example.test/doc' }, { ref: 'https://example.test/more', description: 'More' }] },
      },
      { path: ['acme'], annotations: { scope: 'subpackages', organizations: ['Acme'] } },
    ]);
    expect(rule).toEqual(chain[0] && (chain[0] as { annotations: unknown }).annotations);
  });

  it('a rule without its own block: chain starts with a bare path entry, rule() is {}', async () => {
    expect(await evalQuery([root, pkg], 'x = data.acme.edge.plain')).toEqual([{ x: {} }]);
    const got = (await evalQuery([root, pkg], 'x = data.acme.edge.f(1)')) as Array<{ x: [number, unknown[]] }>;
    expect(got[0].x[0]).toBe(1);
    expect(got[0].x[1][0]).toEqual({ path: ['acme', 'edge', 'f'] });
    expect(got[0].x[1]).toHaveLength(3); // bare entry, package, subpackages
  });

  it('rule() falls back to the document-scope block', async () => {
    const src = `package d
# METADATA
# scope: document
# title: Doc
p := rego.metadata.rule() if { true }
`;
    expect(await evalQuery([src], 'x = data.d.p')).toEqual([{ x: { scope: 'document', title: 'Doc' } }]);
  });
});
