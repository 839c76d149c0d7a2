import { describe, expect, it } from 'vitest';
import { renderLabFile, type ExportInput } from './export.ts';
import { parseLabFile } from './labfile.ts';
import { newLabConfig } from '../config.ts';
import type { VmRecord } from '../spec.ts';

const cfg = newLabConfig('linux', () => 7);
const rec = (o: Partial<VmRecord>): VmRecord => ({ version: 1, name: 'x', role: 'target', arch: 'x86_64', cpus: 1, memoryMiB: 512, diskSizeMiB: 10240, boot: 'pxe',
  image: null, kernel: null, initrd: null, append: null, mac: '52:54:00:00:00:02', uplinkMac: null, ip: null, sshPort: null, sshUser: 'root', createdAt: '', accel: null, crash: null, ...o });
const SHA = 'c'.repeat(64);
const input: ExportInput = {
  cfg,
  offlineImageDir: '/root/.cache/pvmlab/images',
  vms: [
    rec({ name: 'prov', role: 'provisioner', boot: 'kernel', cpus: 2, memoryMiB: 2048, mac: '52:54:00:00:00:01', image: '/root/.cache/pvmlab/images/provisioner-x86_64-abc/disk.qcow2' }),
    rec({ name: 'target1', mac: '52:54:00:00:00:02' }),
    rec({ name: 'inst', mac: '52:54:00:00:00:03', memoryMiB: 1024 }),
    rec({ name: 'disky', boot: 'disk', mac: '52:54:00:00:00:04' }),
  ],
  reservations: [
    { mac: '52:54:00:00:00:02', ip: '192.168.100.2', hostname: 'target1', profile: { kind: 'kernel', kernel: 'pvmlab-live-x86_64-vmlinuz', initrd: 'pvmlab-live-x86_64-initrd.img', cmdline: 'console=ttyS0 …' } },
    { mac: '52:54:00:00:00:03', ip: '192.168.100.3', hostname: 'inst', profile: { kind: 'kernel', kernel: 'linux', initrd: 'initrd.gz', cmdline: 'auto=true' } },
    { mac: '52:54:00:aa:00:01', ip: '192.168.100.40', hostname: 'metal1', profile: { kind: 'script', script: '#!ipxe\nexit\n' } },
    { mac: '52:54:00:aa:00:02', ip: '192.168.100.41', hostname: 'metal2', profile: { kind: 'exit' } },
  ],
  artifacts: { linux: SHA, 'initrd.gz': SHA, 'pvmlab-live-x86_64-vmlinuz': SHA },
};

describe('export', () => {
  it('export → parse gives back the same VMs, MACs, IPs, reservations and profiles', () => {
    const text = renderLabFile(input);
    expect(text).toContain('# Not exported (only PXE targets can be described here yet): disky');
    const { desired } = parseLabFile(text, 'lab.yaml', { subnet: cfg.network.subnet, dhcpRange: [cfg.network.dhcpStart, cfg.network.dhcpEnd], hostArch: 'aarch64' });
    expect(desired).toEqual({
      network: { subnet: '192.168.100.0/24', dhcpRange: ['192.168.100.100', '192.168.100.200'] },
      provisioner: { name: 'prov', arch: 'x86_64', image: 'offline', cpus: 2, memory: '2048M' },
      targets: [
        { name: 'target1', arch: 'x86_64', boot: 'pxe', mac: '52:54:00:00:00:02', ip: '192.168.100.2', memory: '512M', profile: 'live', sshUser: 'root' },
        { name: 'inst', arch: 'x86_64', boot: 'pxe', mac: '52:54:00:00:00:03', ip: '192.168.100.3', memory: '1024M', sshUser: 'root',
          profile: { kind: 'kernel', kernel: 'linux', initrd: 'initrd.gz', cmdline: 'auto=true' } },
      ],
      reservations: [
        { mac: '52:54:00:aa:00:01', ip: '192.168.100.40', hostname: 'metal1', profile: { kind: 'script', script: '#!ipxe\nexit\n' } },
        { mac: '52:54:00:aa:00:02', ip: '192.168.100.41', hostname: 'metal2', profile: null },
      ],
      artifacts: [{ name: 'initrd.gz', sha256: SHA }, { name: 'linux', sha256: SHA }],
    });
  });

  it('catalogue profiles export by name', () => {
    const text = renderLabFile({ ...input, vms: [input.vms[0]], reservations: [
      { mac: '52:54:00:aa:00:01', ip: '192.168.100.40', hostname: 'deb', profile: { kind: 'kernel', kernel: 'debian-12-installer-amd64-linux', initrd: 'debian-12-installer-amd64-initrd.gz', cmdline: 'console=ttyS0 priority=critical' } },
      { mac: '52:54:00:aa:00:02', ip: '192.168.100.41', hostname: 'xyz', profile: { kind: 'script', script: '#!ipxe\necho pvmlab: chainloading netboot.xyz\nchain --autofree https://boot.netboot.xyz\n' } },
    ] });
    const { desired } = parseLabFile(text, 'lab.yaml', { subnet: cfg.network.subnet, dhcpRange: [cfg.network.dhcpStart, cfg.network.dhcpEnd] });
    expect(desired.reservations?.map((r) => r.profile)).toEqual([{ catalogue: 'debian-12-installer' }, { catalogue: 'netboot.xyz' }]);
    expect(desired.artifacts).toEqual([]);
  });

  it('profiles naming artifacts need their sha256: from the running provisioner', () => {
    expect(() => renderLabFile({ ...input, artifacts: null })).toThrow(/provisioner is not running.*pvmlab up first/);
    expect(() => renderLabFile({ ...input, artifacts: {} })).toThrow(/artifact 'initrd.gz', which the provisioner does not serve/);
  });
});

describe('export of install profiles', () => {
  it('image and installer profiles (with their install state left out) round-trip through lab.yaml', () => {
    const image = { kind: 'image' as const, image: 'disk.raw', sha256: SHA, format: 'raw' as const };
    const preseed = { kind: 'debian-preseed' as const, kernel: 'linux', initrd: 'initrd.gz', preseed: 'd-i debian-installer/locale string en_US\n', cmdline: 'console=ttyS0' };
    const x: ExportInput = { ...input, vms: input.vms.slice(0, 3), artifacts: { ...input.artifacts, 'disk.raw': SHA },
      reservations: [
        { mac: '52:54:00:00:00:02', ip: '192.168.100.2', hostname: 'target1', profile: image, install: { id: 'abcdef0123456789', status: 'installed', at: 't', from: 'image disk.raw' } },
        { mac: '52:54:00:00:00:03', ip: '192.168.100.3', hostname: 'inst', profile: preseed },
      ] };
    const text = renderLabFile(x);
    expect(text).not.toContain('abcdef0123456789');
    const { desired } = parseLabFile(text, 'lab.yaml', { subnet: cfg.network.subnet, dhcpRange: [cfg.network.dhcpStart, cfg.network.dhcpEnd] });
    expect(desired.targets.map((t) => t.profile)).toEqual([image, preseed]);
    expect(desired.artifacts?.map((a) => a.name)).toEqual(['disk.raw', 'initrd.gz', 'linux']);
  });
});
