// Fetching catalogue profiles' files on the host, cached in ~/.cache/pvmlab/catalogue:
// - debian-12-installer: Debian's debian-installer-12-netboot-<arch> package (apt-get download; ~130 MB once),
//   linux + initrd.gz taken out of it. Needs apt/dpkg (Debian/Ubuntu hosts); elsewhere it says so.
// - ubuntu-24.04-live-server: the ISO Ubuntu's SHA256SUMS names (downloaded with progress, resume and sha256),
//   casper/vmlinuz + casper/initrd taken out of it with xorriso, and a default autoinstall seed per target.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Arch } from '../spec.ts';
import type { WantedArtifact } from './plan.ts';
import { autoinstallSeed, autoinstallSeedPrefix, debianInstaller, findBootProfile, pickUbuntuIso, ubuntuLiveServer } from './catalogue.ts';
import { sha256File } from './live.ts';
import { downloadFile } from '../images/download.ts';

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

export interface UbuntuFetchOptions {
  log?: (l: string) => void;
  cache?: string;
  signal?: AbortSignal;
  /** Where SHA256SUMS and the ISO are (default: Ubuntu's, per arch; a test or a local mirror gives its own). */
  source?: { base: string; checksumsUrl: string };
  fetchImpl?: typeof fetch;
}

/**
 * The Ubuntu 24.04 live-server ISO for `arch` (the newest point release SHA256SUMS names, downloaded once with
 * progress, resume and sha256, cached in <cache>/ubuntu-24.04-live-server-<arch>/) and its casper kernel and
 * initrd, as artifacts to upload. When SHA256SUMS cannot be read, an ISO verified earlier is used; with none,
 * the error says where it comes from and what to do. Needs xorriso (a host package pvmlab already needs).
 */
export async function fetchUbuntuLiveServer(arch: Arch, o: UbuntuFetchOptions = {}): Promise<{ fileName: string; iso: WantedArtifact; kernel: WantedArtifact; initrd: WantedArtifact }> {
  const u = ubuntuLiveServer(arch);
  const src = o.source ?? { base: u.base, checksumsUrl: u.checksumsUrl };
  const log = o.log ?? (() => {});
  const dir = path.join(o.cache ?? catalogueCache(), u.iso.replace(/\.iso$/, ''));
  fs.mkdirSync(dir, { recursive: true });
  const verified = () => fs.readdirSync(dir).filter((f) => u.isoPattern.test(f) && fs.existsSync(path.join(dir, `${f}.sha256`))).sort().at(-1);

  let pick: { fileName: string; sha256: string } | null = null;
  try {
    const res = await (o.fetchImpl ?? fetch)(src.checksumsUrl, { signal: AbortSignal.any([AbortSignal.timeout(20_000), ...(o.signal ? [o.signal] : [])]) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    pick = pickUbuntuIso(await res.text(), u.isoPattern);
  } catch (e) {
    if (o.signal?.aborted) throw new Error('cancelled');
    const have = verified();
    const why = (e as Error).message.split('\n')[0];
    if (!have) {
      throw new Error(`the Ubuntu 24.04 live-server ISO cannot be fetched: ${src.checksumsUrl}: ${why}. `
        + `It is downloaded once on this host (~3.2 GB, checked against that SHA256SUMS, cached in ${dir}): let this host reach ${new URL(src.base).host} and try again, `
        + 'or boot the Debian installer instead (profile debian-12-installer, from Debian packages)');
    }
    log(`${src.checksumsUrl} cannot be read (${why}): using ${have}, checked when it was downloaded`);
    pick = { fileName: have, sha256: fs.readFileSync(path.join(dir, `${have}.sha256`), 'utf8').trim() };
  }
  if (!pick) throw new Error(`${src.checksumsUrl} names no ubuntu-24.04[.N]-live-server-${u.iso.match(/(amd64|arm64)/)![1]}.iso: the release has moved or this arch is not built there; nothing was downloaded`);

  const iso = path.join(dir, pick.fileName);
  const marker = `${iso}.sha256`;
  if (!(fs.existsSync(iso) && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === pick.sha256)) {
    log(`downloading ${pick.fileName} from ${src.base} (once; resumes if cut)`);
    let last = 0;
    await downloadFile({ url: new URL(pick.fileName, src.base).href, dest: iso, sha256: pick.sha256, signal: o.signal, fetchImpl: o.fetchImpl, onProgress: (p) => {
      if (Date.now() - last < 5000) return;
      last = Date.now();
      log(`${pick!.fileName}: ${(p.bytes / 2 ** 20).toFixed(0)}${p.total ? ` of ${(p.total / 2 ** 20).toFixed(0)}` : ''} MiB`);
    } });
    fs.writeFileSync(marker, `${pick.sha256}\n`);
    // an older point release is pvmlab's own cache: it goes when a newer one is in
    for (const f of fs.readdirSync(dir)) {
      const of = f.replace(/(\.sha256|\.boot|\.part)$/, '');
      if (of !== pick.fileName && u.isoPattern.test(of)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
    }
  }
  const boot = `${iso}.boot`;
  if (!fs.existsSync(path.join(boot, 'initrd'))) {
    if ((await execa('sh', ['-c', 'command -v xorriso'], { reject: false })).exitCode !== 0) throw new Error('the Ubuntu ISO\'s kernel and initrd are read with xorriso, which this host lacks: install it (apt-get install xorriso, or brew install xorriso)');
    log(`extracting ${u.isoKernel} and ${u.isoInitrd} from ${pick.fileName}`);
    fs.rmSync(`${boot}.new`, { recursive: true, force: true });
    fs.mkdirSync(`${boot}.new`);
    const r = await execa('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', u.isoKernel, path.join(`${boot}.new`, 'vmlinuz'), '-extract', u.isoInitrd, path.join(`${boot}.new`, 'initrd')], { reject: false, all: true });
    if (r.exitCode !== 0 || !fs.existsSync(path.join(`${boot}.new`, 'initrd'))) {
      fs.rmSync(`${boot}.new`, { recursive: true, force: true });
      throw new Error(`${pick.fileName} has no ${u.isoKernel} and ${u.isoInitrd} (xorriso: ${String(r.all ?? '').trim().split('\n').pop()}): is it a live-server ISO?`);
    }
    fs.renameSync(`${boot}.new`, boot);
  }
  const [ks, is] = await Promise.all([sha256File(path.join(boot, 'vmlinuz')), sha256File(path.join(boot, 'initrd'))]);
  return {
    fileName: pick.fileName,
    iso: { name: u.iso, label: 'Ubuntu live-server ISO', path: iso, sha256: pick.sha256 },
    kernel: { name: u.kernel, label: 'Ubuntu kernel', path: path.join(boot, 'vmlinuz'), sha256: ks },
    initrd: { name: u.initrd, label: 'Ubuntu initrd', path: path.join(boot, 'initrd'), sha256: is },
  };
}

/** A target's default autoinstall seed (catalogue.ts autoinstallSeed) as files in the cache, uploaded only where the provisioner has none. */
export function autoinstallSeedArtifacts(hostname: string, publicKey: string, cache = catalogueCache()): WantedArtifact[] {
  const seed = autoinstallSeed(hostname, publicKey);
  const prefix = autoinstallSeedPrefix(hostname);
  return ([['user-data', seed.userData], ['meta-data', seed.metaData]] as const).map(([kind, text]) => {
    const sha256 = crypto.createHash('sha256').update(text).digest('hex');
    const p = path.join(cache, 'autoinstall', `${sha256}-${kind}`);
    if (!fs.existsSync(p)) { fs.mkdirSync(path.dirname(p), { recursive: true }); fs.writeFileSync(`${p}.tmp`, text); fs.renameSync(`${p}.tmp`, p); }
    return { name: `${prefix}${kind}`, label: `${hostname} autoinstall ${kind}`, path: p, sha256, ifAbsent: true };
  });
}

/**
 * Every file a catalogue entry needs on the provisioner for one target, fetched (cached) on the host. `live`
 * is not handled here (live.ts builds it); entries without files give []. The one dispatch on `files`.
 */
export async function catalogueArtifacts(name: string, arch: Arch, t: { hostname: string; publicKey: string; log?: (l: string) => void; signal?: AbortSignal }): Promise<WantedArtifact[]> {
  const e = findBootProfile(name);
  switch (e.files) {
    case 'debian-package': { const d = await fetchDebianInstaller(arch, t.log); return [d.kernel, d.initrd]; }
    case 'download': { const u = await fetchUbuntuLiveServer(arch, { log: t.log, signal: t.signal }); return [u.kernel, u.initrd, u.iso, ...autoinstallSeedArtifacts(t.hostname, t.publicKey)]; }
    case 'none': return [];
    case 'live': throw new Error("'live' is built by live.ts");
  }
}
