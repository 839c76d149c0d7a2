// `pvmlab up|apply lab.yaml` and `pvmlab export` as a user runs them, on a temp lab home, without booting
// anything: bad files fail with file:line:col before any change; --dry-run shows the plan; export parses back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../bin/pvmlab.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvf-'));
const home = path.join(dir, 'h');
const run = (...args: string[]) => execa('node', [BIN, ...args], { env: { ...process.env, PVMLAB_HOME: home }, reject: false });
const file = (name: string, text: string) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('lab.yaml on the command line', { timeout: 120_000 }, () => {
  it('a bad file: every problem with file:line:col and the fix, exit 1, nothing created', async () => {
    const bad = file('bad.yaml', 'targets:\n  - name: a\n    ip: 10.0.0.1\n  - name: a\n');
    for (const verb of ['up', 'apply']) {
      const r = await run(verb, bad);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`${bad}:3:9: targets[0].ip: 10.0.0.1 is outside the lab's network 192.168.100.0/24: use a host address of it`);
      expect(r.stderr).toContain(`${bad}:4:11: targets[1].name: name a is already used by targets[0]: give each VM its own name`);
      expect(r.stderr).toMatch(/bad\.yaml: 2 problems \(above\); nothing was changed/);
    }
    const ghost = file('ghost.yaml', 'profiles:\n  inst:\n    kernel: linux\n');
    expect((await run('apply', ghost)).stderr).toContain(`${ghost}:3:13: profiles.inst.kernel: artifact 'linux' is not in artifacts: add it there`);
    const list = await run('vm', 'list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('a missing file and flags that only fit the default lab are one-line errors', async () => {
    const r = await run('up', path.join(dir, 'nope.yaml'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/nope\.yaml: cannot read it \(ENOENT\)/);
    const u = await run('up', file('x.yaml', ''), '--targets', '2');
    expect(u.exitCode).toBe(2);
  });

  it('apply --dry-run shows the plan and changes nothing', async () => {
    const good = file('good.yaml', 'provisioner:\n  image: offline\ntargets:\n  - name: target1\n  - name: bare\n    profile: none\n'
      + 'reservations:\n  - mac: 52:54:00:11:22:33\n    ip: 192.168.100.30\n    hostname: metal1\n');
    const r = await run('apply', good, '--dry-run');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('  + create provisioner prov');
    expect(r.stderr).toMatch(/^ {2}\+ create PXE target target1 \((x86_64|aarch64)\)$/m);
    expect(r.stderr).toContain('  ~ reservation 52:54:00:11:22:33 → 192.168.100.30 metal1');
    expect(r.stderr).toContain('  ! bare has no boot profile: it boots nothing until it gets one');
    expect(r.stdout).toMatch(/^dry run: \d+ change\(s\) planned, nothing done$/m);
    expect(JSON.parse((await run('vm', 'list', '--json')).stdout)).toEqual([]);
  });

  it('export of an empty lab is a lab file that parses back; --schema is JSON Schema', async () => {
    const r = await run('export');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(parse(r.stdout)).toMatchObject({ version: 1, network: { subnet: '192.168.100.0/24' }, targets: [], reservations: [] });
    expect((await run('apply', file('back.yaml', r.stdout), '--dry-run')).exitCode).toBe(0);
    const s = JSON.parse((await run('export', '--schema')).stdout);
    expect(s).toMatchObject({ type: 'object', additionalProperties: false, properties: { targets: { type: 'array' } } });
  });
});
