// Known base images and image-reference resolution (catalogue name or absolute path).
import fs from 'node:fs';
import path from 'node:path';
import type { LabHome } from '../home.ts';
import type { Arch } from '../spec.ts';

export interface CatalogueEntry {
  /** The explicit, arch-specific name (e.g. ubuntu-24.04-amd64). */
  name: string;
  /** The arch-neutral alias that resolves by the VM's arch (e.g. ubuntu-24.04). */
  alias: string;
  arch: Arch;
  description: string;
  url: string;
  checksumsUrl: string;
  /** File name in the lab's images/ directory (also its name in the checksums file). */
  fileName: string;
}

const DEBIAN_ARCH: Record<Arch, 'amd64' | 'arm64'> = { x86_64: 'amd64', aarch64: 'arm64' };

function ubuntuNoble(arch: Arch): CatalogueEntry {
  const a = DEBIAN_ARCH[arch];
  const fileName = `noble-server-cloudimg-${a}.img`;
  return {
    name: `ubuntu-24.04-${a}`,
    alias: 'ubuntu-24.04',
    arch,
    description: `Ubuntu 24.04 LTS (noble) server cloud image, ${a}`,
    url: `https://cloud-images.ubuntu.com/noble/current/${fileName}`,
    checksumsUrl: 'https://cloud-images.ubuntu.com/noble/current/SHA256SUMS',
    fileName,
  };
}

export const CATALOGUE: readonly CatalogueEntry[] = [ubuntuNoble('x86_64'), ubuntuNoble('aarch64')];

/** Every name a user may give: the aliases first, then the explicit names. */
export function catalogueNames(): string[] {
  return [...new Set([...CATALOGUE.map((e) => e.alias), ...CATALOGUE.map((e) => e.name)])];
}

export class ImageRefError extends Error {
  readonly field = 'image';
}

export type ResolvedImage =
  | { kind: 'catalogue'; entry: CatalogueEntry; path: string; present: boolean }
  | { kind: 'file'; path: string };

/** Catalogue lookup only (pure): an alias resolves by arch; an explicit name must match the arch. */
export function findCatalogueEntry(ref: string, arch: Arch): CatalogueEntry | null {
  const byAlias = CATALOGUE.find((e) => e.alias === ref && e.arch === arch);
  if (byAlias) return byAlias;
  const byName = CATALOGUE.find((e) => e.name === ref);
  if (!byName) return null;
  if (byName.arch !== arch) {
    const fit = CATALOGUE.find((e) => e.alias === byName.alias && e.arch === arch);
    throw new ImageRefError(`image: '${ref}' is for ${byName.arch} but the VM is ${arch}` +
      (fit ? `: use '${fit.alias}' or '${fit.name}'` : ''));
  }
  return byName;
}

/**
 * Resolve the `image` field: a catalogue name → its file in the lab's images/ (present or still to
 * download); an absolute path → that file, which must exist and be a regular file.
 */
export function resolveImage(ref: string, arch: Arch, home: LabHome): ResolvedImage {
  const entry = findCatalogueEntry(ref, arch);
  if (entry) {
    const p = home.inside('images', entry.fileName);
    let present = false;
    try { present = fs.statSync(p).isFile(); } catch { /* not downloaded yet */ }
    return { kind: 'catalogue', entry, path: p, present };
  }
  if (path.isAbsolute(ref)) {
    if (/[\0\n\r]/.test(ref)) throw new ImageRefError('image: the path must not contain control characters');
    const p = path.resolve(ref);
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ImageRefError(code === 'EACCES' ? `image: cannot read ${p} (permission denied)` : `image: no such file: ${p}`);
    }
    if (!st.isFile()) throw new ImageRefError(`image: not a regular file: ${p}${st.isDirectory() ? ' (it is a directory)' : ''}`);
    return { kind: 'file', path: p };
  }
  throw new ImageRefError(`unknown image '${ref}': use one of ${catalogueNames().join(', ')} or an absolute path`);
}

/**
 * The hash for fileName from a SHA256SUMS text (GNU coreutils format: `<hex> *<name>` for binary mode,
 * `<hex>  <name>` for text mode). Pure. Returns null when the file is not listed.
 */
export function parseSha256Sums(text: string, fileName: string): string | null {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const m = /^([0-9a-fA-F]{64}) ([ *])(.+)$/.exec(line);
    if (m && m[3] === fileName) return m[1].toLowerCase();
  }
  return null;
}
