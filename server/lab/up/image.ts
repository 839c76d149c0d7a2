// Which disk the provisioner boots (`image: auto | offline | ubuntu-24.04 | /path`), and why — said to the user.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { findCatalogueEntry, resolveImage } from '../images/catalogue.ts';
import { fetchSha256 } from '../images/download.ts';
import type { LabHome } from '../home.ts';
import type { Arch } from '../spec.ts';
import type { ImageChoice } from './desired.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const OFFLINE_BUILDER = path.join(ROOT, 'scripts/build-provisioner-image.sh');

/** What the probe of the Ubuntu image found: already downloaded, reachable, or not (with the reason). */
export type UbuntuProbe = { present: true } | { present: false; reachable: true } | { present: false; reachable: false; why: string };

export type ImageDecision = { use: 'ubuntu'; ref: string; why: string } | { use: 'offline'; why: string } | { use: 'file'; path: string; why: string };

/** Pure: the choice for `auto` (and the explicit ones), with the sentence that explains it. */
export function decideImage(choice: ImageChoice, arch: Arch, probe: UbuntuProbe | null): ImageDecision {
  if (choice === 'offline') return { use: 'offline', why: 'asked for the offline image (built from Debian packages)' };
  if (choice === 'auto') {
    if (!probe) throw new Error('decideImage: auto needs a probe');
    if (probe.present) return { use: 'ubuntu', ref: 'ubuntu-24.04', why: 'the Ubuntu 24.04 cloud image is already downloaded' };
    if (probe.reachable) return { use: 'ubuntu', ref: 'ubuntu-24.04', why: 'the Ubuntu 24.04 cloud image can be downloaded' };
    return { use: 'offline', why: `the Ubuntu 24.04 cloud image cannot be downloaded (${probe.why}): using the offline image built from Debian packages` };
  }
  if (path.isAbsolute(choice)) return { use: 'file', path: choice, why: `the image file ${choice}` };
  const entry = findCatalogueEntry(choice, arch);
  if (!entry) throw new Error(`image: unknown '${choice}': use auto, offline, ubuntu-24.04 or an absolute path`);
  return { use: 'ubuntu', ref: choice, why: `asked for ${entry.description}` };
}

/** Look (≤ timeoutMs) whether the Ubuntu image is here or its checksum list answers. Only for `auto`. */
export async function probeUbuntu(arch: Arch, home: LabHome, timeoutMs = 8000): Promise<UbuntuProbe> {
  const r = resolveImage('ubuntu-24.04', arch, home);
  if (r.kind === 'catalogue' && r.present) return { present: true };
  if (r.kind !== 'catalogue') return { present: false, reachable: false, why: 'not in the catalogue' };
  try {
    await fetchSha256(r.entry.checksumsUrl, r.entry.fileName, AbortSignal.timeout(timeoutMs));
    return { present: false, reachable: true };
  } catch (e) {
    const m = (e as Error).message.split('\n')[0];
    return { present: false, reachable: false, why: m.length > 200 ? m.slice(0, 197) + '…' : m };
  }
}

/** Where the offline builder caches images (PVMLAB_CACHE or ~/.cache/pvmlab, then images/). */
export function offlineImageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.PVMLAB_CACHE || path.join(env.HOME ?? '/root', '.cache', 'pvmlab'), 'images');
}

export interface OfflineImage { dir: string; disk: string; kernel: string; initrd: string; append: string }

/**
 * Build (or reuse, by content hash, from ~/.cache/pvmlab/images) the offline provisioner image. The build
 * takes ~7–10 min without KVM the first time; the script's lock makes a second caller wait for the first.
 * `onLine` gets the builder's progress lines.
 */
export async function offlineImage(arch: Arch, onLine: (l: string) => void, signal?: AbortSignal): Promise<OfflineImage> {
  const p = execa(OFFLINE_BUILDER, [arch], { reject: false, cancelSignal: signal, stdout: 'pipe', stderr: 'pipe' });
  const tail: string[] = [];
  p.stderr?.on('data', (d: Buffer) => String(d).split('\n').filter(Boolean).forEach((l) => { tail.push(l); if (tail.length > 8) tail.shift(); onLine(l); }));
  const r = await p;
  if (r.exitCode !== 0) throw new Error(`the offline provisioner image could not be built (scripts/build-provisioner-image.sh ${arch}, exit ${r.exitCode}):\n${tail.join('\n')}`);
  const dir = String(r.stdout).trim().split('\n').pop()!;
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { append: string };
  return { dir, disk: path.join(dir, 'disk.qcow2'), kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'), append: m.append };
}
