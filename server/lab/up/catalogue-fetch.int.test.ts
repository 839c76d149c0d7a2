// The Debian installer's files come out of Debian's own netboot package (real apt-get download, cached).
import fs from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fetchDebianInstaller } from './catalogue-fetch.ts';

describe('fetchDebianInstaller', () => {
  it('linux + initrd.gz of debian-installer-12-netboot-amd64, with their sha256; cached', async () => {
    const d = await fetchDebianInstaller('x86_64');
    expect(d.version).toMatch(/^\d{8}\+deb12u\d+$/);
    expect(d.kernel).toMatchObject({ name: 'debian-12-installer-amd64-linux', path: expect.stringMatching(/\/linux$/) });
    expect(d.initrd).toMatchObject({ name: 'debian-12-installer-amd64-initrd.gz', path: expect.stringMatching(/\/initrd\.gz$/) });
    for (const a of [d.kernel, d.initrd]) {
      expect(fs.statSync(a.path!).size).toBeGreaterThan(4 << 20);
      expect((await execa('sha256sum', [a.path!])).stdout.split(' ')[0]).toBe(a.sha256);
    }
    expect((await execa('file', ['-b', d.kernel.path!], { reject: false })).stdout).toMatch(/Linux kernel x86 boot executable|data/);
    const again = await fetchDebianInstaller('x86_64');
    expect(again).toEqual(d);
  }, 600_000);
});
