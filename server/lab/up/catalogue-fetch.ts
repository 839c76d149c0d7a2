// Fetching catalogue profiles' files on the host, cached: the Debian installer comes from Debian's
// debian-installer-12-netboot-<arch> package (apt-get download; ~130 MB once), linux + initrd.gz taken
// out of it. Needs apt/dpkg (Debian/Ubuntu hosts); elsewhere it says so.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Arch } from '../spec.ts';
import type { WantedArtifact } from './plan.ts';
import { debianInstaller } from './catalogue.ts';
import { sha256File } from './live.ts';

export function catalogueCache(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.PVMLAB_CACHE || path.join(env.HOME ?? os.homedir(), '.cache', 'pvmlab'), 'catalogue');
}

/** linux + initrd.gz of Debian 12's netboot installer for `arch`, as artifacts to upload. Errors name the missing tool or apt's last line. */
export async function fetchDebianInstaller(arch: Arch, log: (l: string) => void = () => {}, cache = catalogueCache()): Promise<{ version: string; kernel: WantedArtifact; initrd: WantedArtifact }> {
  const d = debianInstaller(arch);
  const debs = path.join(cache, 'debs');
  fs.mkdirSync(debs, { recursive: true });
  for (const tool of ['apt-get', 'dpkg-deb']) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) throw new Error(`the Debian installer is taken from Debian's ${d.package} package: this host has no ${tool} (a Debian or Ubuntu host is needed)`);
  }
  const find = () => fs.readdirSync(debs).filter((f) => f.startsWith(`${d.package}_`) && f.endsWith('.deb')).sort().at(-1);
  let deb = find();
  if (!deb) {
    log(`apt-get download ${d.package} (~130 MB, once)`);
    const r = await execa('apt-get', ['download', d.package], { cwd: debs, reject: false, all: true });
    deb = find();
    if (r.exitCode !== 0 || !deb) throw new Error(`apt-get download ${d.package} failed: ${String(r.all ?? '').trim().split('\n').pop()} (apt-get update, then try again)`);
  }
  const version = deb.slice(d.package.length + 1).replace(/_all\.deb$/, '');
  const out = path.join(cache, `${d.package}_${version}`);
  if (!fs.existsSync(path.join(out, 'initrd.gz'))) {
    const tmp = fs.mkdtempSync(path.join(cache, '.x-'));
    try {
      log(`extracting linux and initrd.gz from ${deb}`);
      await execa('dpkg-deb', ['-x', path.join(debs, deb), tmp]);
      fs.mkdirSync(`${out}.new`, { recursive: true });
      fs.copyFileSync(path.join(tmp, d.kernelPath), path.join(`${out}.new`, 'linux'));
      fs.copyFileSync(path.join(tmp, d.initrdPath), path.join(`${out}.new`, 'initrd.gz'));
      fs.rmSync(out, { recursive: true, force: true });
      fs.renameSync(`${out}.new`, out);
    } finally { fs.rmSync(tmp, { recursive: true, force: true }); fs.rmSync(`${out}.new`, { recursive: true, force: true }); }
  }
  const [ks, is] = await Promise.all([sha256File(path.join(out, 'linux')), sha256File(path.join(out, 'initrd.gz'))]);
  return { version, kernel: { name: d.kernel, label: 'installer kernel', path: path.join(out, 'linux'), sha256: ks }, initrd: { name: d.initrd, label: 'installer initrd', path: path.join(out, 'initrd.gz'), sha256: is } };
}
