import { describe, expect, it } from 'vitest';
import { installSummary, renderTargetFiles } from './install-files.ts';
import { storedReservation } from './pxe.ts';

const SHA = 'b'.repeat(64);
const base = { mac: '52:54:00:aa:bb:01', ip: '192.168.100.10', hostname: 'web' };

describe('renderTargetFiles', () => {
  it('a kernel profile: the iPXE script and the GRUB config, as before', () => {
    const r = storedReservation.parse({ ...base, profile: { kind: 'kernel', kernel: 'k', cmdline: '' } });
    expect(renderTargetFiles(r, { serverIp: '192.168.100.1' }).map((f) => f.rel)).toEqual(['http/ipxe/52:54:00:aa:bb:01', 'tftp/grub/grub.cfg-01-52-54-00-aa-bb-01']);
  });
  it('an armed image install: install files + their boot-from-disk variants carrying the install id', () => {
    const r = storedReservation.parse({ ...base, profile: { kind: 'image', image: 'disk.raw', sha256: SHA }, install: { id: 'abcdef0123456789', status: 'pending' } });
    const files = renderTargetFiles(r, { serverIp: '192.168.100.1' });
    expect(files.map((f) => f.rel)).toEqual(['http/ipxe/52:54:00:aa:bb:01', 'tftp/grub/grub.cfg-01-52-54-00-aa-bb-01', 'http/ipxe/52:54:00:aa:bb:01.disk', 'tftp/grub/grub.cfg-01-52-54-00-aa-bb-01.disk']);
    expect(files[0].content).toContain(`pvmlab.install=http://192.168.100.1/artifacts/disk.raw pvmlab.sha256=${SHA} pvmlab.installed=http://192.168.100.1/installed pvmlab.installid=abcdef0123456789`);
    expect(files[2].content.split('\n').slice(0, 2)).toEqual(['#!ipxe', '# pvmlab-local-boot abcdef0123456789']);
    expect(files[3].content.split('\n')[0]).toBe('# pvmlab-local-boot abcdef0123456789');
  });
  it('installed: only boot-from-disk files, saying when and from what', () => {
    const r = storedReservation.parse({ ...base, profile: { kind: 'image', image: 'disk.raw', sha256: SHA }, install: { id: 'abcdef0123456789', status: 'installed', at: '2026-11-29T17:00:00+00:00', from: 'image disk.raw' } });
    const files = renderTargetFiles(r, { serverIp: '192.168.100.1' });
    expect(files.map((f) => f.rel)).toEqual(['http/ipxe/52:54:00:aa:bb:01', 'tftp/grub/grub.cfg-01-52-54-00-aa-bb-01']);
    expect(files[0].content).toContain('echo pvmlab: web was installed 2026-11-29T17:00:00+00:00 from image disk.raw: booting from its disk');
    expect(installSummary(r)).toBe('installed 2026-11-29T17:00:00+00:00 from image disk.raw');
  });
  it('installers: their answers under http/config/<mac>/', () => {
    const d = storedReservation.parse({ ...base, profile: { kind: 'debian-preseed', kernel: 'l', initrd: 'i', preseed: 'd-i x string y' }, install: { id: 'abcdef0123456789', status: 'pending' } });
    expect(renderTargetFiles(d, { serverIp: '192.168.100.1' }).map((f) => f.rel).slice(4)).toEqual(['http/config/52:54:00:aa:bb:01/preseed.cfg']);
    const u = storedReservation.parse({ ...base, profile: { kind: 'ubuntu-autoinstall', kernel: 'l', initrd: 'i', iso: 'u.iso', userData: '#cloud-config\nautoinstall:\n  version: 1\n' }, install: { id: 'abcdef0123456789', status: 'failed', reason: 'x' } });
    expect(renderTargetFiles(u, { serverIp: '192.168.100.1' }).map((f) => f.rel).slice(4)).toEqual(['http/config/52:54:00:aa:bb:01/user-data', 'http/config/52:54:00:aa:bb:01/meta-data', 'http/config/52:54:00:aa:bb:01/vendor-data']);
    expect(installSummary(u)).toBe('install failed ?: x');
  });
});
