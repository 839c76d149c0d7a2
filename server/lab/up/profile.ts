// Giving one target a catalogue boot profile outside `pvmlab up` (`pvmlab pxe profile <t> --live | --catalogue NAME`):
// build or fetch its files (cached), upload those the provisioner does not already serve, set the profile.
import fs from 'node:fs';
import type { Lab } from '../lab.ts';
import type { Reservation } from '../provisioner/pxe.ts';
import type { Arch } from '../spec.ts';
import { buildLive, liveProfile, type LiveImage } from './live.ts';
import { buildLiveInProvisioner, cachedRemoteLive, chooseLiveBuilder, hostHasApt } from './live-remote.ts';
import { catalogueProfile, findBootProfile, targetConsole } from './catalogue.ts';
import { catalogueArtifacts } from './catalogue-fetch.ts';
import { artifactPresent, type WantedArtifact } from './plan.ts';

/** Upload the artifacts the provisioner lacks (compared by sha256), then retake the ready snapshot once. */
export async function uploadMissing(lab: Lab, wanted: WantedArtifact[]): Promise<void> {
  const have = new Map((await lab.provisioner.artifacts()).map((a) => [a.name, a.sha256]));
  const missing = wanted.filter((a) => !artifactPresent(a, have.get(a.name)));
  for (const a of missing) await lab.provisioner.uploadArtifact(a.name, fs.createReadStream(a.path!), { size: fs.statSync(a.path!).size, sha256: a.sha256, refreshWarm: false });
  if (missing.length) await lab.provisioner.refreshWarm(); // the ready snapshot taken again once, not per file
}

/** A catalogue profile (pvmlab pxe catalogue) for a reservation: its files fetched (cached) and uploaded when missing. */
export async function setCatalogueProfile(lab: Lab, r: Reservation, arch: Arch, name: string): Promise<Reservation> {
  if (findBootProfile(name).files === 'live') return setLiveProfile(lab, r, arch);
  const publicKey = fs.readFileSync(lab.home.publicKey, 'utf8');
  const profile = catalogueProfile(name, arch, { console: targetConsole(arch), hostname: r.hostname, serverIp: lab.vms.config().network.provisionerIp });
  await uploadMissing(lab, await catalogueArtifacts(name, arch, { hostname: r.hostname, publicKey }));
  return lab.provisioner.setProfile(r.mac, profile);
}

/** Returns the updated reservation. Errors: no reservation for the MAC (NotFound), provisioner not running (Conflict). */
export async function setLiveProfile(lab: Lab, r: Reservation, arch: Arch): Promise<Reservation> {
  const live = await ensureLiveServed(lab, arch);
  const profile = liveProfile({ arch, console: live.console, hostname: r.hostname, publicKey: fs.readFileSync(lab.home.publicKey, 'utf8'), serverIp: lab.vms.config().network.provisionerIp });
  return lab.provisioner.setProfile(r.mac, profile);
}

/**
 * The default live image for an arch, served by the provisioner: built on this host where it has apt (or from the
 * copy a provisioner build left in the cache) and uploaded when missing, else built and published inside the
 * provisioner (a host without apt; the ready snapshot is retaken once). Used by the live profile and by image
 * installs (the live image is their installer).
 */
export async function ensureLiveServed(lab: Lab, arch: Arch): Promise<LiveImage> {
  const live = chooseLiveBuilder(process.env, await hostHasApt()).builder === 'host' ? await buildLive(arch) : await cachedRemoteLive(arch);
  if (live) { await uploadMissing(lab, [live.kernel, live.initrd]); return live; }
  const built = await buildLiveInProvisioner(lab, arch, { id: 'live', signal: new AbortController().signal, stage() {}, progress() {}, log() {} });
  await lab.provisioner.refreshWarm();
  return built;
}
