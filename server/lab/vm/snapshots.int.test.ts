// Snapshots and re-provision on real QEMU: the tiny Debian-built guest with a qcow2 disk, driven through its
// serial console (a root shell). Running snapshots keep RAM (the shell's variables survive a revert, no reboot);
// disk-only snapshots keep the disk; re-provision gives a fresh disk.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import type { Lab } from '../lab.ts';
import { tempLab, testGuest, until, waitForLog, type TestGuest } from '../testing/guests.ts';

let guest: TestGuest;
let env: Awaited<ReturnType<typeof tempLab>>;
let lab: Lab;
let base: string;

beforeAll(async () => {
  guest = await testGuest('x86_64');
  env = await tempLab();
  lab = env.lab;
  lab.watch();
  // A small raw base image: the VM's disk is a qcow2 overlay on it (snapshots live in the overlay).
  base = path.join(env.root, '..', `${path.basename(env.root)}-base.raw`);
  await execa('qemu-img', ['create', '-q', '-f', 'raw', base, '64M']);
}, 900_000);
afterAll(async () => { await env?.dispose(); fs.rmSync(base, { force: true }); });

/** Type a line into the guest's serial console (its root shell). */
async function type(vm: string, line: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.createConnection(lab.home.vmSerial(vm), () => s.end(`${line}\n`, () => resolve()));
    s.on('error', reject);
  });
}

/** Run a command on the serial console and wait for a unique result line it prints. */
async function consoleResult(vm: string, cmd: string, tag: string): Promise<string> {
  const before = lab.consoleLog(vm, 0, 8 << 20).data.length;
  await type(vm, `( ${cmd} ) | sed 's/^/${tag}=/'`);
  const m = await until(`${tag} on ${vm}'s console`, () => {
    const text = lab.consoleLog(vm, 0, 8 << 20).data.slice(before);
    return new RegExp(`^${tag}=(.*)$`, 'm').exec(text.replace(/\r/g, ''));
  }, 60_000, 200);
  return m[1];
}

const vmInput = (name: string) => ({ name, arch: 'x86_64' as const, boot: 'kernel' as const, kernel: guest.kernel, initrd: guest.initrd, image: base,
  memory: '256M', sshUser: 'root', append: `console=${guest.console} pvmlab.hostname=${name}` });
const readyCount = (vm: string) => (lab.consoleLog(vm, 0, 8 << 20).data.match(/PVMLAB-GUEST-READY/g) ?? []).length;

describe('snapshots', () => {
  it('a running snapshot keeps RAM and disk: revert resumes the guest without a reboot, its shell variable and disk marker back', async () => {
    await lab.vms.create(vmInput('snap'));
    await lab.vms.start('snap');
    await waitForLog(lab, 'snap', /PVMLAB-GUEST-READY/);
    await type('snap', 'export PV=alive-$((40+2)); printf MARK-A | dd of=/dev/vda conv=fsync 2>/dev/null');
    expect(await consoleResult('snap', 'echo "$PV"', 'PVBEFORE')).toBe('alive-42');

    const s = await lab.takeSnapshot('snap', 'before');
    expect(s).toMatchObject({ name: 'before', kind: 'running' });
    expect(s.vmStateBytes).toBeGreaterThan(0);

    await type('snap', 'export PV=changed; printf MARK-B | dd of=/dev/vda conv=fsync 2>/dev/null');
    expect(await consoleResult('snap', 'head -c 6 /dev/vda; echo', 'DISK1')).toBe('MARK-B');
    const boots = readyCount('snap');

    const v = await lab.revertSnapshot('snap', 'before');
    expect(v.status).toBe('running');
    expect(await consoleResult('snap', 'echo "$PV"', 'PVAFTER')).toBe('alive-42');
    // The page cache came back with RAM; drop it so the disk itself is read.
    expect(await consoleResult('snap', 'echo 3 > /proc/sys/vm/drop_caches; head -c 6 /dev/vda; echo', 'DISK2')).toBe('MARK-A');
    expect(readyCount('snap')).toBe(boots); // resumed, not rebooted

    expect((await lab.listSnapshots('snap')).map((x) => [x.name, x.kind])).toEqual([['before', 'running']]);
  }, 240_000);

  it('a running snapshot of a stopped VM starts it from that moment', async () => {
    await lab.vms.stop('snap', { force: true });
    const v = await lab.revertSnapshot('snap', 'before');
    expect(v.status).toBe('running');
    expect(await consoleResult('snap', 'echo "$PV"', 'PVRESUMED')).toBe('alive-42');
    await lab.vms.stop('snap', { force: true });
  }, 120_000);

  it('a disk-only snapshot (stopped VM) keeps the disk, not RAM; its revert needs the VM stopped', async () => {
    const d = await lab.takeSnapshot('snap', 'disk1');
    expect(d).toMatchObject({ name: 'disk1', kind: 'disk-only', vmStateBytes: 0 });
    await lab.vms.start('snap');
    const boots = readyCount('snap');
    await until('boot', () => readyCount('snap') > boots || null, 90_000, 200);
    await type('snap', 'printf MARK-C | dd of=/dev/vda conv=fsync 2>/dev/null');
    expect(await consoleResult('snap', 'head -c 6 /dev/vda; echo', 'DISK3')).toBe('MARK-C');
    await expect(lab.revertSnapshot('snap', 'disk1')).rejects.toThrow(/disk-only snapshot \(it keeps no RAM\): stop 'snap' first/);
    await lab.vms.stop('snap', { force: true });
    await lab.revertSnapshot('snap', 'disk1');
    await lab.vms.start('snap');
    await until('boot after revert', () => readyCount('snap') > boots + 1 || null, 90_000, 200);
    // The disk as it was when disk1 was taken (the running snapshot's MARK-A state, then stopped).
    expect(await consoleResult('snap', 'head -c 6 /dev/vda; echo', 'DISK4')).toBe('MARK-A');
  }, 240_000);

  it('bad input: names, missing snapshots, VMs without a disk, a busy VM, reserved names', async () => {
    await expect(lab.takeSnapshot('snap', 'Bad_Name')).rejects.toThrow(BadRequestError);
    await expect(lab.takeSnapshot('snap', 'Bad_Name')).rejects.toThrow(/^snapshot: snapshot names use 1–32 characters/);
    await expect(lab.takeSnapshot('snap', 'pvmlab-ready')).rejects.toThrow(/pvmlab's own/);
    await expect(lab.takeSnapshot('snap', 'disk1')).rejects.toThrow(/already has a snapshot named 'disk1'/);
    await expect(lab.revertSnapshot('snap', 'nope')).rejects.toThrow(NotFoundError);
    await expect(lab.removeSnapshot('snap', 'nope')).rejects.toThrow("'snap' has no snapshot named 'nope'");
    await lab.vms.create({ ...vmInput('nodisk'), image: undefined });
    await expect(lab.takeSnapshot('nodisk', 'x')).rejects.toThrow(/'nodisk' has no disk to hold snapshots/);
    await lab.vms.clean('nodisk');
    // A snapshot and a stop at once on one VM: serialised by the VM's lock (the second is told it is busy).
    const r = await Promise.allSettled([lab.takeSnapshot('snap', 'race'), lab.vms.stop('snap', { force: true })]);
    expect(r[0].status).toBe('fulfilled');
    expect(r[1].status).toBe('rejected');
    expect((r[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(String((r[1] as PromiseRejectedResult).reason.message)).toMatch(/busy \(snapshot/);
    await lab.removeSnapshot('snap', 'race');
    expect((await lab.listSnapshots('snap')).map((x) => x.name)).toEqual(['before', 'disk1']);
  }, 240_000);
});

describe('re-provision', () => {
  it('gives a target a fresh disk (its snapshots gone), keeps its record, and boots it again', async () => {
    const before = lab.vms.get('snap');
    const boots = readyCount('snap');
    const v = await lab.reprovisionVm('snap');
    expect(v).toMatchObject({ name: 'snap', mac: before.mac, status: 'running' });
    await until('boot after re-provision', () => readyCount('snap') > boots || null, 90_000, 200);
    expect(await consoleResult('snap', 'head -c 6 /dev/vda | od -An -c | tr -d " \\n"; echo', 'FRESH')).toBe('\\0\\0\\0\\0\\0\\0');
    expect(await lab.listSnapshots('snap')).toEqual([]);
    expect(lab.consoleLog('snap', 0, 8 << 20).data).toContain('=== pvmlab: re-provision (fresh disk)');
    await lab.vms.clean('snap');
  }, 240_000);
});
