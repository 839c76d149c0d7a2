// The files a VM needs before its first start: base image (downloaded if it is a catalogue entry),
// its disk (a qcow2 overlay on the image, or a blank disk for PXE), and its NoCloud seed ISO.
import fs from 'node:fs';
import { execa } from 'execa';
import type { LabConfig } from '../config.ts';
import type { LabHome } from '../home.ts';
import type { Jobs } from '../jobs.ts';
import type { VmRecord } from '../spec.ts';
import { ImageRefError, resolveImage } from '../images/catalogue.ts';
import { BadRequestError } from '../errors.ts';
import { refuseExisting, refuseLinks } from '../nofollow.ts';
import { downloadFile, fetchSha256 } from '../images/download.ts';
import { renderCloudInit } from '../cloudinit/render.ts';
import { buildSeedIso } from '../cloudinit/seed.ts';
import { provisionerCloudInit } from '../provisioner/cloudinit.ts';

/** Every tool run while the lab lock is held has a deadline: no lock holder waits forever. */
const LOCKED_STEP_MS = 120_000;

export interface PrepareInput { home: LabHome; rec: VmRecord; imageRef: string | null; cfg: LabConfig; jobs: Jobs; made: string[] }

async function imageInfo(path: string): Promise<{ format: string; 'virtual-size': number }> {
  const r = await execa('qemu-img', ['info', '--output=json', path], { reject: false, timeout: LOCKED_STEP_MS });
  if (r.exitCode !== 0) throw new Error(`image: cannot read ${path}: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout) as { format: string; 'virtual-size': number };
}

/**
 * A VM's disk made anew (re-provision): a blank qcow2 for a PXE target, a fresh overlay on its base image for an
 * image VM; the old disk and its snapshots are gone. Written beside the old one and renamed over it, so a failure
 * leaves the old disk as it was. Returns false when the VM has no disk.
 */
export async function freshDisk(home: LabHome, rec: VmRecord): Promise<boolean> {
  const disk = home.vmDisk(rec.name);
  const tmp = `${disk}.new`;
  fs.rmSync(tmp, { force: true });
  try {
    if (rec.image) {
      const info = await imageInfo(rec.image);
      const mib = Math.max(rec.diskSizeMiB, Math.ceil(info['virtual-size'] / (1 << 20)));
      await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', info.format, '-b', rec.image, tmp, `${mib}M`]);
    } else if (rec.boot === 'pxe') {
      await execa('qemu-img', ['create', '-q', '-f', 'qcow2', tmp, `${rec.diskSizeMiB}M`]);
    } else {
      return false;
    }
    fs.renameSync(tmp, disk);
    return true;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Returns the resolved base image path (or null), recording every file it makes in `made`. */
export async function prepareVmFiles(p: PrepareInput): Promise<string | null> {
  const { home, rec } = p;
  let image: string | null = null;
  if (p.imageRef) {
    let r: ReturnType<typeof resolveImage>;
    try { r = resolveImage(p.imageRef, rec.arch, home); } catch (e) {
      if (e instanceof ImageRefError) throw new BadRequestError('image', e.message);
      throw e;
    }
    image = r.path;
    if (r.kind === 'catalogue' && !r.present) {
      const entry = r.entry;
      await p.jobs.run({ kind: 'download', title: `Download ${entry.fileName}`, vm: rec.name }, async (job) => {
        job.stage('checksum');
        const sha256 = await fetchSha256(entry.checksumsUrl, entry.fileName, job.signal);
        job.stage('download');
        await downloadFile({ url: entry.url, dest: r.path, sha256, signal: job.signal,
          onProgress: (x) => job.progress({ done: x.bytes, total: x.total, unit: 'bytes', rate: x.rate, etaSeconds: x.etaSeconds }) });
      });
    }
  }
  const disk = home.vmDisk(rec.name);
  // qemu-img create overwrites (and follows a planted symlink): the disk of a new VM must not exist yet.
  if (image || rec.boot === 'pxe') refuseExisting(disk, `left from an earlier VM '${rec.name}'? remove it with: pvmlab vm clean ${rec.name}`);
  if (image) {
    const info = await imageInfo(image);
    // An overlay smaller than its image would cut the image's file system short: never below the image.
    const mib = Math.max(rec.diskSizeMiB, Math.ceil(info['virtual-size'] / (1 << 20)));
    p.made.push(disk);
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', info.format, '-b', image, disk, `${mib}M`], { timeout: LOCKED_STEP_MS });
  } else if (rec.boot === 'pxe') {
    p.made.push(disk);
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, `${rec.diskSizeMiB}M`], { timeout: LOCKED_STEP_MS });
  }
  if (rec.boot !== 'pxe') {
    const publicKey = fs.readFileSync(home.publicKey, 'utf8').trim();
    const docs = renderCloudInit({ vm: rec, publicKey, subnet: p.cfg.network.subnet,
      provisioner: rec.role === 'provisioner' ? provisionerCloudInit(p.cfg) : undefined });
    p.made.push(home.vmSeedIso(rec.name));
    await buildSeedIso(home.vmSeedIso(rec.name), docs);
  }
  return image;
}

/**
 * A UEFI VM's own writable variable store (home.ts vmVars): copied from the OVMF build's pristine VARS file the
 * first time the VM starts, kept afterwards (like a machine's NVRAM: boot entries OVMF writes survive restarts and
 * re-provisioning). A symlink in its place is refused (refuseLinks); the copy is written beside it and renamed in.
 * Returns the path.
 */
export function ensureUefiVars(home: LabHome, name: string, template: string): string {
  const dest = home.vmVars(name);
  refuseLinks([dest]);
  if (fs.existsSync(dest)) return dest;
  const tmp = `${dest}.new`;
  fs.rmSync(tmp, { force: true });
  try {
    fs.copyFileSync(template, tmp, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, dest);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return dest;
}
