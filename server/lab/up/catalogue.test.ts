import { describe, expect, it } from 'vitest';
import { autoinstallSeed, BOOT_CATALOGUE, CATALOGUE_NAMES, catalogueName, catalogueOf, catalogueProfile, debianInstaller, pickUbuntuIso, ubuntuLiveServer } from './catalogue.ts';
import { bootProfile, renderGrubConfig, renderIpxeScript } from '../provisioner/pxe.ts';
import { cmdlineProblem } from '../provisioner/cmdline.ts';
import { liveProfile } from './live.ts';

const ctx = { console: 'ttyS0', hostname: 'inst1', serverIp: '192.168.100.1' };

describe('boot catalogue', () => {
  it('every entry says where it comes from; the names are CATALOGUE_NAMES, in order', () => {
    expect(BOOT_CATALOGUE.map((e) => e.name)).toEqual([...CATALOGUE_NAMES]);
    expect(CATALOGUE_NAMES).toEqual(['live', 'debian-12-installer', 'ubuntu-24.04-live-server', 'netboot.xyz']);
    for (const e of BOOT_CATALOGUE) expect(e.source.length).toBeGreaterThan(20);
    expect(catalogueName.safeParse('fedora').error?.issues[0].message).toBe('use one of live, debian-12-installer, ubuntu-24.04-live-server, netboot.xyz');
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
    ['ubuntu-24.04-live-server', 'x86_64', { kind: 'kernel', kernel: 'ubuntu-24.04-live-server-amd64-vmlinuz', initrd: 'ubuntu-24.04-live-server-amd64-initrd',
      cmdline: 'console=ttyS0 ip=dhcp url=http://192.168.100.1/artifacts/ubuntu-24.04-live-server-amd64.iso autoinstall ds=nocloud-net;s=http://192.168.100.1/artifacts/autoinstall-inst1-%s ---' }],
  ] as const)('%s on %s', (name, arch, expected) => { expect(catalogueProfile(name, arch, ctx)).toEqual(expected); });
  it('errors say what to use', () => {
    expect(() => catalogueProfile('fedora', 'x86_64', ctx)).toThrow(/no catalogue profile 'fedora': use one of live, debian-12-installer, ubuntu-24.04-live-server, netboot.xyz/);
    expect(() => catalogueProfile('netboot.xyz', 'aarch64', { ...ctx, console: 'ttyAMA0' })).toThrow(/'netboot.xyz' has no aarch64 build: use it on x86_64 targets/);
  });
  it('catalogueOf recognises every entry from the profile it renders, and nothing else', () => {
    const key = 'ssh-ed25519 AAAA lab';
    expect(catalogueOf(liveProfile({ arch: 'aarch64', console: 'ttyAMA0', hostname: 'a', publicKey: key, serverIp: '192.168.100.1' }))).toBe('live');
    for (const n of ['debian-12-installer', 'ubuntu-24.04-live-server', 'netboot.xyz'] as const) {
      for (const arch of BOOT_CATALOGUE.find((e) => e.name === n)!.arches) expect(catalogueOf(catalogueProfile(n, arch, ctx))).toBe(n);
    }
    expect(catalogueOf({ kind: 'kernel', kernel: 'my-linux' })).toBeNull();
    expect(catalogueOf({ kind: 'script', script: '#!ipxe\nchain http://x/y' })).toBeNull();
    expect(catalogueOf({ kind: 'exit' })).toBeNull();
  });
});

describe('Ubuntu 24.04 live-server', () => {
  it('sources per arch: amd64 on releases.ubuntu.com, arm64 on cdimage; fixed artifact names; ~3.2 GB, a 6 GiB target', () => {
    expect(ubuntuLiveServer('x86_64')).toMatchObject({ checksumsUrl: 'https://releases.ubuntu.com/24.04/SHA256SUMS', isoKernel: '/casper/vmlinuz', isoInitrd: '/casper/initrd',
      iso: 'ubuntu-24.04-live-server-amd64.iso', kernel: 'ubuntu-24.04-live-server-amd64-vmlinuz', initrd: 'ubuntu-24.04-live-server-amd64-initrd' });
    expect(ubuntuLiveServer('aarch64').checksumsUrl).toBe('https://cdimage.ubuntu.com/releases/24.04/release/SHA256SUMS');
    const e = BOOT_CATALOGUE.find((x) => x.name === 'ubuntu-24.04-live-server')!;
    expect({ files: e.files, approxBytes: e.approxBytes, minMemoryMiB: e.minMemoryMiB, arches: e.arches, needsInternet: e.needsInternet })
      .toEqual({ files: 'download', approxBytes: 3200 * 1024 * 1024, minMemoryMiB: 6144, arches: ['x86_64', 'aarch64'], needsInternet: false });
  });

  it('the ISO SHA256SUMS names: the newest point release of this arch, nothing else', () => {
    const a = 'a'.repeat(64), b = 'b'.repeat(64), c = 'c'.repeat(64), d = 'd'.repeat(64);
    const sums = `${a} *ubuntu-24.04.2-live-server-amd64.iso\n${b} *ubuntu-24.04.10-live-server-amd64.iso\r\n${c} *ubuntu-24.04.3-desktop-amd64.iso\n${d} *ubuntu-24.04.3-live-server-arm64.iso\n`;
    expect(pickUbuntuIso(sums, ubuntuLiveServer('x86_64').isoPattern)).toEqual({ fileName: 'ubuntu-24.04.10-live-server-amd64.iso', sha256: b });
    expect(pickUbuntuIso(sums, ubuntuLiveServer('aarch64').isoPattern)).toEqual({ fileName: 'ubuntu-24.04.3-live-server-arm64.iso', sha256: d });
    expect(pickUbuntuIso(`${a}  ubuntu-24.04-live-server-amd64.iso\n`, ubuntuLiveServer('x86_64').isoPattern)?.fileName).toBe('ubuntu-24.04-live-server-amd64.iso');
    expect(pickUbuntuIso(`${c} *ubuntu-24.04.3-desktop-amd64.iso\n`, ubuntuLiveServer('x86_64').isoPattern)).toBeNull();
  });

  it('its cmdline passes the API schema and reaches the kernel unchanged through iPXE (x86_64) and GRUB (aarch64)', () => {
    const x86 = catalogueProfile('ubuntu-24.04-live-server', 'x86_64', ctx);
    const arm = catalogueProfile('ubuntu-24.04-live-server', 'aarch64', { ...ctx, console: 'ttyAMA0' });
    expect(bootProfile.parse(x86)).toEqual(x86);
    expect(cmdlineProblem(x86.kind === 'kernel' ? x86.cmdline : '', 'ipxe')).toBeNull();
    expect(cmdlineProblem(arm.kind === 'kernel' ? arm.cmdline : '', 'grub')).toBeNull();
    expect(renderIpxeScript(x86, '192.168.100.1', 'inst1').split('\n')).toEqual([
      '#!ipxe',
      'echo pvmlab: booting inst1 (${net0/mac} ${net0/ip})',
      'kernel http://192.168.100.1/artifacts/ubuntu-24.04-live-server-amd64-vmlinuz initrd=ubuntu-24.04-live-server-amd64-initrd console=ttyS0 ip=dhcp url=http://192.168.100.1/artifacts/ubuntu-24.04-live-server-amd64.iso autoinstall ds=nocloud-net;s=http://192.168.100.1/artifacts/autoinstall-inst1-%s ---',
      'initrd http://192.168.100.1/artifacts/ubuntu-24.04-live-server-amd64-initrd',
      'boot',
      '',
    ]);
    expect(renderGrubConfig(arm, 'inst1').split('\n')).toEqual([
      'set timeout=0',
      'echo "pvmlab: booting inst1"',
      "linux /artifacts/ubuntu-24.04-live-server-arm64-vmlinuz console=ttyAMA0 ip=dhcp url=http://192.168.100.1/artifacts/ubuntu-24.04-live-server-arm64.iso autoinstall 'ds=nocloud-net;s=http://192.168.100.1/artifacts/autoinstall-inst1-%s' ---",
      'initrd /artifacts/ubuntu-24.04-live-server-arm64-initrd',
      'boot',
      '',
    ]);
  });

  it('the default autoinstall seed: cloud-config with autoinstall v1, the lab key only, no password', () => {
    const s = autoinstallSeed('inst1', 'ssh-ed25519 AAAAC3 lab\n');
    expect(s.metaData).toBe('instance-id: inst1\nlocal-hostname: inst1\n');
    expect(s.userData.startsWith('#cloud-config\n')).toBe(true);
    expect(JSON.parse(s.userData.slice('#cloud-config\n'.length))).toEqual({ autoinstall: {
      version: 1, ssh: { 'install-server': true, 'allow-pw': false },
      'user-data': { hostname: 'inst1', users: [{ name: 'ubuntu', lock_passwd: true, shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', ssh_authorized_keys: ['ssh-ed25519 AAAAC3 lab'] }] },
    } });
  });
});
