import type { LabConfig } from '../config.ts';
import type { NetworkBackend } from './types.ts';
import { socketVmnetBackend } from './socket-vmnet/backend.ts';
import { userspaceBackend } from './userspace/backend.ts';

export function networkBackend(cfg: LabConfig): NetworkBackend {
  return cfg.network.backend === 'socket_vmnet' ? socketVmnetBackend(cfg) : userspaceBackend(cfg);
}
