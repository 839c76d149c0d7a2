import { describe, expect, it } from 'vitest';
import { cmdlineProblem } from './cmdline.ts';
import { describeInstall, installKernelProfile, renderAutoinstall, renderLocalGrub, renderLocalIpxe, renderMetaData, renderPreseed } from './install.ts';
import { bootProfile, renderGrubConfig, renderIpxeScript } from './pxe.ts';

const SHA = 'a'.repeat(64);
const t = { serverIp: '192.168.100.1', hostname: 'web', arch: 'x86_64' as const, mac: '52:54:00:AA:BB:01', installId: 'abcdef0123456789' };

describe('install profiles (schema)', () => {
  it('image: artifact + sha256, raw only', () => {
    expect(bootProfile.parse({ kind: 'image', image: 'disk.raw', sha256: SHA })).toEqual({ kind: 'image', image: 'disk.raw', sha256: SHA, format: 'raw' });
    const bad = bootProfile.safeParse({ kind: 'image', image: '../x', sha256: 'ABC' });
    expect(bad.success).toBe(false);
    expect([...new Set(bad.error?.issues.map((i) => i.path.join('.')))]).toEqual(['image', 'sha256']);
    expect(bootProfile.safeParse({ kind: 'image', image: 'd.qcow2', sha256: SHA, format: 'qcow2' }).success).toBe(false);
  });
  it('installers: the answers are required; autoinstall user-data is #cloud-config', () => {
    expect(bootProfile.safeParse({ kind: 'debian-preseed', kernel: 'linux', initrd: 'initrd.gz', preseed: '' }).success).toBe(false);
    expect(bootProfile.safeParse({ kind: 'ubuntu-autoinstall', kernel: 'vmlinuz', initrd: 'initrd', iso: 'u.iso', userData: 'autoinstall: {}' }).success).toBe(false);
    expect(bootProfile.parse({ kind: 'debian-preseed', kernel: 'linux', initrd: 'initrd.gz', preseed: 'd-i x string y', cmdline: 'console=ttyS0' })).toMatchObject({ cmdline: 'console=ttyS0' });
  });
});

describe('installKernelProfile', () => {
  it('image: the live kernel with the install words', () => {
    expect(installKernelProfile({ kind: 'image', image: 'disk.raw', sha256: SHA, format: 'raw' }, t)).toEqual({
      kind: 'kernel', kernel: 'pvmlab-live-x86_64-vmlinuz', initrd: 'pvmlab-live-x86_64-initrd.img',
      cmdline: `console=ttyS0 pvmlab.hostname=web pvmlab.dhcp=1 pvmlab.install=http://192.168.100.1/artifacts/disk.raw pvmlab.sha256=${SHA} pvmlab.installed=http://192.168.100.1/installed pvmlab.installid=abcdef0123456789`,
    });
    const arm = installKernelProfile({ kind: 'image', image: 'd', sha256: SHA, format: 'raw' }, { ...t, arch: 'aarch64', publicKey: 'ssh-ed25519 AAAA k\n' });
    expect(arm.kernel).toBe('pvmlab-live-aarch64-vmlinuz');
    expect(arm.cmdline).toMatch(/^console=ttyAMA0 .* pvmlab\.sshkey=c3NoLWVkMjU1MTkgQUFBQSBr pvmlab\.install=/);
  });
  it('debian-preseed: auto mode, hostname and the per-MAC preseed URL after the user\'s words', () => {
    expect(installKernelProfile({ kind: 'debian-preseed', kernel: 'linux', initrd: 'initrd.gz', preseed: 'x', cmdline: 'console=ttyS0 priority=critical' }, t).cmdline)
      .toBe('console=ttyS0 priority=critical auto=true hostname=web preseed/url=http://192.168.100.1/config/52:54:00:aa:bb:01/preseed.cfg');
  });
  it('ubuntu-autoinstall: ds=nocloud-net;s=… reaches the kernel unchanged through iPXE and GRUB', () => {
    const k = installKernelProfile({ kind: 'ubuntu-autoinstall', kernel: 'vmlinuz', initrd: 'initrd', iso: 'ubuntu.iso', userData: '#cloud-config', cmdline: 'console=ttyS0' }, t);
    expect(k.cmdline).toBe('console=ttyS0 ip=dhcp url=http://192.168.100.1/artifacts/ubuntu.iso cloud-config-url=/dev/null autoinstall ds=nocloud-net;s=http://192.168.100.1/config/52:54:00:aa:bb:01/');
    expect(cmdlineProblem(k.cmdline, 'ipxe')).toBeNull();
    expect(cmdlineProblem(k.cmdline, 'grub')).toBeNull();
    const p = { kind: 'ubuntu-autoinstall' as const, kernel: 'vmlinuz', initrd: 'initrd', iso: 'ubuntu.iso', userData: '#cloud-config', cmdline: '' };
    // iPXE: one word, `;` inside a word is not a command separator; GRUB: the word single-quoted.
    expect(renderIpxeScript(p, '192.168.100.1', 'web', t)).toContain(' autoinstall ds=nocloud-net;s=http://192.168.100.1/config/52:54:00:aa:bb:01/\n');
    expect(renderGrubConfig(p, 'web', t)).toContain(" autoinstall 'ds=nocloud-net;s=http://192.168.100.1/config/52:54:00:aa:bb:01/'\n");
  });
  it('says what it installs', () => {
    expect(describeInstall({ kind: 'image', image: 'disk.raw', sha256: SHA, format: 'raw' })).toBe('image disk.raw (sha256 aaaaaaaaaaaa...)');
  });
});

describe('boot from the local disk', () => {
  it('iPXE: sanboot the first disk under BIOS, else exit to the next boot device', () => {
    expect(renderLocalIpxe('web', 'was installed from image d', 'abcdef0123456789')).toBe([
      '#!ipxe', '# pvmlab-local-boot abcdef0123456789', 'echo pvmlab: web was installed from image d: booting from its disk',
      'iseq ${platform} pcbios && sanboot --no-describe --drive 0x80 ||', 'exit', ''].join('\n'));
  });
  it('GRUB: exit to the firmware', () => {
    expect(renderLocalGrub('arm', 'x', 'abcdef0123456789')).toBe('# pvmlab-local-boot abcdef0123456789\nset timeout=0\necho "pvmlab: arm x: booting from its disk"\nexit\n');
  });
});

describe('installer answers', () => {
  const report = "wget -q -O /dev/null 'http://192.168.100.1/installed?mac=52:54:00:aa:bb:01&id=abcdef0123456789&status=installed' || true";
  it('preseed: a report as late command, before the user\'s own', () => {
    expect(renderPreseed('d-i debian-installer/locale string en_US\n', '192.168.100.1', t)).toBe(
      `d-i debian-installer/locale string en_US\n# pvmlab: report the finished install (then this target boots from its disk)\nd-i preseed/late_command string ${report}\n`);
    expect(renderPreseed('d-i preseed/late_command string in-target true\r\n', '192.168.100.1', t)).toBe(`d-i preseed/late_command string ${report}; in-target true\n`);
  });
  it('autoinstall: a report appended to autoinstall.late-commands', () => {
    expect(renderAutoinstall('#cloud-config\nautoinstall:\n  version: 1\n', '192.168.100.1', t)).toBe(
      `#cloud-config\nautoinstall:\n  version: 1\n  late-commands:\n    - ${JSON.stringify(report)}\n`);
    expect(renderAutoinstall('#cloud-config\nautoinstall:\n    version: 1\n    late-commands:\n      - echo hi\nusers: []\n', '192.168.100.1', t)).toBe(
      `#cloud-config\nautoinstall:\n    version: 1\n    late-commands:\n      - ${JSON.stringify(report)}\n      - echo hi\nusers: []\n`);
    expect(renderAutoinstall('#cloud-config\n{autoinstall: {version: 1}}', '192.168.100.1', t)).toMatch(/# pvmlab: no top-level "autoinstall:" block/);
    expect(renderMetaData('web', 'abcdef0123456789')).toBe('instance-id: web-abcdef0123456789\nlocal-hostname: web\n');
  });
});
