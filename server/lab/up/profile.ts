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

async function uploadMissing(lab: Lab, wanted: WantedArtifact[]): Promise<void> {
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
  let live: LiveImage | null;
  if (chooseLiveBuilder(process.env, await hostHasApt()).builder === 'host') live = await buildLive(arch);
  else live = await cachedRemoteLive(arch);
  if (live) await uploadMissing(lab, [live.kernel, live.initrd]);
  else {
    // built and published inside the provisioner (a host without apt); the ready snapshot is retaken once
    live = await buildLiveInProvisioner(lab, arch, { id: 'live', signal: new AbortController().signal, stage() {}, progress() {}, log() {} });
    await lab.provisioner.refreshWarm();
  }
  const profile = liveProfile({ arch, console: live.console, hostname: r.hostname, publicKey: fs.readFileSync(lab.home.publicKey, 'utf8'), serverIp: lab.vms.config().network.provisionerIp });
  return lab.provisioner.setProfile(r.mac, profile);
}
