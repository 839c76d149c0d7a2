// macOS: socket_vmnet in host mode with a fixed network identifier (so macOS runs no DHCP on it), run by launchd.
// Pure planners: the launchd plist, the service commands and QEMU's netdev. Executed by backend.ts.
import type { LabConfig } from '../../config.ts';
import { socketVmnetHostIp, subnetMask } from '../../addressing.ts';

export const LAUNCHD_LABEL = 'io.github.pvmlab.socket_vmnet';
export const PLIST_PATH = `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`;
export const SOCKET_VMNET_CANDIDATES = ['/opt/homebrew/opt/socket_vmnet/bin/socket_vmnet', '/usr/local/opt/socket_vmnet/bin/socket_vmnet', '/opt/socket_vmnet/bin/socket_vmnet'];

function subnetBounds(cfg: LabConfig) {
  // socket_vmnet's host mode takes the gateway and the range; the provisioner owns .1 and DHCP,
  // so the host side takes the last host address of the subnet (the address plan keeps it from VMs).
  return { hostIp: socketVmnetHostIp(cfg.network.subnet), mask: subnetMask(cfg.network.subnet) };
}

export function planSocketVmnetArgv(cfg: LabConfig, binary: string): string[] {
  const { hostIp, mask } = subnetBounds(cfg);
  return [binary, '--vmnet-mode=host', `--vmnet-network-identifier=${cfg.network.socketVmnet.networkId}`,
    `--vmnet-gateway=${hostIp}`, `--vmnet-mask=${mask}`, cfg.network.socketVmnet.socketPath];
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function planLaunchdPlist(cfg: LabConfig, binary: string): string {
  const args = planSocketVmnetArgv(cfg, binary).map((a) => `    <string>${xmlEscape(a)}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <true/>
  <key>UserName</key>
  <string>root</string>
  <key>StandardErrorPath</key>
  <string>/var/log/pvmlab_socket_vmnet.log</string>
</dict>
</plist>
`;
}

/** The commands of `pvmlab network start|stop|status` on macOS (each an argv; run in order). */
export function planServiceCommands(action: 'start' | 'stop' | 'status', plistTmp: string): string[][] {
  switch (action) {
    case 'start':
      return [
        ['sudo', 'install', '-m', '0644', '-o', 'root', '-g', 'wheel', plistTmp, PLIST_PATH],
        ['sudo', 'launchctl', 'bootstrap', 'system', PLIST_PATH],
      ];
    case 'stop':
      return [['sudo', 'launchctl', 'bootout', `system/${LAUNCHD_LABEL}`]];
    case 'status':
      return [['launchctl', 'print', `system/${LAUNCHD_LABEL}`]];
  }
}

/** QEMU's side: connect the private NIC to socket_vmnet's unix socket (QEMU ≥ 7.2 `-netdev stream`). */
export function planSocketVmnetNic(cfg: LabConfig, opts: { mac: string; netdevId: string; deviceExtra?: string }): string[] {
  return [
    '-netdev', `stream,id=${opts.netdevId},server=off,addr.type=unix,addr.path=${cfg.network.socketVmnet.socketPath}`,
    '-device', `virtio-net-pci,netdev=${opts.netdevId},mac=${opts.mac}${opts.deviceExtra ? `,${opts.deviceExtra}` : ''}`,
  ];
}
