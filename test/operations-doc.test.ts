// docs/operations.md and contrib/: the config reference is the one generated from the schema, the
// example alert rules pass promtool, the systemd unit passes systemd-analyze verify, and every file
// the doc names exists.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain ES module script without type declarations
import { DOC, updated } from '../scripts/config-reference.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const has = (cmd: string, arg = '--version') => spawnSync(cmd, [arg]).status === 0;

describe('operations doc and contrib files', () => {
  it('the config reference in docs/operations.md is up to date with schemas/config.schema.json', () => {
    const text = readFileSync(DOC as string, 'utf8');
    expect((updated as (t: string) => string)(text) === text, 'run: node scripts/config-reference.mjs').toBe(true);
    // every top-level setting of the schema has its row
    const schema = JSON.parse(readFileSync(join(root, 'schemas', 'config.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    for (const k of Object.keys(schema.properties)) expect(text).toContain(`| \`/${k}\` |`);
  });

  it('every contrib file the doc names exists', () => {
    const text = readFileSync(DOC as string, 'utf8');
    const named = [...text.matchAll(/`((?:contrib|scripts)\/[^`\s]+)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(3);
    for (const f of new Set(named)) expect(existsSync(join(root, f)), f).toBe(true);
  });

  it.skipIf(!has('promtool'))('the example alert rules pass promtool check rules', () => {
    const r = spawnSync('promtool', ['check', 'rules', join(root, 'contrib', 'prometheus', 'sip-bastion.rules.yml')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it.skipIf(!has('systemd-analyze'))('the systemd unit passes systemd-analyze verify and keeps its hardening', () => {
    const unit = join(root, 'contrib', 'systemd', 'sip-bastion.service');
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => l.includes('sip-bastion.service'))).toEqual([]);
    expect(r.status).toBe(0);
    const text = readFileSync(unit, 'utf8');
    for (const line of ['User=sip-bastion', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE']) {
      expect(text).toMatch(new RegExp(`^${line}$`, 'm'));
    }
  });
});
