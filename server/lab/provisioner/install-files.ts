// The PXE files of one reservation (pure): its iPXE script and arm64 GRUB config, and for an install profile
// also the "boot from disk" variants the stack switches to when the install reports (`<file>.disk`,
// pxeboot_stack/installs.sh) and the installer's answers under http/config/<mac>/.
import type { Arch } from '../spec.ts';
import { configPathForMac, describeInstall, isInstallProfile, renderAutoinstall, renderLocalGrub, renderLocalIpxe, renderMetaData, renderPreseed } from './install.ts';
import { grubPathForMac, ipxePathForMac, renderGrubConfig, renderIpxeScript, type Reservation } from './pxe.ts';
import type { PxeFile } from './stack.ts';

/** Suffix of the boot-from-disk variant of a per-MAC boot file (published while an install is armed). */
export const DISK_SUFFIX = '.disk';

/** "installed <when> from <profile>" for people (VM page, `vm list`), or null when the reservation has no install state. */
export function installSummary(r: Pick<Reservation, 'install'>): string | null {
  const i = r.install;
  if (!i) return null;
  if (i.status === 'installed') return `installed ${i.at ?? '?'} from ${i.from ?? 'its profile'}`;
  if (i.status === 'failed') return `install failed ${i.at ?? '?'}: ${i.reason ?? 'no reason given'}`;
  return 'install pending (boots its installer)';
}

/**
 * Every file the stack serves for a reservation. `arch`: the VM owning the MAC (null when none: both files are
 * written anyway, as today). `publicKey`: the lab key, so the live installer answers SSH while it works.
 */
export function renderTargetFiles(r: Reservation, o: { serverIp: string; publicKey?: string; arch?: Arch | null }): PxeFile[] {
  const ipxe = `http/${ipxePathForMac(r.mac)}`;
  const grub = `tftp/${grubPathForMac(r.mac)}`;
  const p = r.profile;
  if (!isInstallProfile(p)) {
    return [{ rel: ipxe, content: renderIpxeScript(p, o.serverIp, r.hostname) }, { rel: grub, content: renderGrubConfig(p, r.hostname) }];
  }
  const from = describeInstall(p);
  if (r.install?.status === 'installed') {
    const why = `was installed ${r.install.at ?? ''} from ${r.install.from ?? from}`.replace(/ {2}/, ' ');
    return [{ rel: ipxe, content: renderLocalIpxe(r.hostname, why, r.install.id) }, { rel: grub, content: renderLocalGrub(r.hostname, why, r.install.id) }];
  }
  const t = { mac: r.mac, installId: r.install?.id, publicKey: o.publicKey };
  const files: PxeFile[] = [
    { rel: ipxe, content: renderIpxeScript(p, o.serverIp, r.hostname, t) },
    { rel: grub, content: renderGrubConfig(p, r.hostname, { ...t, serverIp: o.serverIp }) },
    // What the stack serves once this install reports (installs.sh checks the install id in the first lines).
    { rel: ipxe + DISK_SUFFIX, content: renderLocalIpxe(r.hostname, `was installed from ${from}`, r.install?.id) },
    { rel: grub + DISK_SUFFIX, content: renderLocalGrub(r.hostname, `was installed from ${from}`, r.install?.id) },
  ];
  const cfg = `http/${configPathForMac(r.mac)}`;
  if (p.kind === 'debian-preseed') files.push({ rel: `${cfg}/preseed.cfg`, content: renderPreseed(p.preseed, o.serverIp, t) });
  if (p.kind === 'ubuntu-autoinstall') {
    files.push({ rel: `${cfg}/user-data`, content: renderAutoinstall(p.userData, o.serverIp, t) },
      { rel: `${cfg}/meta-data`, content: renderMetaData(r.hostname, r.install?.id) }, { rel: `${cfg}/vendor-data`, content: '' });
  }
  return files;
}
