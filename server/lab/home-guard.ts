// What the lab home may hold, and who may touch it (DESIGN §3): only pvmlab's own entries, owned by this
// user, mode 0700, no symlinks where pvmlab keeps its folders. Pure checks + a clean plan; home.ts acts.
import fs from 'node:fs';
import path from 'node:path';

/** The lab home's folders, as the seed lays them out. */
export const HOME_DIRS = ['configs', 'docker_images', 'images', 'logs', 'monitors', 'pids', 'ssh', 'vms'] as const;
export type HomeDir = (typeof HOME_DIRS)[number];

/** A file pvmlab writes at the top of every home it made: its signature. */
export const HOME_MARKER = '.pvmlab-home';
export function ownEntries(): readonly string[] { return [...HOME_DIRS, HOME_MARKER]; }

export class HomeRefused extends Error {}

/** Entries at the top of `root` that pvmlab did not make. */
/** Files the OS itself drops into folders a user opened (macOS Finder): neither pvmlab's nor the user's data. */
const OS_LITTER = ['.DS_Store'];

export function foreignEntries(entries: string[]): string[] {
  return entries.filter((e) => !ownEntries().includes(e) && !OS_LITTER.includes(e)).sort();
}

/**
 * Refuse a home pvmlab must not use: a non-directory, someone else's directory, a directory holding
 * entries that are not pvmlab's (clean would otherwise delete them), or a pvmlab folder that is a symlink.
 */
export function checkHomeRoot(root: string, uid: number | undefined = process.getuid?.()): void {
  const st = fs.lstatSync(root, { throwIfNoEntry: false });
  if (!st) return;
  const fix = `set PVMLAB_HOME to a new directory (for example ${path.join(root, 'pvmlab')})`;
  if (!st.isDirectory()) throw new HomeRefused(`lab home ${root} is not a directory: ${fix}`);
  if (uid !== undefined && st.uid !== uid) throw new HomeRefused(`lab home ${root} belongs to uid ${st.uid}, not to you (uid ${uid}): ${fix}`);
  const entries = fs.readdirSync(root);
  const foreign = foreignEntries(entries);
  if (foreign.length) {
    const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} in all)` : '');
    throw new HomeRefused(`lab home ${root} holds entries that are not pvmlab's (${shown}); pvmlab only uses a directory of its own, because \`pvmlab clean\` empties it: ${fix}`);
  }
  for (const d of HOME_DIRS) {
    const s = fs.lstatSync(path.join(root, d), { throwIfNoEntry: false });
    if (s && (s.isSymbolicLink() || !s.isDirectory())) {
      throw new HomeRefused(`lab home: ${path.join(root, d)} is ${s.isSymbolicLink() ? 'a symlink' : 'not a directory'}; pvmlab never follows links out of its home: remove it (rm ${path.join(root, d)})`);
    }
  }
}

/** What `pvmlab clean` removes (pvmlab's own entries; ssh/ only with removeKey) and what it leaves. Pure. */
export function planClean(entries: string[], removeKey: boolean): { remove: string[]; leave: string[] } {
  const remove = entries.filter((e) => ownEntries().includes(e) && e !== HOME_MARKER && (removeKey || e !== 'ssh')).sort();
  return { remove, leave: foreignEntries(entries) };
}
