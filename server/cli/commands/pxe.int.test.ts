// `pvmlab pxe …` as a user runs it, on a temp lab home without a running provisioner: the host keeps the
// truth (reservations, profiles) and says what needs the provisioner.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { describeProfile } from './pxe.ts';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../bin/pvmlab.mjs');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pvp-'));
const run = (...args: string[]) => execa('node', [BIN, ...args], { env: { ...process.env, PVMLAB_HOME: home }, reject: false });
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('pvmlab pxe', { timeout: 120_000 }, () => {
  it('reservations: set (any MAC), list, --json, profile, rm', async () => {
    const set = await run('pxe', 'reservations', 'set', '52-54-00-AA-BB-CC', '192.168.100.30', 'metal1');
    expect(set.exitCode, set.stderr).toBe(0);
    expect(set.stdout).toBe('reserved 192.168.100.30 (metal1) for 52:54:00:aa:bb:cc; it boots nothing until it gets a profile: pvmlab pxe profile metal1 --live');
    expect((await run('pxe', 'reservations')).stdout).toMatch(/^52:54:00:aa:bb:cc +192\.168\.100\.30 +metal1 +none — boots nothing until it gets one$/m);
    const prof = await run('pxe', 'profile', 'metal1', '--kernel', 'linux', '--initrd', 'initrd.gz', '--cmdline', 'auto=true', '--json');
    expect(prof.exitCode, prof.stderr).toBe(0);
    expect(JSON.parse(prof.stdout)).toEqual({ mac: '52:54:00:aa:bb:cc', ip: '192.168.100.30', hostname: 'metal1', profile: { kind: 'kernel', kernel: 'linux', initrd: 'initrd.gz', cmdline: 'auto=true' } });
    expect(JSON.parse((await run('pxe', 'reservations', '--json')).stdout)).toHaveLength(1);
    const rm = await run('pxe', 'reservations', 'rm', 'metal1');
    expect(rm.stdout).toBe('removed the reservation of 52:54:00:aa:bb:cc (192.168.100.30 metal1)');
    expect(JSON.parse((await run('pxe', 'reservations', '--json')).stdout)).toEqual([]);
  });

  it('errors for people: bad input, unknown target, what needs the provisioner', async () => {
    const bad = await run('pxe', 'reservations', 'set', '01:00:5e:00:00:01', '192.168.100.30', 'm');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/unicast MAC/);
    const who = await run('pxe', 'profile', 'ghost', '--none');
    expect(who.stderr).toMatch(/no reservation for 'ghost': give a PXE target's name/);
    const two = await run('pxe', 'profile', 'x', '--none', '--live');
    expect(two.exitCode).toBe(2);
    for (const args of [['pxe', 'leases'], ['pxe', 'artifacts', '--json']]) {
      const r = await run(...args);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/the lab has no provisioner: create one/);
    }
    expect((await run('pxe', 'nope')).exitCode).toBe(2);
  });

  it('a PXE target created without a profile says it boots nothing until it gets one', async () => {
    const r = await run('vm', 'create', 't1', '--boot', 'pxe');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("no boot profile yet: it boots nothing until it gets one (pvmlab pxe profile t1 --live, or --kernel …)");
    expect((await run('pxe', 'reservations')).stdout).toMatch(/t1 +none — boots nothing until it gets one/);
  });

  it('profiles read as people name them', () => {
    expect(describeProfile({ kind: 'exit' })).toBe('none — boots nothing until it gets one');
    expect(describeProfile({ kind: 'kernel', kernel: 'pvmlab-live-x86_64-vmlinuz', cmdline: 'x' })).toBe('live (the default boot profile)');
    expect(describeProfile({ kind: 'script', script: '#!ipxe\nexit' })).toBe('iPXE script (2 lines)');
  });
});
