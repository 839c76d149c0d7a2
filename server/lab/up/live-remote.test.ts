import { describe, expect, it } from 'vitest';
import { chooseLiveBuilder, liveRecipeHash, planPublish, planRemoteBuild } from './live-remote.ts';

describe('where the live image is built', () => {
  it.each<[string, Record<string, string>, boolean, string, string]>([
    ['a host with apt', {}, true, 'host', 'this host has apt and dpkg'],
    ['a host without apt (macOS)', {}, false, 'provisioner', 'this host has no apt/dpkg: built inside the provisioner (Debian inside)'],
    ['forced into the provisioner', { PVMLAB_LIVE_BUILD: 'provisioner' }, true, 'provisioner', 'PVMLAB_LIVE_BUILD=provisioner'],
    ['forced onto the host', { PVMLAB_LIVE_BUILD: 'host' }, false, 'host', 'PVMLAB_LIVE_BUILD=host'],
  ])('%s', (_n, env, apt, builder, why) => { expect(chooseLiveBuilder(env, apt)).toEqual({ builder, why }); });
  it('a wrong override says the choices', () => {
    expect(() => chooseLiveBuilder({ PVMLAB_LIVE_BUILD: 'mac' }, true)).toThrow("PVMLAB_LIVE_BUILD must be host or provisioner (or unset: host when it has apt), got 'mac'");
  });
});

describe('the in-provisioner build', () => {
  it('the recipe hash is per arch and stable', () => {
    expect(liveRecipeHash('x86_64')).toMatch(/^[0-9a-f]{32}$/);
    expect(liveRecipeHash('x86_64')).toBe(liveRecipeHash('x86_64'));
    expect(liveRecipeHash('aarch64')).not.toBe(liveRecipeHash('x86_64'));
  });
  it('runs the builder in a throwaway pxeboot container with the build dir mounted', () => {
    const argv = planRemoteBuild('aarch64');
    expect(argv.slice(0, 11)).toEqual(['docker', 'run', '--rm', '--no-healthcheck', '--entrypoint', '/bin/bash', '-v', '/var/lib/pvmlab/live-build:/build', '-e', 'PVMLAB_CACHE=/build/cache', 'pvmlab/pxeboot:latest']);
    expect(argv.slice(-3)).toEqual([argv.at(-3), 'bash', 'aarch64']);
    expect(argv.at(-3)).toContain('exec /build/src/build-test-guest.sh "$1"');
    expect(argv.at(-3)).toContain('for t in cpio:cpio readelf:binutils busybox:busybox-static;');
  });
  it('publishes both files under their artifact names, each by rename', () => {
    const argv = planPublish('x86_64', '/var/lib/pvmlab/live-build/cache/guests/x86_64-abc');
    expect(argv.slice(-4)).toEqual(['sh', '/var/lib/pvmlab/live-build/cache/guests/x86_64-abc', 'pvmlab-live-x86_64-vmlinuz', 'pvmlab-live-x86_64-initrd.img']);
    expect(argv[2]).toContain('a=/var/lib/pvmlab/pxe/http/artifacts');
    expect(argv[2]).toContain('mv -f "$a/.$2.tmp" "$a/$2" && mv -f "$a/.$3.tmp" "$a/$3"');
  });
});
