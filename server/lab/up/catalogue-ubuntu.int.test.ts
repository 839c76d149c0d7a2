// The Ubuntu live-server entry's fetcher against a stand-in for Ubuntu's server on loopback (Ubuntu is not
// reachable here): a real ISO 9660 image made with xorriso holding casper/vmlinuz and casper/initrd, a real
// SHA256SUMS naming two point releases, real downloads, real extraction.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoinstallSeedArtifacts, fetchUbuntuLiveServer } from './catalogue-fetch.ts';

const sha = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');
let dir: string;
let server: http.Server;
let base: string;
let iso: Buffer;
const hits: string[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync('/tmp/pvt-ubuntu-');
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'casper'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'casper/vmlinuz'), 'a kernel\n'.repeat(1000));
  fs.writeFileSync(path.join(tree, 'casper/initrd'), 'an initrd\n'.repeat(2000));
  await execa('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'Ubuntu-Server 24.04.3', '-r', '-J', '-o', path.join(dir, 'live.iso'), tree]);
  iso = fs.readFileSync(path.join(dir, 'live.iso'));
  const sums = `${sha('old')} *ubuntu-24.04.2-live-server-amd64.iso\n${sha(iso)} *ubuntu-24.04.3-live-server-amd64.iso\n${sha('d')} *ubuntu-24.04.3-desktop-amd64.iso\n`;
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/24.04/SHA256SUMS') res.end(sums);
    else if (req.url === '/24.04/ubuntu-24.04.3-live-server-amd64.iso') res.end(iso);
    else { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/24.04/`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('fetchUbuntuLiveServer', () => {
  it('downloads the newest point release SHA256SUMS names, checks it, takes casper/vmlinuz + initrd out; cached', async () => {
    const cache = path.join(dir, 'cache');
    const log: string[] = [];
    const u = await fetchUbuntuLiveServer('x86_64', { cache, source: { base, checksumsUrl: `${base}SHA256SUMS` }, log: (l) => log.push(l) });
    expect(u.fileName).toBe('ubuntu-24.04.3-live-server-amd64.iso');
    expect(u.iso).toMatchObject({ name: 'ubuntu-24.04-live-server-amd64.iso', sha256: sha(iso) });
    expect(u.kernel).toMatchObject({ name: 'ubuntu-24.04-live-server-amd64-vmlinuz', sha256: sha('a kernel\n'.repeat(1000)) });
    expect(u.initrd).toMatchObject({ name: 'ubuntu-24.04-live-server-amd64-initrd', sha256: sha('an initrd\n'.repeat(2000)) });
    expect(fs.readFileSync(u.kernel.path!, 'utf8')).toBe('a kernel\n'.repeat(1000));
    expect(log.some((l) => l.startsWith('downloading ubuntu-24.04.3-live-server-amd64.iso'))).toBe(true);
    expect(hits.filter((h) => h.endsWith('.iso'))).toHaveLength(1);

    // again: SHA256SUMS is read, the ISO is not downloaded again
    expect(await fetchUbuntuLiveServer('x86_64', { cache, source: { base, checksumsUrl: `${base}SHA256SUMS` } })).toEqual(u);
    expect(hits.filter((h) => h.endsWith('.iso'))).toHaveLength(1);

    // the server gone: the ISO verified earlier is used, and the log says why
    const gone = { base: 'http://127.0.0.1:1/24.04/', checksumsUrl: 'http://127.0.0.1:1/24.04/SHA256SUMS' };
    const log2: string[] = [];
    expect(await fetchUbuntuLiveServer('x86_64', { cache, source: gone, log: (l) => log2.push(l) })).toEqual(u);
    expect(log2[0]).toMatch(/^http:\/\/127\.0\.0\.1:1\/24\.04\/SHA256SUMS cannot be read \(.+\): using ubuntu-24\.04\.3-live-server-amd64\.iso, checked when it was downloaded$/);
  });

  it('unreachable with nothing cached: says where it comes from, how big, and what to do', async () => {
    const cache = path.join(dir, 'empty');
    const gone = { base: 'http://127.0.0.1:1/24.04/', checksumsUrl: 'http://127.0.0.1:1/24.04/SHA256SUMS' };
    await expect(fetchUbuntuLiveServer('x86_64', { cache, source: gone })).rejects.toThrow(
      new RegExp(`^the Ubuntu 24\\.04 live-server ISO cannot be fetched: http://127\\.0\\.0\\.1:1/24\\.04/SHA256SUMS: .+\\. It is downloaded once on this host \\(~3\\.2 GB, checked against that SHA256SUMS, cached in ${cache}/ubuntu-24\\.04-live-server-amd64\\): let this host reach 127\\.0\\.0\\.1:1 and try again, or boot the Debian installer instead \\(profile debian-12-installer, from Debian packages\\)$`));
    // and a SHA256SUMS without the ISO says so
    await expect(fetchUbuntuLiveServer('aarch64', { cache, source: { base, checksumsUrl: `${base}SHA256SUMS` } })).rejects.toThrow(`${base}SHA256SUMS names no ubuntu-24.04[.N]-live-server-arm64.iso: the release has moved or this arch is not built there; nothing was downloaded`);
  });

  it('a download whose bytes do not match SHA256SUMS is refused and not kept', async () => {
    const cache = path.join(dir, 'bad');
    const bad = http.createServer((req, res) => res.end(req.url?.endsWith('SHA256SUMS') ? `${sha('x')} *ubuntu-24.04.3-live-server-amd64.iso\n` : iso));
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
    const b = `http://127.0.0.1:${(bad.address() as AddressInfo).port}/`;
    try {
      await expect(fetchUbuntuLiveServer('x86_64', { cache, source: { base: b, checksumsUrl: `${b}SHA256SUMS` } })).rejects.toThrow(/checksum mismatch/);
      expect(fs.readdirSync(path.join(cache, 'ubuntu-24.04-live-server-amd64'))).toEqual([]);
    } finally { await new Promise<void>((r) => bad.close(() => r())); }
  });

  it('the default autoinstall seed: two artifacts per target, uploaded only where none is', () => {
    const a = autoinstallSeedArtifacts('inst1', 'ssh-ed25519 AAAA lab', path.join(dir, 'seeds'));
    expect(a.map((x) => [x.name, x.ifAbsent])).toEqual([['autoinstall-inst1-user-data', true], ['autoinstall-inst1-meta-data', true]]);
    for (const x of a) expect(sha(fs.readFileSync(x.path!))).toBe(x.sha256);
    expect(fs.readFileSync(a[1].path!, 'utf8')).toBe('instance-id: inst1\nlocal-hostname: inst1\n');
  });
});
