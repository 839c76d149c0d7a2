// Giving one target the default (live) boot profile outside `pvmlab up` (`pvmlab pxe profile <t> --live`):
// build or reuse the live image, upload it unless the provisioner already serves it, set the profile.
import fs from 'node:fs';
import type { Lab } from '../services.ts';
import type { Reservation } from '../provisioner/pxe.ts';
import type { Arch } from '../spec.ts';
import { buildLive, liveProfile } from './live.ts';

/** Returns the updated reservation. Errors: no reservation for the MAC (NotFound), provisioner not running (Conflict). */
export async function setLiveProfile(lab: Lab, r: Reservation, arch: Arch): Promise<Reservation> {
  const live = await buildLive(arch);
  const have = new Map((await lab.provisioner.artifacts()).map((a) => [a.name, a.sha256]));
  for (const a of [live.kernel, live.initrd]) {
    if (have.get(a.name) !== a.sha256) await lab.provisioner.uploadArtifact(a.name, fs.createReadStream(a.path!));
  }
  const profile = liveProfile({ arch, console: live.console, hostname: r.hostname, publicKey: fs.readFileSync(lab.home.publicKey, 'utf8'), serverIp: lab.vms.config().network.provisionerIp });
  return lab.provisioner.setProfile(r.mac, profile);
}
