// Install to disk, then boot from disk (pure planners). A profile of kind `image`, `debian-preseed` or
// `ubuntu-autoinstall` boots a kernel that installs onto the target's disk and then reports to the stack:
//
//   image               the live environment (up/live.ts, scripts/test-guest/rootfs/init) with
//                       `pvmlab.install=<artifact URL> pvmlab.sha256=<hex>`: it verifies the image's sha256 before
//                       a byte reaches the disk, writes it raw onto the first disk, reports, and reboots.
//   debian-preseed      Debian's netboot installer with `preseed/url=http://<stack>/config/<mac>/preseed.cfg`.
//   ubuntu-autoinstall  Ubuntu's live-server kernel with `autoinstall ds=nocloud-net;s=http://<stack>/config/<mac>/`.
//
// Every install reports `GET /installed?mac=<mac>&id=<install id>&status=installed|failed[&…]` (nginx logs it to
// /pxe/installs.log; pxeboot_stack/installs.sh). The stack then serves that MAC the "boot from disk" files the host
// published beside its install files (`<file>.disk`) at once, so the target's reboot finds them; the host folds the
// report into configs/pxe.json (install-state.ts) — the host stays the truth — until a re-provision arms a new id.
import type { Arch } from '../spec.ts';
import { liveArtifactNames } from '../up/catalogue.ts';
import type { BootProfile } from './pxe.ts';

export type InstallProfile = Extract<BootProfile, { kind: 'image' | 'debian-preseed' | 'ubuntu-autoinstall' }>;
export type KernelProfile = Extract<BootProfile, { kind: 'kernel' }>;

export const INSTALL_KINDS = ['image', 'debian-preseed', 'ubuntu-autoinstall'] as const;
export function isInstallProfile(p: BootProfile): p is InstallProfile {
  return (INSTALL_KINDS as readonly string[]).includes(p.kind);
}

/** Who is being installed: the MAC and install id go into the report URL; absent (a dry run), placeholders. */
export interface InstallTarget { mac?: string; installId?: string; publicKey?: string; serverIp?: string; arch?: Arch }

/** The per-MAC folder the stack serves an installer's answers from: http/config/<mac>/ → http://<stack>/config/<mac>/. */
export function configPathForMac(mac: string): string {
  return `config/${mac.toLowerCase()}`;
}

/** The report URL (without query): the live environment and the installers' late commands add `?mac=…&id=…&status=…`. */
export function installedUrl(serverIp: string): string {
  return `http://${serverIp}/installed`;
}

/** Words shared by every install cmdline: what the report carries. */
function reportQuery(t: { mac?: string; installId?: string }): string {
  return `mac=${(t.mac ?? 'MAC').toLowerCase()}&id=${t.installId ?? 'none'}`;
}

/**
 * The kernel profile an install profile boots (pure). Shapes: see the header. The console is the arch's serial
 * port; `image` uses the live artifacts of that arch (they must be on the provisioner: up/profile.ts uploads them).
 */
export function installKernelProfile(p: InstallProfile, t: InstallTarget & { serverIp: string; hostname: string; arch: Arch }): KernelProfile {
  const mac = (t.mac ?? 'MAC').toLowerCase();
  const id = t.installId ?? 'none';
  const cfg = `http://${t.serverIp}/${configPathForMac(mac)}/`;
  switch (p.kind) {
    case 'image': {
      const live = liveArtifactNames(t.arch);
      const key = t.publicKey ? ` pvmlab.sshkey=${Buffer.from(t.publicKey.trim()).toString('base64')}` : '';
      return { kind: 'kernel', kernel: live.kernel, initrd: live.initrd,
        cmdline: `console=${t.arch === 'aarch64' ? 'ttyAMA0' : 'ttyS0'} pvmlab.hostname=${t.hostname} pvmlab.dhcp=1${key} pvmlab.install=http://${t.serverIp}/artifacts/${p.image} pvmlab.sha256=${p.sha256} pvmlab.installed=${installedUrl(t.serverIp)} pvmlab.installid=${id}` };
    }
    case 'debian-preseed':
      // auto=true: d-i sets up the network before asking anything, then reads the preseed from the URL.
      return { kind: 'kernel', kernel: p.kernel, initrd: p.initrd, cmdline: [p.cmdline, 'auto=true', `hostname=${t.hostname}`, `preseed/url=${cfg}preseed.cfg`].filter(Boolean).join(' ') };
    case 'ubuntu-autoinstall':
      // cloud-config-url=/dev/null: casper would otherwise download the whole ISO a second time for cloud-init.
      return { kind: 'kernel', kernel: p.kernel, initrd: p.initrd,
        cmdline: [p.cmdline, 'ip=dhcp', `url=http://${t.serverIp}/artifacts/${p.iso}`, 'cloud-config-url=/dev/null', 'autoinstall', `ds=nocloud-net;s=${cfg}`].filter(Boolean).join(' ') };
  }
}

/** One line for people: what an install profile installs ("image disk.raw", …). */
export function describeInstall(p: InstallProfile): string {
  switch (p.kind) {
    case 'image': return `image ${p.image} (sha256 ${p.sha256.slice(0, 12)}...)`;
    case 'debian-preseed': return `Debian installer ${p.kernel} with a preseed`;
    case 'ubuntu-autoinstall': return `Ubuntu autoinstall from ${p.iso}`;
  }
}

/** The marker that says a boot file means "boot from the local disk" (the live environment waits for it). */
export const LOCAL_BOOT_MARK = 'pvmlab-local-boot';

/**
 * iPXE "boot from the local disk": under BIOS `sanboot --no-describe --drive 0x80` boots the first hard disk's MBR;
 * under UEFI (or if that disk has no boot sector) `exit` hands back to the firmware, which tries the next boot
 * device (pvmlab gives a PXE target's disk the next bootindex).
 */
export function renderLocalIpxe(hostname: string, why: string, installId?: string): string {
  return ['#!ipxe', `# ${LOCAL_BOOT_MARK}${installId ? ` ${installId}` : ''}`, `echo pvmlab: ${hostname} ${why}: booting from its disk`,
    'iseq ${platform} pcbios && sanboot --no-describe --drive 0x80 ||', 'exit', ''].join('\n');
}

/** GRUB (arm64 UEFI) "boot from the local disk": `exit` back to the firmware, whose next boot option is the disk. */
export function renderLocalGrub(hostname: string, why: string, installId?: string): string {
  return [`# ${LOCAL_BOOT_MARK}${installId ? ` ${installId}` : ''}`, 'set timeout=0', `echo "pvmlab: ${hostname} ${why}: booting from its disk"`, 'exit', ''].join('\n');
}

/**
 * The preseed the stack serves: the user's, with a late command that reports the install (d-i runs
 * preseed/late_command with `sh -c` in the installer; its busybox has wget). A user's own late_command is kept,
 * after the report.
 */
export function renderPreseed(preseed: string, serverIp: string, t: { mac?: string; installId?: string }): string {
  const report = `wget -q -O /dev/null '${installedUrl(serverIp)}?${reportQuery(t)}&status=installed' || true`;
  const lines = preseed.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  const i = lines.findIndex((l) => /^d-i\s+preseed\/late_command\s+string\s/.test(l));
  if (i >= 0) lines[i] = lines[i].replace(/^(d-i\s+preseed\/late_command\s+string\s+)/, `$1${report}; `);
  else lines.push('# pvmlab: report the finished install (then this target boots from its disk)', `d-i preseed/late_command string ${report}`);
  return lines.join('\n').replace(/\n*$/, '\n');
}

/**
 * Ubuntu autoinstall user-data as served: the user's `#cloud-config` with a late command that reports the install
 * appended to `autoinstall.late-commands` (subiquity runs them in the installer). Text-level: a YAML document
 * whose autoinstall key is not a top-level block is served unchanged but for a trailing comment saying why.
 */
export function renderAutoinstall(userData: string, serverIp: string, t: { mac?: string; installId?: string }): string {
  const report = `wget -q -O /dev/null '${installedUrl(serverIp)}?${reportQuery(t)}&status=installed' || true`;
  const text = userData.replace(/\r\n/g, '\n').replace(/\n*$/, '\n');
  const lines = text.split('\n');
  const a = lines.findIndex((l) => /^autoinstall:\s*$/.test(l));
  if (a < 0) return `${text}# pvmlab: no top-level "autoinstall:" block, so no install report is added: this target keeps booting the installer\n`;
  // The block's indentation, and its own late-commands list if any.
  let end = lines.length;
  for (let i = a + 1; i < lines.length; i++) if (/^\S/.test(lines[i])) { end = i; break; }
  while (end > a + 1 && lines[end - 1].trim() === '') end--;
  const indent = /^(\s+)\S/.exec(lines.slice(a + 1, end).find((l) => /^\s+\S/.test(l)) ?? '  x')?.[1] ?? '  ';
  const lc = lines.slice(a + 1, end).findIndex((l) => l.startsWith(`${indent}late-commands:`));
  const item = `${indent}  - ${JSON.stringify(report)}`;
  if (lc >= 0) lines.splice(a + 1 + lc + 1, 0, item);
  else lines.splice(end, 0, `${indent}late-commands:`, item);
  return lines.join('\n');
}

/** meta-data for Ubuntu's NoCloud datasource: an instance id that changes per install, and the hostname. */
export function renderMetaData(hostname: string, installId?: string): string {
  return `instance-id: ${hostname}-${installId ?? 'none'}\nlocal-hostname: ${hostname}\n`;
}
