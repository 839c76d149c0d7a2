// Where a lab's Unix sockets live. sun_path holds 104 bytes on macOS and 108 on Linux (with the NUL), so a
// socket under a long lab home cannot be created at all. Every socket pvmlab or its tools create — QEMU's
// QMP, event and serial sockets, OpenSSH's ControlMaster socket (and the temporary name it binds first) —
// lives in one short per-lab directory instead: /tmp/pvmlab-<uid>-<12 hex of sha256(home path)>.
//
// Why /tmp and not $XDG_RUNTIME_DIR: QEMU is daemonized and outlives the panel and the login session, and the
// CLI, the panel and a cron job may run with different environments; the directory must be the same for all
// of them, and survive a logout (systemd removes $XDG_RUNTIME_DIR then). The directory is ours: created 0700,
// and before every use lstat-checked to be a real directory owned by us with no group/other access.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The longest socket path (bytes, without the NUL) that works on both macOS (104) and Linux (108). */
export const MAX_SOCKET_PATH = 103;
/** OpenSSH binds the master at `<ControlPath>.<16 random characters>` first, then renames it. */
export const SSH_TEMP_SUFFIX = 17;
/** The ControlPath's file name: `cm-%C`, %C being 40 hex characters. */
export const SSH_CONTROL_NAME = 'cm-%C';
const SSH_CONTROL_LEN = 3 + 40;
/** The longest QEMU socket name: a 32-character VM name + ".events". */
const QEMU_SOCKET_LEN = 32 + '.events'.length;

/** The run directory of the lab whose home is `root` (absolute). */
export function runDirFor(root: string, uid: number = process.getuid?.() ?? 0, base = '/tmp'): string {
  const hash = crypto.createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 12);
  return path.join(base, `pvmlab-${uid}-${hash}`);
}

/** The longest socket path a run directory will hold (the ssh master's temporary name), in bytes. */
export function longestSocketPath(runDir: string): number {
  return Buffer.byteLength(runDir) + 1 + Math.max(QEMU_SOCKET_LEN, SSH_CONTROL_LEN + SSH_TEMP_SUFFIX);
}

/** A socket path that does not fit → an error for people (names the path, the limit and the fix). */
export function checkSocketPath(p: string, extra = 0): string {
  const n = Buffer.byteLength(p) + extra;
  if (n > MAX_SOCKET_PATH) {
    throw new Error(`socket path too long (${n} > ${MAX_SOCKET_PATH} bytes${extra ? `, with the ${extra} bytes ssh adds` : ''}): ${p}`);
  }
  return p;
}

export class RunDirError extends Error {}

/**
 * Create the run directory (0700) or check the one that is there: a real directory (not a symlink), owned
 * by this user, with no access for group or others. Anything else is refused — in /tmp it may be someone
 * else's trap — with what was found and what to do.
 */
export function ensureRunDir(dir: string): void {
  checkSocketPath(dir, longestSocketPath(dir) - Buffer.byteLength(dir));
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new RunDirError(`cannot create the lab's socket directory ${dir}: ${(e as Error).message}`);
  }
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  const fix = `remove it (rm -r ${dir}) if it is stale, then try again`;
  if (st.isSymbolicLink() || !st.isDirectory()) throw new RunDirError(`the lab's socket directory ${dir} is not a directory (a symlink or a file is in its place): ${fix}`);
  if (uid !== undefined && st.uid !== uid) throw new RunDirError(`the lab's socket directory ${dir} belongs to uid ${st.uid}, not to you (uid ${uid}): ${fix}`);
  if ((st.mode & 0o077) !== 0) throw new RunDirError(`the lab's socket directory ${dir} is open to others (mode ${(st.mode & 0o777).toString(8)}; it must be 700): ${fix}`);
}

/** Remove the run directory and the sockets in it (after the same ownership check). Missing is fine. */
export function removeRunDir(dir: string): void {
  if (!fs.existsSync(dir)) return;
  ensureRunDir(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}
