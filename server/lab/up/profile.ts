// Giving one target the default (live) boot profile outside `pvmlab up` (`pvmlab pxe profile <t> --live`):
// build or reuse the live image, upload it unless the provisioner already serves it, set the profile.
import fs from 'node:fs';
import type { Lab } from '../lab.ts';
import type { Reservation } from '../provisioner/pxe.ts';
import type { Arch } from '../spec.ts';
import { buildLive, liveProfile } from './live.ts';
import { catalogueProfile, findBootProfile } from './catalogue.ts';
import { fetchDebianInstaller } from './catalogue-fetch.ts';
import type { WantedArtifact } from './plan.ts';

async function uploadMissing(lab: Lab, wanted: WantedArtifact[]): Promise<void> {
  const have = new Map((await lab.provisioner.artifacts()).map((a) => [a.name, a.sha256]));
  const missing = wanted.filter((a) => have.get(a.name) !== a.sha256);
  for (const a of missing) await lab.provisioner.uploadArtifact(a.name, fs.createReadStream(a.path!), { size: fs.statSync(a.path!).size, sha256: a.sha256, refreshWarm: false });
  if (missing.length) await lab.provisioner.refreshWarm(); // the ready snapshot taken again once, not per file
}

/** A catalogue profile (pvmlab pxe catalogue) for a reservation: its files fetched (cached) and uploaded when missing. */
export async function setCatalogueProfile(lab: Lab, r: Reservation, arch: Arch, name: string): Promise<Reservation> {
  findBootProfile(name);
  if (name === 'live') return setLiveProfile(lab, r, arch);
  const console = arch === 'aarch64' ? 'ttyAMA0' : 'ttyS0';
  const profile = catalogueProfile(name, arch, console);
  if (name === 'debian-12-installer') {
    const d = await fetchDebianInstaller(arch);
    await uploadMissing(lab, [d.kernel, d.initrd]);
  }
  return lab.provisioner.setProfile(r.mac, profile);
}

/** Returns the updated reservation. Errors: no reservation for the MAC (NotFound), provisioner not running (Conflict). */
export async function setLiveProfile(lab: Lab, r: Reservation, arch: Arch): Promise<Reservation> {
  const live = await buildLive(arch);
  await uploadMissing(lab, [live.kernel, live.initrd]);
  const profile = liveProfile({ arch, console: live.console, hostname: r.hostname, publicKey: fs.readFileSync(lab.home.publicKey, 'utf8'), serverIp: lab.vms.config().network.provisionerIp });
  return lab.provisioner.setProfile(r.mac, profile);
}
