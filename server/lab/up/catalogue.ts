// The boot catalogue: boot profiles ready to use, each saying where it comes from. The ONE place that names
// the entries (CATALOGUE_NAMES: lab.yaml, the CLI, the API and the pages take them from here) and that
// recognises a stored profile as an entry (catalogueOf). Pure and browser-safe: entries, artifact names, the
// profile each renders for a target. Fetching is catalogue-fetch.ts (files) and live.ts (the live image).
import { z } from 'zod';
import type { BootProfile } from '../provisioner/pxe.ts';
import type { Arch } from '../spec.ts';
import { BadRequestError } from '../errors.ts';

export const CATALOGUE_NAMES = ['live', 'debian-12-installer', 'ubuntu-24.04-live-server', 'netboot.xyz'] as const;
export type CatalogueName = (typeof CATALOGUE_NAMES)[number];
/** A catalogue entry's name as input (API, CLI). */
export const catalogueName = z.enum(CATALOGUE_NAMES, { error: `use one of ${CATALOGUE_NAMES.join(', ')}` });

const DEB: Record<Arch, 'amd64' | 'arm64'> = { x86_64: 'amd64', aarch64: 'arm64' };

export interface CatalogueProfile {
  name: CatalogueName;
  description: string;
  /** Where the files come from, for people. */
  source: string;
  arches: Arch[];
  /** Needs the provisioner's NAT to reach the internet at boot time. */
  needsInternet: boolean;
  /** How its files reach the provisioner: built by pvmlab, taken out of a Debian package, downloaded, or none (a script). */
  files: 'live' | 'debian-package' | 'download' | 'none';
  /** About how many bytes are fetched once (cached) and uploaded to the provisioner; null: nothing. */
  approxBytes: number | null;
  /** A target that boots it needs at least this much memory (MiB); null: no more than the default. */
  minMemoryMiB: number | null;
}

const MB = 1024 * 1024;

export const BOOT_CATALOGUE: readonly CatalogueProfile[] = [
  { name: 'live', description: 'small live Linux: DHCP, the lab key, SSH as root (the default boot profile)', source: "Debian's cloud kernel + busybox/dropbear initramfs, built from Debian packages by scripts/build-test-guest.sh (on this host with apt, else inside the provisioner)", arches: ['x86_64', 'aarch64'], needsInternet: false, files: 'live', approxBytes: 40 * MB, minMemoryMiB: null },
  { name: 'debian-12-installer', description: 'Debian 12 netboot installer (text), boots to its first question', source: "Debian's debian-installer-12-netboot-<arch> package (apt on this host), linux + initrd.gz from it", arches: ['x86_64', 'aarch64'], needsInternet: false, files: 'debian-package', approxBytes: 130 * MB, minMemoryMiB: null },
  { name: 'ubuntu-24.04-live-server', description: 'Ubuntu 24.04 live-server installer, autoinstall-ready (nocloud seed served by the provisioner; a default one installs with the lab key)', source: 'the ubuntu-24.04[.N]-live-server-<arch>.iso named in Ubuntu\'s SHA256SUMS (releases.ubuntu.com for amd64, cdimage.ubuntu.com for arm64), downloaded on this host and checked; casper/vmlinuz + casper/initrd from it; the target loads the ISO from the provisioner', arches: ['x86_64', 'aarch64'], needsInternet: false, files: 'download', approxBytes: 3200 * MB, minMemoryMiB: 6144 },
  { name: 'netboot.xyz', description: 'netboot.xyz menu, chainloaded over HTTPS (iPXE clients only)', source: 'https://boot.netboot.xyz (fetched by the target at boot through the provisioner NAT)', arches: ['x86_64'], needsInternet: true, files: 'none', approxBytes: null, minMemoryMiB: null },
];

/** The live image's artifact names on the provisioner (per arch: a lab may mix arches). */
export function liveArtifactNames(arch: Arch): { kernel: string; initrd: string } {
  return { kernel: `pvmlab-live-${arch}-vmlinuz`, initrd: `pvmlab-live-${arch}-initrd.img` };
}

export function findBootProfile(name: string): CatalogueProfile {
  const e = BOOT_CATALOGUE.find((x) => x.name === name);
  if (!e) throw new BadRequestError('profile', `no catalogue profile '${name}': use one of ${CATALOGUE_NAMES.join(', ')}`);
  return e;
}

/** The Debian installer: package, the two files inside it, and their artifact names (per arch). */
export function debianInstaller(arch: Arch) {
  const a = DEB[arch];
  const dir = `usr/lib/debian-installer/images/12/${a}/text/debian-installer/${a}`;
  return {
    package: `debian-installer-12-netboot-${a}`,
    kernelPath: `${dir}/linux`, initrdPath: `${dir}/initrd.gz`,
    kernel: `debian-12-installer-${a}-linux`, initrd: `debian-12-installer-${a}-initrd.gz`,
  };
}

/**
 * Ubuntu 24.04 live-server (per arch): where its SHA256SUMS is, which line of it names the ISO (any point
 * release, `ubuntu-24.04.3-live-server-amd64.iso`), the ISO's files the target boots, and the artifact names
 * (fixed, so a profile does not change with the point release). amd64 is on releases.ubuntu.com, arm64 only
 * on cdimage.ubuntu.com.
 */
export function ubuntuLiveServer(arch: Arch) {
  const a = DEB[arch];
  const base = a === 'amd64' ? 'https://releases.ubuntu.com/24.04/' : 'https://cdimage.ubuntu.com/releases/24.04/release/';
  return {
    base, checksumsUrl: `${base}SHA256SUMS`,
    isoPattern: new RegExp(`^ubuntu-24\\.04(\\.\\d+)?-live-server-${a}\\.iso$`),
    isoKernel: '/casper/vmlinuz', isoInitrd: '/casper/initrd',
    iso: `ubuntu-24.04-live-server-${a}.iso`, kernel: `ubuntu-24.04-live-server-${a}-vmlinuz`, initrd: `ubuntu-24.04-live-server-${a}-initrd`,
  };
}

/** The nocloud seed artifacts of one target (`<prefix>user-data`, `<prefix>meta-data`): cloud-init's `s=` URL ends in `%s`. */
export function autoinstallSeedPrefix(hostname: string): string {
  return `autoinstall-${hostname}-`;
}

/**
 * The default autoinstall seed for a target (pure): an unattended Ubuntu install whose user `ubuntu` takes
 * only the lab key (no password). Format: autoinstall v1 (Subiquity) in cloud-config user-data; JSON is YAML.
 * pvmlab uploads it only when the provisioner has no seed of that name: upload your own to replace it.
 */
export function autoinstallSeed(hostname: string, publicKey: string): { userData: string; metaData: string } {
  const autoinstall = {
    version: 1,
    ssh: { 'install-server': true, 'allow-pw': false },
    'user-data': { hostname, users: [{ name: 'ubuntu', lock_passwd: true, shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', ssh_authorized_keys: [publicKey.trim()] }] },
  };
  return { userData: `#cloud-config\n${JSON.stringify({ autoinstall }, null, 2)}\n`, metaData: `instance-id: ${hostname}\nlocal-hostname: ${hostname}\n` };
}

/** The serial console a target of this arch has (QEMU's first UART: 16550 on q35, PL011 on virt). */
export function targetConsole(arch: Arch): string {
  return arch === 'aarch64' ? 'ttyAMA0' : 'ttyS0';
}

export interface CatalogueContext { console: string; hostname: string; serverIp: string }

/** The profile an entry gives a target (pure). `live` is rendered by live.ts, not here. */
export function catalogueProfile(name: string, arch: Arch, ctx: CatalogueContext): BootProfile {
  const e = findBootProfile(name);
  if (!e.arches.includes(arch)) throw new BadRequestError('profile', `'${name}' has no ${arch} build: use it on ${e.arches.join(' or ')} targets`);
  switch (e.name) {
    case 'debian-12-installer': {
      const d = debianInstaller(arch);
      return { kind: 'kernel', kernel: d.kernel, initrd: d.initrd, cmdline: `console=${ctx.console} priority=critical` };
    }
    case 'ubuntu-24.04-live-server': {
      const u = ubuntuLiveServer(arch);
      const art = `http://${ctx.serverIp}/artifacts`;
      // casper fetches the ISO into RAM (url=); cloud-init's nocloud reads <s>user-data and <s>meta-data (%s form).
      return { kind: 'kernel', kernel: u.kernel, initrd: u.initrd,
        cmdline: `console=${ctx.console} ip=dhcp url=${art}/${u.iso} autoinstall ds=nocloud-net;s=${art}/${autoinstallSeedPrefix(ctx.hostname)}%s ---` };
    }
    case 'netboot.xyz':
      return { kind: 'script', script: '#!ipxe\necho pvmlab: chainloading netboot.xyz\nchain --autofree https://boot.netboot.xyz\n' };
    case 'live':
      throw new Error("'live' is rendered by live.ts");
  }
}

/** Which catalogue entry a stored profile came from (by its artifact names or script), or null (pure). */
export function catalogueOf(p: { kind: string; kernel?: string; script?: string }): CatalogueName | null {
  if (p.kind === 'kernel' && p.kernel) {
    if (/^pvmlab-live-(x86_64|aarch64)-vmlinuz$/.test(p.kernel)) return 'live';
    if (/^debian-12-installer-(amd64|arm64)-linux$/.test(p.kernel)) return 'debian-12-installer';
    if (/^ubuntu-24\.04-live-server-(amd64|arm64)-vmlinuz$/.test(p.kernel)) return 'ubuntu-24.04-live-server';
  }
  if (p.kind === 'script' && p.script && /chain --autofree https:\/\/boot\.netboot\.xyz/.test(p.script)) return 'netboot.xyz';
  return null;
}

/**
 * The live-server ISO a SHA256SUMS text names (GNU format, `<hex> *<name>`), the newest point release first
 * (24.04.10 after 24.04.9); null when none matches. Pure.
 */
export function pickUbuntuIso(sums: string, pattern: RegExp): { fileName: string; sha256: string } | null {
  const found: { fileName: string; sha256: string; point: number }[] = [];
  for (const raw of sums.split('\n')) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+?)\r?$/.exec(raw);
    if (m && pattern.test(m[2])) found.push({ fileName: m[2], sha256: m[1].toLowerCase(), point: Number(/^ubuntu-\d+\.\d+\.(\d+)-/.exec(m[2])?.[1] ?? 0) });
  }
  const best = found.sort((a, b) => b.point - a.point)[0];
  return best ? { fileName: best.fileName, sha256: best.sha256 } : null;
}
