// What the provisioner's cloud-init adds: NAT (forward + masquerade the private network to the uplink,
// persistent across reboots via a systemd unit) and Docker when the image lacks it (Ubuntu cloud images).
// The NAT script and unit are the ones baked into the offline image: one source, scripts/provisioner-image/.
import fs from 'node:fs';
import path from 'node:path';
import type { LabConfig } from '../config.ts';
import type { ProvisionerExtras } from '../cloudinit/render.ts';

const ROOTFS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../scripts/provisioner-image/rootfs');
const read = (rel: string) => fs.readFileSync(path.join(ROOTFS, rel), 'utf8');

export function provisionerCloudInit(cfg: LabConfig): ProvisionerExtras {
  return {
    ulaAddress: cfg.network.ula.replace('::/64', '::1/64'),
    natEnv: `PRIVATE_CIDR=${cfg.network.subnet}\nPRIVATE_IF=priv0\nUPLINK_IF=uplink0\n`,
    extraWriteFiles: [
      { path: '/usr/local/sbin/pvmlab-nat', content: read('usr/local/sbin/pvmlab-nat'), permissions: '0755' },
      { path: '/etc/systemd/system/pvmlab-nat.service', content: read('etc/systemd/system/pvmlab-nat.service'), permissions: '0644' },
    ],
    extraRuncmd: [
      ['sh', '-c', 'command -v docker >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io; }'],
      ['systemctl', 'enable', '--now', 'docker'],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'pvmlab-nat.service'],
      ['install', '-d', '-m', '0755', '/var/lib/pvmlab/pxe', '/opt/pvmlab'],
    ],
  };
}
