// The boot catalogue: boot profiles beyond the default live one, each saying where it comes from.
// Pure: entries, artifact names and the profile each renders for a target. Fetching is catalogue-fetch.ts.
import type { BootProfile } from '../provisioner/pxe.ts';
import type { Arch } from '../spec.ts';
import { BadRequestError } from '../errors.ts';

const DEB: Record<Arch, 'amd64' | 'arm64'> = { x86_64: 'amd64', aarch64: 'arm64' };

export interface CatalogueProfile {
  name: string;
  description: string;
  /** Where the files come from, for people. */
  source: string;
  arches: Arch[];
  /** Needs the provisioner's NAT to reach the internet at boot time. */
  needsInternet: boolean;
}

export const BOOT_CATALOGUE: readonly CatalogueProfile[] = [
  { name: 'live', description: 'small live Linux: DHCP, the lab key, SSH as root (the default boot profile)', source: "Debian's cloud kernel + busybox/dropbear initramfs, built on this host by scripts/build-test-guest.sh", arches: ['x86_64', 'aarch64'], needsInternet: false },
  { name: 'debian-12-installer', description: 'Debian 12 netboot installer (text), boots to its first question', source: "Debian's debian-installer-12-netboot-<arch> package (apt on this host), linux + initrd.gz from it", arches: ['x86_64', 'aarch64'], needsInternet: false },
  { name: 'netboot.xyz', description: 'netboot.xyz menu, chainloaded over HTTPS (iPXE clients only)', source: 'https://boot.netboot.xyz (fetched by the target at boot through the provisioner NAT)', arches: ['x86_64'], needsInternet: true },
];

export function findBootProfile(name: string): CatalogueProfile {
  const e = BOOT_CATALOGUE.find((x) => x.name === name);
  if (!e) throw new BadRequestError('profile', `no catalogue profile '${name}': use one of ${BOOT_CATALOGUE.map((x) => x.name).join(', ')}`);
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

/** The profile an entry gives a target (pure). `live` is rendered by live.ts, not here. */
export function catalogueProfile(name: string, arch: Arch, console: string): BootProfile {
  const e = findBootProfile(name);
  if (!e.arches.includes(arch)) throw new BadRequestError('profile', `'${name}' has no ${arch} build: use it on ${e.arches.join(' or ')} targets`);
  switch (name) {
    case 'debian-12-installer': {
      const d = debianInstaller(arch);
      return { kind: 'kernel', kernel: d.kernel, initrd: d.initrd, cmdline: `console=${console} priority=critical` };
    }
    case 'netboot.xyz':
      return { kind: 'script', script: '#!ipxe\necho pvmlab: chainloading netboot.xyz\nchain --autofree https://boot.netboot.xyz\n' };
    default:
      throw new Error(`'${name}' is rendered elsewhere`);
  }
}
