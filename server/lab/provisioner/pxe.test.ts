import { describe, expect, it } from 'vitest';
import { artifactName, grubPathForMac, renderGrubConfig, parseLeases, renderIpxeScript, renderReservations, reservation } from './pxe.ts';

describe('pxe planners', () => {
  it('renders reservations for dnsmasq', () => {
    const r = [reservation.parse({ mac: '52:54:00:AA:bb:01', ip: '192.168.100.10', hostname: 'web' }), reservation.parse({ mac: '52-54-00-aa-bb-02', ip: '192.168.100.11', hostname: 'db' })];
    expect(renderReservations(r)).toBe('52:54:00:aa:bb:01,192.168.100.10,web\n52:54:00:aa:bb:02,192.168.100.11,db\n');
    expect(renderReservations([])).toBe('');
  });
  it('parses dnsmasq leases, skipping junk', () => {
    const t = '1767225600 52:54:00:aa:bb:01 192.168.100.10 web 01:52:54:00:aa:bb:01\n0 52:54:00:AA:BB:02 192.168.100.150 * *\nduid 00:01:02\n\n';
    expect(parseLeases(t)).toEqual([
      { expires: '2026-01-01T00:00:00.000Z', mac: '52:54:00:aa:bb:01', ip: '192.168.100.10', hostname: 'web', clientId: '01:52:54:00:aa:bb:01' },
      { expires: null, mac: '52:54:00:aa:bb:02', ip: '192.168.100.150', hostname: null, clientId: null },
    ]);
  });
  it('renders iPXE scripts per profile', () => {
    expect(renderIpxeScript({ kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd.img', cmdline: 'console=ttyS0 ip=dhcp' }, '192.168.100.1', 'web')).toBe(
      '#!ipxe\necho pvmlab: booting web (${net0/mac} ${net0/ip})\nkernel http://192.168.100.1/artifacts/vmlinuz initrd=initrd.img console=ttyS0 ip=dhcp\ninitrd http://192.168.100.1/artifacts/initrd.img\nboot\n');
    expect(renderIpxeScript({ kind: 'kernel', kernel: 'k', cmdline: '' }, '10.0.0.1', 'x')).toBe('#!ipxe\necho pvmlab: booting x (${net0/mac} ${net0/ip})\nkernel http://10.0.0.1/artifacts/k\nboot\n');
    expect(renderIpxeScript({ kind: 'script', script: '#!ipxe\nshell' }, '1.1.1.1', 'x')).toBe('#!ipxe\nshell\n');
    expect(renderIpxeScript({ kind: 'exit' }, '1.1.1.1', 'x')).toMatch(/^#!ipxe\n.*\nexit\n$/);
  });
  it('artifact names cannot escape', () => {
    for (const bad of ['../x', 'a/b', '.hidden', '', 'a..b', 'x'.repeat(200), 'a b', 'a\nb']) expect(artifactName.safeParse(bad).success, bad).toBe(false);
    for (const good of ['vmlinuz', 'initrd.img', 'debian-12_amd64.iso']) expect(artifactName.safeParse(good).success).toBe(true);
  });
});

describe('arm64 GRUB configs', () => {
  it('per-MAC file and kernel profile over TFTP', () => {
    expect(grubPathForMac('52:54:00:AA:00:10')).toBe('grub/grub.cfg-01-52-54-00-aa-00-10');
    expect(renderGrubConfig({ kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd.img', cmdline: 'console=ttyAMA0' }, 'arm1')).toBe(
      'set timeout=0\necho "pvmlab: booting arm1"\nlinux /artifacts/vmlinuz console=ttyAMA0\ninitrd /artifacts/initrd.img\nboot\n');
  });
});
