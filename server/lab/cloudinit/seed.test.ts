import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { SeedIsoError, buildSeedIso, findIsoTool, isoToolInstallHint, seedIsoArgs } from './seed.ts';

const tmps: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pvseed-'));
  tmps.push(d);
  return d;
}
afterEach(() => { for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

const docs = {
  metaData: 'instance-id: "t-1"\nlocal-hostname: "t"\n',
  userData: '#cloud-config\nhostname: "t"\n',
  networkConfig: 'version: 2\nethernets: {}\n',
};

/** A bin dir holding only the named tools (symlinks to the real ones, or scripts). */
function binDir(entries: Record<string, string>): string {
  const d = tmpDir();
  for (const [name, target] of Object.entries(entries)) {
    if (target.startsWith('#!')) fs.writeFileSync(path.join(d, name), target, { mode: 0o755 });
    else fs.symlinkSync(target, path.join(d, name));
  }
  return d;
}

describe('findIsoTool / seedIsoArgs', () => {
  it('prefers xorriso, then mkisofs, then genisoimage, and ignores non-executables', () => {
    const a = binDir({ genisoimage: '#!/bin/sh\n', mkisofs: '#!/bin/sh\n' });
    const b = binDir({ xorriso: '#!/bin/sh\n' });
    fs.writeFileSync(path.join(a, 'xorriso'), '', { mode: 0o644 });
    expect(findIsoTool(`${a}:${b}`)).toEqual({ name: 'xorriso', path: path.join(b, 'xorriso') });
    expect(findIsoTool(a)).toEqual({ name: 'mkisofs', path: path.join(a, 'mkisofs') });
    expect(findIsoTool(tmpDir())).toBeNull();
    expect(findIsoTool('')).toBeNull();
  });

  it('builds the mkisofs argv, with the emulation switch for xorriso', () => {
    expect(seedIsoArgs('xorriso', '/t/o.iso', ['meta-data'])).toEqual(['-as', 'mkisofs', '-output', '/t/o.iso', '-volid', 'cidata', '-joliet', '-rock', 'meta-data']);
    expect(seedIsoArgs('genisoimage', '/t/o.iso', ['a', 'b'])).toEqual(['-output', '/t/o.iso', '-volid', 'cidata', '-joliet', '-rock', 'a', 'b']);
  });

  it('names the install command for the OS', () => {
    expect(isoToolInstallHint('linux')).toBe('sudo apt-get install -y xorriso');
    expect(isoToolInstallHint('darwin')).toBe('brew install xorriso');
  });
});

describe('buildSeedIso (real xorriso)', () => {
  const xorriso = findIsoTool(process.env.PATH);

  it('finds xorriso on this machine (install it with: sudo apt-get install -y xorriso)', () => {
    expect(xorriso?.name).toBe('xorriso');
  });

  it('builds a cidata ISO holding the three documents, and leaves no temp files', async () => {
    const dir = tmpDir();
    const dest = path.join(dir, 'vm.iso');
    await buildSeedIso(dest, docs, { pathEnv: path.dirname(xorriso!.path) });
    expect(fs.readdirSync(dir)).toEqual(['vm.iso']);

    // The primary volume descriptor is sector 16; its volume identifier sits at byte 40 (0x8028), 32 bytes, space-padded.
    const fd = fs.openSync(dest, 'r');
    const pvd = Buffer.alloc(32);
    fs.readSync(fd, pvd, 0, 32, 0x8028);
    fs.closeSync(fd);
    expect(pvd.toString('ascii').trimEnd()).toBe('cidata');
    const info = await execa('xorriso', ['-indev', dest, '-pvd_info']);
    expect(info.stdout).toMatch(/^Volume Id\s*:\s*cidata$/m);

    const out = path.join(dir, 'out');
    await execa('xorriso', ['-osirrox', 'on', '-indev', dest, '-extract', '/', out]);
    expect(fs.readdirSync(out).sort()).toEqual(['meta-data', 'network-config', 'user-data']);
    expect(fs.readFileSync(path.join(out, 'meta-data'), 'utf8')).toBe(docs.metaData);
    expect(fs.readFileSync(path.join(out, 'user-data'), 'utf8')).toBe(docs.userData);
    expect(fs.readFileSync(path.join(out, 'network-config'), 'utf8')).toBe(docs.networkConfig);
  });

  it('replaces an existing ISO', async () => {
    const dir = tmpDir();
    const dest = path.join(dir, 'vm.iso');
    fs.writeFileSync(dest, 'old');
    await buildSeedIso(dest, docs, { pathEnv: path.dirname(xorriso!.path) });
    expect(fs.statSync(dest).size).toBeGreaterThan(32768);
    expect(fs.readdirSync(dir)).toEqual(['vm.iso']);
  });

  it('without any ISO tool: says what to install and leaves nothing behind', async () => {
    const dir = tmpDir();
    const dest = path.join(dir, 'vm.iso');
    const err = await buildSeedIso(dest, docs, { pathEnv: tmpDir(), platform: 'linux' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeedIsoError);
    expect((err as Error).message).toMatch(/no ISO tool found.*install one with: sudo apt-get install -y xorriso/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('when the tool fails half-way: no ISO at dest, the old one untouched, the temp dir removed', async () => {
    const dir = tmpDir();
    const dest = path.join(dir, 'vm.iso');
    fs.writeFileSync(dest, 'previous');
    // A stand-in that writes a partial ISO where it was told to and then fails, as a full disk would.
    const bin = binDir({ mkisofs: '#!/bin/sh\nwhile [ "$1" != -output ]; do shift; done\nprintf partial > "$2"\necho "write error: No space left on device" >&2\nexit 5\n' });
    const err = await buildSeedIso(dest, docs, { pathEnv: bin }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeedIsoError);
    expect((err as Error).message).toMatch(/building the seed ISO with mkisofs failed \(exit code 5\):\nwrite error: No space left on device/);
    expect(fs.readdirSync(dir)).toEqual(['vm.iso']);
    expect(fs.readFileSync(dest, 'utf8')).toBe('previous');
  });
});
