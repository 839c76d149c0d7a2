// Is a process alive — and is it still the process we mean? Used by the lock files (store.ts) and QEMU pid files.
import fs from 'node:fs';

/** Alive and not a zombie (on Linux the state is read from /proc; elsewhere kill(pid, 0) alone). */
export function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; }
  if (process.platform === 'linux') {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch { return false; }
  }
  return true;
}

/**
 * When a process started, as an opaque token that differs between two processes that got the same pid: on Linux
 * field 22 of /proc/<pid>/stat (clock ticks after boot, proc(5)); null where it cannot be read (then callers fall
 * back to processAlive alone).
 */
export function processStart(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch { return null; }
}
