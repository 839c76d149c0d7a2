import { describe, expect, it } from 'vitest';
import { bootPathsOf, explainTarget } from './netboot.ts';
import type { VmRecord } from '../spec.ts';

const vm = (o: Partial<VmRecord>): VmRecord => ({ version: 1, name: 't', role: 'target', arch: 'x86_64', cpus: 1, memoryMiB: 512, diskSizeMiB: 1024, boot: 'pxe',
  image: null, kernel: null, initrd: null, append: null, mac: '52:54:00:00:00:01', uplinkMac: null, ip: null, sshPort: null, sshUser: 'root', createdAt: '', accel: null, crash: null, ...o });
const lab = {
  vms: [vm({ name: 'bios1' }), vm({ name: 'efi1', mac: '52:54:00:00:00:02', firmware: 'uefi', netboot: 'http' }), vm({ name: 'sb1', mac: '52:54:00:00:00:03', firmware: 'uefi', secureBoot: true })],
  reservations: [{ mac: '52:54:00:00:00:02', ip: '192.168.100.22', hostname: 'efi1', profile: { kind: 'exit' as const } }],
  serverIp: '192.168.100.1',
};

describe('explainTarget', () => {
  it('a lab VM is the client its firmware makes it; flags override; other MACs are plain PXE ROMs', () => {
    expect(explainTarget('bios1', {}, lab).client).toBe('ipxe-rom');
    expect(explainTarget('efi1', {}, lab)).toMatchObject({ client: 'uefi-http', mac: '52:54:00:00:00:02', reservation: { ip: '192.168.100.22' } });
    expect(explainTarget('52:54:00:00:00:02', { http: false }, lab).client).toBe('uefi-pxe');
    expect(explainTarget('52-54-00-00-00-09', {}, lab).client).toBe('bios-pxe');
    expect(explainTarget('52:54:00:00:00:09', { firmware: 'uefi', http: true }, lab).client).toBe('uefi-http');
    expect(explainTarget('52:54:00:00:00:09', { arch: 'aarch64' }, lab).client).toBe('arm64-uefi-pxe');
    expect(explainTarget('sb1', {}, lab).notes.join(' ')).toMatch(/Secure Boot is on.*Access Denied/);
  });

  it('says what it needs', () => {
    expect(() => explainTarget('nope', {}, lab)).toThrow(/not a MAC, a VM or a reserved hostname/);
    expect(() => explainTarget('bios1', { http: true }, lab)).toThrow(/HTTP Boot needs UEFI firmware/);
  });

  it('boot paths only for PXE targets, from one log', () => {
    const log = 'Nov 29 17:12:41 dnsmasq-dhcp[7]: 15 vendor class: PXEClient:Arch:00000:UNDI:002001\nNov 29 17:12:41 dnsmasq-dhcp[7]: 15 user class: iPXE\n'
      + 'Nov 29 17:12:41 dnsmasq-dhcp[7]: 15 DHCPDISCOVER(eth1) 52:54:00:00:00:01 \nNov 29 17:12:41 dnsmasq-dhcp[7]: 15 sent size: 30 option: 67 bootfile-name  http://192.168.100.1/boot.ipxe\n';
    const p = bootPathsOf([...lab.vms, vm({ name: 'disk1', boot: 'disk', mac: '52:54:00:00:00:05' })], log);
    expect(Object.keys(p)).toEqual(['bios1', 'efi1', 'sb1']);
    expect(p.bios1?.path).toBe('ipxe');
    expect(p.efi1).toBeNull();
  });
});
