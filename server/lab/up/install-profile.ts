// Giving a target an install profile (`image`, `debian-preseed`, `ubuntu-autoinstall`; provisioner/install.ts):
// what it boots is checked and uploaded first — the image must be on the provisioner, the live installer's kernel
// and initrd (image) or Debian's netboot installer (debian-preseed with the catalogue's files) are uploaded when
// missing — then the profile is set, which arms a new install (provisioner/service.ts).
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Lab } from '../lab.ts';
import { BadRequestError } from '../errors.ts';
import { bootProfile, type Reservation } from '../provisioner/pxe.ts';
import { isInstallProfile } from '../provisioner/install.ts';
import type { Arch } from '../spec.ts';
import { debianInstaller } from './catalogue.ts';
import { fetchDebianInstaller } from './catalogue-fetch.ts';
import { sha256File } from './live.ts';
import { ensureLiveServed, uploadMissing } from './profile.ts';

/**
 * Set an install profile on a reservation. `raw.sha256` may be left out for an image: the sha256 of the artifact
 * on the provisioner is taken (it still catches a corrupted transfer to the target). A given sha256 that is not the
 * artifact's is kept (the CLI warns): the target checks it before writing and refuses the install, disk untouched —
 * the same check that catches an image changed on the provisioner after the profile was set. Errors: BadRequestError
 * naming the field (not an install kind, no such artifact), NotFound/Conflict as setProfile.
 */
export async function setInstallProfile(lab: Lab, r: Reservation, arch: Arch, raw: Record<string, unknown>): Promise<Reservation> {
  let input = raw;
  if (raw.kind === 'image') {
    const arts = await lab.provisioner.artifacts();
    const a = arts.find((x) => x.name === raw.image);
    if (!a) throw new BadRequestError('profile.image', `no artifact '${String(raw.image)}' on the provisioner: upload the disk image first (pvmlab pxe artifacts add FILE, or the PXE page)`);
    if (raw.sha256 === undefined || raw.sha256 === '') input = { ...raw, sha256: a.sha256 };
  }
  if (raw.kind === 'debian-preseed' && !raw.kernel && !raw.initrd) {
    // The catalogue's Debian 12 netboot installer, on the target's serial console.
    const d = debianInstaller(arch);
    input = { ...input, kernel: d.kernel, initrd: d.initrd, cmdline: raw.cmdline ?? `console=${arch === 'aarch64' ? 'ttyAMA0' : 'ttyS0'} priority=critical` };
  }
  const p = bootProfile.parse(input);
  if (!isInstallProfile(p)) throw new BadRequestError('profile.kind', `'${p.kind}' is not an install kind: use image, debian-preseed or ubuntu-autoinstall`);
  if (p.kind === 'image') await ensureLiveServed(lab, arch); // the live image is the installer
  if (p.kind === 'debian-preseed') {
    const d = debianInstaller(arch);
    if (p.kernel === d.kernel || p.initrd === d.initrd) {
      const f = await fetchDebianInstaller(arch);
      await uploadMissing(lab, [f.kernel, f.initrd]);
    }
  }
  return lab.provisioner.setProfile(r.mac, p);
}

/** qcow2 files start with these four bytes (QEMU's docs/interop/qcow2.txt). */
const QCOW2_MAGIC = Buffer.from('QFI\xfb', 'latin1');

export function isQcow2(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    return fs.readSync(fd, b, 0, 4, 0) === 4 && b.equals(QCOW2_MAGIC);
  } finally { fs.closeSync(fd); }
}

/**
 * Upload a disk image as an artifact for the `image` kind. A qcow2 is converted to raw on this host first
 * (`qemu-img convert -O raw`, into a temp file under the lab home's images/ removed afterwards): the live installer
 * writes raw bytes only, and keeping qemu-img out of the live initramfs and the provisioner keeps both small.
 * Returns the artifact name, its size and sha256 (of the raw bytes: what the profile checks).
 */
export async function uploadDiskImage(lab: Lab, file: string, name?: string): Promise<{ name: string; size: number; sha256: string; converted: boolean }> {
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new BadRequestError('file', `no such file: ${file}`);
  const qcow = isQcow2(file);
  const artifact = name ?? path.basename(file).replace(/\.qcow2$/, '') + (qcow ? '.raw' : '');
  let src = file;
  const tmp = qcow ? fs.mkdtempSync(path.join(lab.home.dir('images'), '.convert-')) : null;
  try {
    if (tmp) {
      src = path.join(tmp, 'image.raw');
      const r = await execa('qemu-img', ['convert', '-O', 'raw', file, src], { reject: false, all: true });
      if (r.exitCode !== 0) throw new BadRequestError('file', `qemu-img convert of ${file} failed: ${String(r.all ?? '').trim().split('\n').pop()}`);
    }
    const size = fs.statSync(src).size;
    const sha256 = await sha256File(src);
    await lab.provisioner.uploadArtifact(artifact, fs.createReadStream(src), { size, sha256 });
    return { name: artifact, size, sha256, converted: qcow };
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
