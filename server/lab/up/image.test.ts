import { describe, expect, it } from 'vitest';
import { decideImage } from './image.ts';
import { defaultLab } from './desired.ts';
import { hostArch } from '../spec.ts';
import { liveProfile } from './live.ts';

describe('decideImage', () => {
  it.each([
    ['auto, already downloaded', 'auto', { present: true } as const, { use: 'ubuntu', ref: 'ubuntu-24.04', why: 'the Ubuntu 24.04 cloud image is already downloaded' }],
    ['auto, reachable', 'auto', { present: false, reachable: true } as const, { use: 'ubuntu', ref: 'ubuntu-24.04', why: 'the Ubuntu 24.04 cloud image can be downloaded' }],
    ['auto, unreachable: offline and why', 'auto', { present: false, reachable: false, why: 'cloud-images.ubuntu.com: fetch failed' } as const,
      { use: 'offline', why: 'the Ubuntu 24.04 cloud image cannot be downloaded (cloud-images.ubuntu.com: fetch failed): using the offline image built from Debian packages' }],
    ['offline', 'offline', null, { use: 'offline', why: 'asked for the offline image (built from Debian packages)' }],
    ['a path', '/img/p.qcow2', null, { use: 'file', path: '/img/p.qcow2', why: 'the image file /img/p.qcow2' }],
  ])('%s', (_n, choice, probe, expected) => { expect(decideImage(choice, 'x86_64', probe)).toEqual(expected); });
  it('an unknown name says what is allowed', () => {
    expect(() => decideImage('fedora', 'x86_64', null)).toThrow(/unknown 'fedora': use auto, offline, ubuntu-24.04 or an absolute path/);
  });
});

describe('defaults', () => {
  it('arch follows the host', () => {
    expect(hostArch('arm64')).toBe('aarch64');
    expect(hostArch('x64')).toBe('x86_64');
  });
  it('the default lab: prov + target1 on the live profile', () => {
    expect(defaultLab({ arch: 'aarch64' })).toEqual({
      provisioner: { name: 'prov', arch: 'aarch64', image: 'auto', cpus: 2, memory: '2G' },
      targets: [{ name: 'target1', arch: 'aarch64', boot: 'pxe', profile: 'live', memory: '512M', sshUser: 'root' }],
    });
    expect(defaultLab({ targets: 3 }).targets.map((t) => t.name)).toEqual(['target1', 'target2', 'target3']);
  });
});

describe('liveProfile', () => {
  it('kernel + initrd artifacts per arch; DHCP, hostname, the lab key in base64, call home', () => {
    expect(liveProfile({ arch: 'x86_64', console: 'ttyS0', hostname: 'target1', publicKey: 'ssh-ed25519 AAAA lab\n', serverIp: '192.168.100.1' })).toEqual({
      kind: 'kernel', kernel: 'pvmlab-live-x86_64-vmlinuz', initrd: 'pvmlab-live-x86_64-initrd.img',
      cmdline: `console=ttyS0 pvmlab.hostname=target1 pvmlab.dhcp=1 pvmlab.sshkey=${Buffer.from('ssh-ed25519 AAAA lab').toString('base64')} pvmlab.callhome=http://192.168.100.1/callhome`,
    });
  });
});
