// What the provisioner's cloud-init adds: NAT for the private network (filled in with the pxeboot stack).
import type { LabConfig } from '../config.ts';

export interface ProvisionerExtras {
  natEnv?: string;
  extraWriteFiles?: { path: string; content: string; permissions: string }[];
  extraRuncmd?: string[][];
}

export function provisionerCloudInit(cfg: LabConfig): ProvisionerExtras {
  return {
    natEnv: `PRIVATE_CIDR=${cfg.network.subnet}\nPRIVATE_IF=priv0\nUPLINK_IF=uplink0\n`,
  };
}
