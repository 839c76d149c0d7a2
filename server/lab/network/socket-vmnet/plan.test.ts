import { describe, expect, it } from 'vitest';
import { newLabConfig } from '../../config.ts';
import { LAUNCHD_LABEL, PLIST_PATH, planLaunchdPlist, planServiceCommands, planSocketVmnetArgv, planSocketVmnetNic } from './plan.ts';

const cfg = newLabConfig('darwin', () => 3);
cfg.network.socketVmnet.networkId = '8f0c3a2e-1b7d-4c55-9a51-2f4e6d7c8b90';
const bin = '/opt/homebrew/opt/socket_vmnet/bin/socket_vmnet';

describe('socket_vmnet plans (macOS; cannot run here, so exact argv)', () => {
  it('defaults to socket_vmnet on macOS, userspace elsewhere', () => {
    expect(cfg.network.backend).toBe('socket_vmnet');
    expect(newLabConfig('linux').network.backend).toBe('userspace');
  });
  it('host mode with a fixed network identifier: macOS runs no DHCP on it', () => {
    expect(planSocketVmnetArgv(cfg, bin)).toEqual([bin, '--vmnet-mode=host', '--vmnet-network-identifier=8f0c3a2e-1b7d-4c55-9a51-2f4e6d7c8b90',
      '--vmnet-gateway=192.168.100.254', '--vmnet-mask=255.255.255.0', '/var/run/pvmlab_socket_vmnet']);
  });
  it('service commands: launchd via sudo', () => {
    expect(planServiceCommands('start', '/tmp/x.plist')).toEqual([
      ['sudo', 'install', '-m', '0644', '-o', 'root', '-g', 'wheel', '/tmp/x.plist', PLIST_PATH],
      ['sudo', 'launchctl', 'bootstrap', 'system', PLIST_PATH],
    ]);
    expect(planServiceCommands('stop', '')).toEqual([['sudo', 'launchctl', 'bootout', `system/${LAUNCHD_LABEL}`]]);
    expect(planServiceCommands('status', '')).toEqual([['launchctl', 'print', `system/${LAUNCHD_LABEL}`]]);
  });
  it('the launchd plist runs exactly that argv as root, kept alive', () => {
    const plist = planLaunchdPlist(cfg, bin);
    expect(plist).toContain(`<string>${LAUNCHD_LABEL}</string>`);
    expect(plist).toContain('    <string>--vmnet-mode=host</string>\n');
    expect(plist).toContain('<key>KeepAlive</key>\n  <true/>');
    expect(plist).toContain('<key>UserName</key>\n  <string>root</string>');
  });
  it('QEMU joins with -netdev stream on the unix socket', () => {
    expect(planSocketVmnetNic(cfg, { mac: '52:54:00:00:00:01', netdevId: 'priv', deviceExtra: 'bootindex=1' })).toEqual([
      '-netdev', 'stream,id=priv,server=off,addr.type=unix,addr.path=/var/run/pvmlab_socket_vmnet',
      '-device', 'virtio-net-pci,netdev=priv,mac=52:54:00:00:00:01,bootindex=1',
    ]);
  });
});
