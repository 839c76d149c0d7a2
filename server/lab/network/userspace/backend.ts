// Linux default, no root: every VM of the lab joins one multicast group bound to 127.0.0.1 — a switch with no daemon.
import type { LabConfig } from '../../config.ts';
import type { NetworkBackend, NetworkStatus } from '../types.ts';

export function planMcastNic(cfg: LabConfig, opts: { mac: string; netdevId: string; deviceExtra?: string }): string[] {
  const { group, port } = cfg.network.mcast;
  return [
    '-netdev', `socket,id=${opts.netdevId},mcast=${group}:${port},localaddr=127.0.0.1`,
    '-device', `virtio-net-pci,netdev=${opts.netdevId},mac=${opts.mac}${opts.deviceExtra ? `,${opts.deviceExtra}` : ''}`,
  ];
}

export function userspaceBackend(cfg: LabConfig): NetworkBackend {
  const status = async (): Promise<NetworkStatus> => ({
    backend: 'userspace',
    running: true,
    detail: `multicast segment ${cfg.network.mcast.group}:${cfg.network.mcast.port} on 127.0.0.1 (no daemon needed), subnet ${cfg.network.subnet}`,
  });
  return {
    privateNicArgs: (o) => planMcastNic(cfg, o),
    wrapper: () => [],
    start: status,
    stop: async () => ({ ...(await status()), detail: `nothing to stop: the userspace network exists while VMs run (${cfg.network.mcast.group}:${cfg.network.mcast.port})` }),
    status,
  };
}
