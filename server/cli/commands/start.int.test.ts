// `pvmlab vm start` returns when QEMU runs — for a provisioner too, whose readiness (minutes) is what
// `--wait` follows — instead of staying until readiness ends. Real QEMU (the tiny test guest as a provisioner).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { testGuest } from '../../lab/testing/guests.ts';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../bin/pvmlab.mjs');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pvs-'));
const run = (...args: string[]) => execa('node', [BIN, ...args], { env: { ...process.env, PVMLAB_HOME: home }, reject: false, timeout: 120_000 });
afterAll(async () => { await run('clean', '--remove-key'); fs.rmSync(home, { recursive: true, force: true }); });

describe('pvmlab vm start', { timeout: 300_000 }, () => {
  it('a provisioner: returns while QEMU runs, says how to follow its readiness', async () => {
    const g = await testGuest('x86_64');
    const c = await run('vm', 'create', 'prov', '--role', 'provisioner', '--boot', 'kernel', '--kernel', g.kernel, '--initrd', g.initrd,
      '--append', 'console=ttyS0 pvmlab.hostname=prov', '--memory', '256M');
    expect(c.exitCode, c.stderr).toBe(0);
    const r = await run('vm', 'start', 'prov');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^started 'prov' \(pid \d+, QEMU running, (kvm|hvf|tcg) -cpu \S+\)/);
    expect(r.stdout).toContain('the provisioner boots now; pvmlab vm start prov --wait (or pvmlab up) follows it to a healthy pxeboot stack, a line per stage');
    // it returned before any readiness stage could end: no stage lines, and the VM still runs
    expect(r.stderr).not.toMatch(/✓/);
    const list = JSON.parse((await run('vm', 'list', '--json')).stdout) as { name: string; status: string }[];
    expect(list).toEqual([expect.objectContaining({ name: 'prov', status: 'running' })]);
    const again = await run('vm', 'start', 'prov');
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/already running/);
  });
});
