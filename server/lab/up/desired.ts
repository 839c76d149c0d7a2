// The lab a user asks for (`pvmlab up`, lab.yaml): what should exist, before any look at what does.
// The embedded default is one provisioner and one PXE target on the default boot profile, on the
// host's native architecture.
import { hostArch, type Arch } from '../spec.ts';
import type { BootProfile } from '../provisioner/pxe.ts';
import type { CatalogueName } from './catalogue.ts';

/**
 * Where the provisioner's disk comes from:
 * - `auto`: the Ubuntu 24.04 cloud image when it is already downloaded or can be, else `offline`;
 * - `offline`: the image built from Debian packages by scripts/build-provisioner-image.sh (cached);
 * - a catalogue name (`ubuntu-24.04`) or an absolute path to a qcow2/raw image.
 */
export type ImageChoice = 'auto' | 'offline' | string;

export interface DesiredProvisioner { name: string; arch: Arch; image: ImageChoice; cpus: number; memory: string }

/**
 * A target's boot profile: `live` is the default one (a small live Linux built from Debian packages that
 * takes its IP by DHCP, accepts the lab key and answers SSH); `{ catalogue }` another entry of the boot
 * catalogue (catalogue.ts); null boots nothing until it gets one.
 */
export type DesiredProfile = 'live' | BootProfile | null | { catalogue: Exclude<CatalogueName, 'live'> };

export interface DesiredTarget {
  name: string; arch: Arch; boot: 'pxe'; profile: DesiredProfile; memory: string; ip?: string; mac?: string; sshUser: string;
  /** Absent: bios / off / pxe (spec.ts vmCreateInput checks the combination). */
  firmware?: 'bios' | 'uefi'; secureBoot?: boolean; netboot?: 'pxe' | 'http';
}

/** A DHCP reservation for a machine pvmlab did not create (any MAC on the private network). */
export interface DesiredReservation { mac: string; ip: string; hostname: string; profile: DesiredProfile }

/** A file the provisioner serves under /artifacts/<name>; without path it must already be there with that sha256. */
export interface DesiredArtifact { name: string; path?: string; sha256: string }

export interface DesiredLab {
  provisioner: DesiredProvisioner;
  targets: DesiredTarget[];
  reservations?: DesiredReservation[];
  artifacts?: DesiredArtifact[];
  /** The private network (lab file); absent: the lab's current one. */
  network?: { subnet: string; dhcpRange: [string, string] };
}

/** The embedded default lab: provisioner `prov` and `targets` PXE targets (`target1`…) on the live profile. */
export function defaultLab(opts: { arch?: Arch; image?: ImageChoice; targets?: number } = {}): DesiredLab {
  const arch = opts.arch ?? hostArch();
  const n = opts.targets ?? 1;
  return {
    provisioner: { name: 'prov', arch, image: opts.image ?? 'auto', cpus: 2, memory: '2G' },
    targets: Array.from({ length: n }, (_v, i) => ({ name: `target${i + 1}`, arch, boot: 'pxe' as const, profile: 'live' as const, memory: '512M', sshUser: 'root' })),
  };
}
