// Install to disk, end to end (real QEMU, the shared provisioner of provisioner/pxe.int.test.ts): steps that file
// runs on its one provisioner, kept here so the PXE file stays readable. Each step asserts; none boots a provisioner.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import type { Lab } from '../lab.ts';
import { until, type TestGuest } from './guests.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
type Cli = (...args: string[]) => Promise<{ exitCode?: number; stdout: string; stderr: string }>;

/** The target's console log from a byte offset (as text). */
const logFrom = (lab: Lab, vm: string, from: number) => lab.consoleLog(vm, from, 16 << 20).data;
const logSize = (lab: Lab, vm: string) => lab.consoleLog(vm, 0, 0).size;

async function waitLog(lab: Lab, vm: string, from: number, re: RegExp, ms: number): Promise<RegExpMatchArray> {
  return until(`${re} in ${vm}'s console`, () => logFrom(lab, vm, from).match(re), ms, 500)
    .catch((e) => { throw new Error(`${(e as Error).message}; last lines:\n${logFrom(lab, vm, from).split('\n').slice(-20).join('\n')}`); });
}

/** Which clusters of a VM's qcow2 disk hold data (qemu-img map, shared with the running QEMU): none on a blank disk. */
async function diskDataExtents(lab: Lab, vm: string): Promise<{ start: number; length: number }[]> {
  const r = await execa('qemu-img', ['map', '-U', '--output=json', lab.home.vmDisk(vm)]);
  return (JSON.parse(r.stdout) as { start: number; length: number; data: boolean }[]).filter((x) => x.data).map(({ start, length }) => ({ start, length }));
}

/** A tiny BIOS-bootable raw disk (scripts/build-disk-image.sh): SYSLINUX + the test guest, named "disk-boot". */
export async function buildDiskImage(guest: TestGuest, dir: string): Promise<{ file: string; sha256: string; size: number }> {
  const file = path.join(dir, 'disk-boot.raw');
  await execa(path.join(ROOT, 'scripts/build-disk-image.sh'), [guest.dir, file, 'disk-boot']);
  const sha256 = (await execa('sha256sum', [file])).stdout.split(' ')[0];
  return { file, sha256, size: fs.statSync(file).size };
}

/**
 * A target whose image's sha256 does not match: the install is refused before the disk is touched (no data
 * cluster in its qcow2), the failure is reported and shows on the VM (`vm list --json`), and it does not reboot.
 */
export async function installRefusedOnBadSha(lab: Lab, pvmlab: Cli, vm: string, image: { file: string; sha256: string }): Promise<void> {
  const wrong = image.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const prof = await pvmlab('pxe', 'profile', vm, '--image', image.file, '--sha256', wrong);
  expect(prof.exitCode, prof.stderr).toBe(0);
  expect(prof.stderr).toMatch(/^uploaded disk-boot\.raw \(.*sha256 [0-9a-f]{64}\)$/m);
  expect(prof.stdout).toContain(`install: image disk-boot.raw (sha256 ${wrong.slice(0, 12)}...) — install pending`);
  const from = logSize(lab, vm);
  expect((await pvmlab('vm', 'start', vm)).exitCode).toBe(0);
  const m = await waitLog(lab, vm, from, /PVMLAB-INSTALL failed (\S+) ([0-9a-f]{64})/, 300_000);
  expect(m.slice(1)).toEqual(['sha256-mismatch', image.sha256]); // it hashed the real bytes, and refused them
  await waitLog(lab, vm, from, /PVMLAB-GUEST-READY hostname=/, 60_000); // stays in the live environment: no reboot
  expect(logFrom(lab, vm, from)).not.toContain('PVMLAB-INSTALL rebooting');
  expect(await diskDataExtents(lab, vm)).toEqual([]); // not one byte written
  await until('the failure on the VM page', async () => (await lab.getVm(vm)).install?.status === 'failed', 120_000, 1000);
  const list = JSON.parse((await pvmlab('vm', 'list', '--json')).stdout) as { name: string; install: { status: string; reason: string } | null }[];
  const listed = list.find((x) => x.name === vm)!;
  expect(listed.install?.reason).toContain("the image's sha256 is not the profile's: nothing was written to the disk");
  expect(listed.install?.reason).toContain(image.sha256);
}

/**
 * The right sha256: the live environment writes the image, reports, the stack switches the MAC to "boot from disk",
 * it reboots and comes up from its disk (SYSLINUX, then the guest named by the disk's own syslinux.cfg); the VM
 * shows "installed <when> from image …".
 */
export async function installsAndBootsFromDisk(lab: Lab, pvmlab: Cli, vm: string, image: { sha256: string; size: number }): Promise<void> {
  const prof = await pvmlab('pxe', 'profile', vm, '--image', 'disk-boot.raw', '--sha256', image.sha256);
  expect(prof.exitCode, prof.stderr).toBe(0);
  expect((await pvmlab('vm', 'stop', vm, '--force')).exitCode).toBe(0);
  const from = logSize(lab, vm);
  expect((await pvmlab('vm', 'start', vm)).exitCode).toBe(0);
  const ok = await waitLog(lab, vm, from, /PVMLAB-INSTALL ok sha256=([0-9a-f]{64}) bytes=(\d+) mode=(\w+)/, 300_000);
  expect(ok.slice(1)).toEqual([image.sha256, String(image.size), 'ram']);
  await waitLog(lab, vm, from, /PVMLAB-INSTALL rebooting/, 90_000);
  await waitLog(lab, vm, from, /PVMLAB-GUEST-READY hostname=disk-boot /, 240_000);
  const after = logFrom(lab, vm, from).slice(logFrom(lab, vm, from).indexOf('PVMLAB-INSTALL rebooting'));
  // iPXE's console wraps at 80 columns: match the start of its line, then sanboot's own message.
  expect(after).toMatch(new RegExp(`pvmlab: ${vm} was installed (\\S+ )?from image disk-boot\\.raw `));
  expect(after).toContain('Booting from SAN device 0x80');
  expect(after).toContain('SYSLINUX 6.04');
  expect(after).toMatch(/Command line: BOOT_IMAGE=vmlinuz console=ttyS0 pvmlab\.hostname=disk-boot/); // the disk's own syslinux.cfg
  const v = await until('installed on the VM', async () => { const x = await lab.getVm(vm); return x.install?.status === 'installed' ? x : null; }, 120_000, 1000);
  expect(v.install?.summary).toMatch(/^installed \d{4}-\d\d-\d\dT\S+ from image disk-boot\.raw \(sha256 [0-9a-f]{12}\.\.\.\)$/);
  const listed = JSON.parse((await pvmlab('vm', 'list', '--json')).stdout) as { name: string; install: { summary: string } | null }[];
  expect(listed.find((x) => x.name === vm)?.install?.summary).toBe(v.install?.summary);
}

/** The next power-on boots from the disk again, and the profile is untouched. */
export async function nextPowerOnBootsDisk(lab: Lab, pvmlab: Cli, vm: string): Promise<void> {
  const mac = lab.vms.get(vm).mac;
  await until('installed on the VM', async () => (await lab.getVm(vm)).install?.status === 'installed', 120_000, 1000);
  const before = lab.reservations().find((r) => r.mac === mac);
  expect((await pvmlab('vm', 'stop', vm, '--force')).exitCode).toBe(0);
  const from = logSize(lab, vm);
  expect((await pvmlab('vm', 'start', vm)).exitCode).toBe(0);
  await waitLog(lab, vm, from, /PVMLAB-GUEST-READY hostname=disk-boot /, 240_000);
  expect(logFrom(lab, vm, from)).not.toContain('PVMLAB-INSTALL');
  expect(lab.reservations().find((r) => r.mac === mac)).toEqual(before);
}

/** Re-provision: a blank disk, a new install armed, the network boot installs again, then the disk boots. */
export async function reprovisionInstallsAgain(lab: Lab, vm: string, image: { sha256: string }): Promise<void> {
  const mac = lab.vms.get(vm).mac;
  const id = lab.reservations().find((r) => r.mac === mac)?.install?.id;
  const from = logSize(lab, vm);
  await lab.reprovisionVm(vm);
  const armed = lab.reservations().find((r) => r.mac === mac)?.install;
  expect(armed?.status).toBe('pending');
  expect(armed?.id).not.toBe(id);
  const log = await waitLog(lab, vm, from, /PVMLAB-INSTALL ok sha256=([0-9a-f]{64})/, 300_000);
  expect(log[1]).toBe(image.sha256);
  await waitLog(lab, vm, from, /PVMLAB-GUEST-READY hostname=disk-boot /, 300_000);
  expect(logFrom(lab, vm, from)).toContain('re-provision (fresh disk)');
}

/**
 * Debian's netboot installer (the catalogue's, BIOS) with a preseed the stack serves: it boots, fetches the preseed
 * from /config/<mac>/preseed.cfg and follows it — the preseeded mirror is a path the stack does not serve, so its
 * first dialog on the serial console is the mirror error, which only a followed preseed leads to (the stack's log
 * shows both requests).
 */
export async function debianPreseedFollowed(lab: Lab, pvmlab: Cli, vm: string, dir: string): Promise<void> {
  const file = path.join(dir, 'preseed.cfg');
  fs.writeFileSync(file, ['d-i debian-installer/locale string en_US.UTF-8', 'd-i keyboard-configuration/xkb-keymap select us',
    'd-i mirror/country string manual', 'd-i mirror/http/hostname string 192.168.100.1', 'd-i mirror/http/directory string /pvmlab-preseeded-mirror',
    'd-i mirror/http/proxy string', ''].join('\n'));
  const prof = await pvmlab('pxe', 'profile', vm, '--preseed', file);
  expect(prof.exitCode, prof.stderr).toBe(0);
  expect(prof.stdout).toContain('install: Debian installer debian-12-installer-amd64-linux with a preseed');
  const mac = lab.vms.get(vm).mac;
  const served = await lab.provisioner.stack().readPxeFile(`http/config/${mac}/preseed.cfg`);
  expect(served).toContain('d-i mirror/http/directory string /pvmlab-preseeded-mirror');
  expect(served).toMatch(/^d-i preseed\/late_command string wget -q -O \/dev\/null 'http:\/\/192\.168\.100\.1\/installed\?mac=.*&status=installed' \|\| true$/m);
  expect((await pvmlab('vm', 'stop', vm, '--force')).exitCode).toBe(0);
  const from = logSize(lab, vm);
  expect((await pvmlab('vm', 'start', vm)).exitCode).toBe(0);
  await waitLog(lab, vm, from, /Bad archive mirror/, 420_000);
  const log = logFrom(lab, vm, from);
  expect(log).toContain(`preseed/url=http://192.168.100.1/config/${mac}/preseed.cfg`);
  const stackLog = await lab.dockerLogs(2000);
  expect(stackLog).toMatch(new RegExp(`"GET /config/${mac}/preseed\\.cfg HTTP/1\\.[01]" 200 `));
  expect(stackLog).toMatch(/"GET \/pvmlab-preseeded-mirror\/dists\/bookworm\/Release HTTP\/1\.[01]" 404 /);
  expect((await pvmlab('vm', 'stop', vm, '--force')).exitCode).toBe(0);
}
