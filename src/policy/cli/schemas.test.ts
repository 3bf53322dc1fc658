// `-s/--schema` and the gateway's default schema for `sip` packages, through the commander
// program in-process: check, test and build refuse a reference the input document cannot have,
// naming file and line as OPA's rego_type_error does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bastion } from '../../cli/testing/run-cli.js';
import { compilerReady } from '../testing/compiler-ready.js';

const ready = await compilerReady();
const schemasDir = fileURLToPath(new URL('../../../schemas/', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-schemas-'));
  await mkdir(join(dir, 'sip'), { recursive: true });
  await mkdir(join(dir, 'other'), { recursive: true });
  await mkdir(join(dir, 'set'), { recursive: true });
  await writeFile(join(dir, 'sip', 'x.rego'), 'package sip.extra\n\nbad if {\n\tsome c in input.identity.chain\n\tc.subject_string == "x"\n}\n\nok if input.identity.chain[_].subject.string == "CN=x"\n');
  await writeFile(join(dir, 'other', 'o.rego'), '# METADATA\n# schemas:\n#   - input.message: schema.msg\npackage other\n\np if input.message.methd == "INVITE"\n\nq if input.identity.chain[_].subject_string\n');
  await copyFile(join(schemasDir, 'sip-message.schema.json'), join(dir, 'set', 'msg.json'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(!ready)('schemas (needs the compiler)', () => {
  it('sip packages are checked against the gateway input schema by default; --no-sip-schemas turns it off', async () => {
    const r = await bastion('policy', 'check', join(dir, 'sip'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'sip', 'x.rego')}:5:2: rego_type_error: undefined ref: c.subject_string\n`);
    expect(r.stderr).toContain('want (one of): ["fingerprint" "is_ca" "issuer" "key" "not_after" "not_before" "serial" "subject"]');
    expect(r.stderr).not.toContain(':8:');
    expect((await bastion('policy', 'check', '--no-sip-schemas', join(dir, 'sip'))).code).toBe(0);
    // test and build refuse it the same way
    const t = await bastion('policy', 'test', join(dir, 'sip'));
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('undefined ref: c.subject_string');
    expect((await bastion('policy', 'build', join(dir, 'sip'), '-e', 'sip/extra/ok', '-o', join(dir, 'b.tar.gz'))).code).toBe(1);
    const ev = await bastion('policy', 'eval', '-d', join(dir, 'sip'), '-f', 'pretty', 'data.sip.extra.ok');
    expect(ev.code).toBe(1);
    expect(ev.stderr).toContain('undefined ref: c.subject_string');
  });

  it('-s FILE is schema.input for every package; -s DIR names schemas for METADATA annotations', async () => {
    const file = await bastion('policy', 'check', '-s', join(schemasDir, 'input.schema.json'), join(dir, 'other'));
    expect(file.code).toBe(1);
    expect(file.stderr).toContain('o.rego:8:'); // subject_string, through the $refs of input.schema.json
    expect(file.stderr).toContain('undefined schema: schema.msg');
    const set = await bastion('policy', 'check', '-s', join(dir, 'set'), join(dir, 'other'));
    expect(set.stderr).toContain(`${join(dir, 'other', 'o.rego')}:6:6: rego_type_error: undefined ref: input.message.methd\n`);
    expect(set.stderr).not.toContain('o.rego:8:'); // input itself has no schema here
    expect((await bastion('policy', 'check', '-s', join(dir, 'nope.json'), join(dir, 'other'))).stderr).toMatch(/rego_load_error: schema: /);
  });
});
