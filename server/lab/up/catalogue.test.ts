import { describe, expect, it } from 'vitest';
import { BOOT_CATALOGUE, catalogueProfile, debianInstaller } from './catalogue.ts';

describe('boot catalogue', () => {
  it('every entry says where it comes from', () => {
    expect(BOOT_CATALOGUE.map((e) => e.name)).toEqual(['live', 'debian-12-installer', 'netboot.xyz']);
    for (const e of BOOT_CATALOGUE) expect(e.source.length).toBeGreaterThan(20);
  });
  it('the Debian installer: package, files inside it, artifact names per arch', () => {
    expect(debianInstaller('aarch64')).toEqual({
      package: 'debian-installer-12-netboot-arm64',
      kernelPath: 'usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64/linux',
      initrdPath: 'usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64/initrd.gz',
      kernel: 'debian-12-installer-arm64-linux', initrd: 'debian-12-installer-arm64-initrd.gz',
    });
  });
  it.each([
    ['debian-12-installer', 'x86_64', { kind: 'kernel', kernel: 'debian-12-installer-amd64-linux', initrd: 'debian-12-installer-amd64-initrd.gz', cmdline: 'console=ttyS0 priority=critical' }],
    ['netboot.xyz', 'x86_64', { kind: 'script', script: '#!ipxe\necho pvmlab: chainloading netboot.xyz\nchain --autofree https://boot.netboot.xyz\n' }],
  ] as const)('%s on %s', (name, arch, expected) => { expect(catalogueProfile(name, arch, 'ttyS0')).toEqual(expected); });
  it('errors say what to use', () => {
    expect(() => catalogueProfile('fedora', 'x86_64', 'ttyS0')).toThrow(/no catalogue profile 'fedora': use one of live, debian-12-installer, netboot.xyz/);
    expect(() => catalogueProfile('netboot.xyz', 'aarch64', 'ttyAMA0')).toThrow(/'netboot.xyz' has no aarch64 build: use it on x86_64 targets/);
  });
});
