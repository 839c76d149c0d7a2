// Files in the lab home are opened without following symlinks (DESIGN §3): a link planted at
// logs/<vm>.log or images/vm-<x>.qcow2 must never make pvmlab (or QEMU) write outside the home.
import fs from 'node:fs';
import { ConflictError } from './errors.ts';

const { O_APPEND, O_CREAT, O_NOFOLLOW, O_RDONLY, O_WRONLY } = fs.constants;

function refused(file: string): ConflictError {
  return new ConflictError(`${file} is a symlink; pvmlab never follows links out of its home: remove it (rm ${file})`);
}

/** Refuse if any existing path is a symlink or not a regular file (QEMU would follow or misuse it). */
export function refuseLinks(files: (string | null | undefined)[]): void {
  for (const f of files) {
    if (!f) continue;
    const st = fs.lstatSync(f, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) throw refused(f);
    if (st && !st.isFile()) throw new ConflictError(`${f} is not a regular file: remove it (rm ${f})`);
  }
}

/** Refuse if the path exists at all (a file a new VM would create and overwrite). */
export function refuseExisting(file: string, fix: string): void {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (st) throw new ConflictError(`${file} already exists${st.isSymbolicLink() ? ' (a symlink)' : ''}: ${fix}`);
}

export function appendNoFollow(file: string, data: string): void {
  let fd: number;
  try { fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw refused(file);
    throw e;
  }
  try { fs.writeSync(fd, data); } finally { fs.closeSync(fd); }
}

/** Open for reading without following a symlink; null if absent. */
export function openReadNoFollow(file: string): number | null {
  try { return fs.openSync(file, O_RDONLY | O_NOFOLLOW); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw refused(file);
    throw e;
  }
}
