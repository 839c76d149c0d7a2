// One interface for the private network; one folder per backend.
import type { LabConfig } from '../config.ts';

export interface NetworkStatus {
  backend: 'userspace' | 'socket_vmnet';
  running: boolean;
  detail: string;
  /** What a user can do next (e.g. a command), when not running. */
  hint?: string;
}

export interface NetworkBackend {
  /** QEMU arguments attaching a VM's private NIC (pure). */
  privateNicArgs(opts: { mac: string; netdevId: string; deviceExtra?: string }): string[];
  /** A program that must wrap QEMU (socket_vmnet_client), if any. */
  wrapper(): string[];
  start(): Promise<NetworkStatus>;
  stop(): Promise<NetworkStatus>;
  status(): Promise<NetworkStatus>;
}

export type NetworkFactory = (cfg: LabConfig) => NetworkBackend;
