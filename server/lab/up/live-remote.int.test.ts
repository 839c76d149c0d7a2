// The default live image built inside the provisioner, as on a host without apt (macOS), forced here with
// PVMLAB_LIVE_BUILD=provisioner on a Debian host: real `pvmlab up` on an empty lab home and an empty live-image
// cache (the offline provisioner image and the accelerator verdict come from the real cache), the builder in a
// pxeboot container in the provisioner reaching Debian's mirror through its NAT, target1 PXE-booting what it built.
// Then: a second `up` changes nothing and builds nothing; `pvmlab reset` prints its stages and returns with target1
// answering SSH; `pvmlab clean` says which folders it emptied.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { liveRecipeHash } from './live-remote.ts';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../bin/pvmlab.mjs');
const realCache = process.env.PVMLAB_CACHE || path.join(os.homedir(), '.cache', 'pvmlab');
const home = fs.mkdtempSync('/tmp/pvr-home-');
const cache = fs.mkdtempSync('/tmp/pvr-cache-');
for (const d of ['images', 'accel', 'debs-provisioner']) {
  fs.mkdirSync(path.join(realCache, d), { recursive: true });
  fs.symlinkSync(path.join(realCache, d), path.join(cache, d));
}
const env = { ...process.env, PVMLAB_HOME: home, PVMLAB_CACHE: cache, PVMLAB_LIVE_BUILD: 'provisioner' };
const pvmlab = (...a: string[]) => execa('node', [BIN, ...a], { env, reject: false, timeout: 40 * 60_000 });

afterAll(async () => {
  await pvmlab('clean', '--remove-key');
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(cache, { recursive: true, force: true }); // the symlinks only: the real cache stays
});

describe('the live image built inside the provisioner (PVMLAB_LIVE_BUILD=provisioner)', { timeout: 45 * 60_000 }, () => {
  it('pvmlab up builds it in prov, serves it, keeps a copy on the host; target1 boots it and answers SSH', async () => {
    const up = await pvmlab('up', '--image', 'offline');
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stderr).toContain('  + build the live image (x86_64) inside prov and serve it');
    expect(up.stderr).toMatch(/^ {2}✓ live image \(x86_64\) in prov +\S/m);
    expect(up.stderr).not.toMatch(/upload live (kernel|initrd)/); // published in place, not uploaded
    expect(up.stdout).toMatch(/^lab up in .*: prov \(offline image\), target1 192\.168\.100\.2 ssh ok$/m);
    const dir = path.join(cache, 'guests', `remote-x86_64-${liveRecipeHash('x86_64')}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { arch: string; console: string; kernelPackage: string };
    expect(manifest).toMatchObject({ arch: 'x86_64', console: 'ttyS0', kernelPackage: expect.stringMatching(/^linux-image-[\d.-]+-cloud-amd64:amd64=/) });
    // what the provisioner serves is byte for byte the copy on the host
    const served = JSON.parse((await pvmlab('pxe', 'artifacts', '--json')).stdout) as { name: string; sha256: string }[];
    const sha = async (f: string) => (await execa('sha256sum', [path.join(dir, f)])).stdout.split(' ')[0];
    expect(served.find((a) => a.name === 'pvmlab-live-x86_64-vmlinuz')?.sha256).toBe(await sha('vmlinuz'));
    expect(served.find((a) => a.name === 'pvmlab-live-x86_64-initrd.img')?.sha256).toBe(await sha('initrd.img'));
    expect((await pvmlab('vm', 'shell', 'target1', '--', 'uname', '-n')).stdout.trim()).toBe('target1');
  });

  it('a second up finds the copy on the host: nothing built, nothing to change', async () => {
    const again = await pvmlab('up', '--image', 'offline');
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('nothing to change');
    expect(again.stderr).not.toContain('build the live image');
    expect(again.stdout).toMatch(/^lab already up .*target1 192\.168\.100\.2 ssh ok$/m);
  });

  it('pvmlab reset: a line per stage, back when target1 answers SSH', async () => {
    const r = await pvmlab('reset');
    expect(r.exitCode, r.stderr).toBe(0);
    for (const s of ['prov start', 'prov ssh', 'target1 re-provision', 'target1 DHCP', 'target1 kernel', 'target1 ssh']) expect(r.stderr).toMatch(new RegExp(`^ {2}✓ ${s} +\\S`, 'm'));
    expect(r.stderr).not.toMatch(/^Lab reset:/m); // no job lines
    expect(r.stdout).toMatch(/^lab reset in .*: prov from its ready snapshot, re-provisioned target1 192\.168\.100\.2 ssh ok$/m);
    expect((await pvmlab('vm', 'shell', 'target1', '--', 'uname', '-n')).stdout.trim()).toBe('target1');
  });

  it('pvmlab clean says it emptied the folders it makes again', async () => {
    const c = await pvmlab('clean');
    expect(c.exitCode, c.stderr).toBe(0);
    expect(c.stdout.split('\n')).toEqual(expect.arrayContaining([`emptied ${home}/vms`, `emptied ${home}/configs`, 'lab cleaned (2 VMs removed; the key pair stays: --remove-key removes it)']));
    expect(c.stdout).not.toMatch(/^removed /m);
    expect(fs.readdirSync(path.join(home, 'vms')).filter((f) => f.endsWith('.json'))).toEqual([]); // no VM record (its lock folder is made again)
  });
});
