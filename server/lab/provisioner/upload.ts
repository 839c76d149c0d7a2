// Artifact uploads, remote side: a script (pure text, run by `sh -s`-free `sh -c … sh ARGS`) that publishes
// a file only when exactly the announced bytes arrived (and their sha256 matches, if given), after checking
// free space — so a cut connection, an aborted upload or a panel killed mid-way never publishes a prefix.
import { z } from 'zod';

/** Largest artifact accepted (PVMLAB_MAX_UPLOAD_BYTES overrides): 4 GiB. */
export const DEFAULT_MAX_UPLOAD = 4 * 1024 ** 3;
/** Room left free on the provisioner after an upload. */
export const SPACE_MARGIN = 64 * 1024 ** 2;

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 lowercase hex digits');

/** Exit codes of the remote script, for people. */
export const UPLOAD_EXIT: Record<number, string> = {
  3: 'not enough free space on the provisioner',
  4: 'the upload ended early: nothing was published',
  5: 'sha256 mismatch: nothing was published',
};

export function maxUploadBytes(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.PVMLAB_MAX_UPLOAD_BYTES);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_MAX_UPLOAD;
}

/**
 * The remote script. Arguments: $1 destination, $2 size in bytes, $3 sha256 or empty, $4 margin bytes.
 * `head -c` reads at most the announced size; the temp file is removed on any exit that did not publish.
 */
export const UPLOAD_SCRIPT = [
  'set -u',
  'dst=$1; size=$2; sum=$3; margin=$4',
  'dir=$(dirname "$dst"); tmp="$dir/.$(basename "$dst").upload.$$"',
  'mkdir -p "$dir" || exit 1',
  'avail=$(df -P -k "$dir" | awk \'NR==2 {print $4}\')',
  'if [ $(( (size + margin) / 1024 )) -gt "$avail" ]; then echo "needs $size bytes + margin, $((avail * 1024)) free in $dir" >&2; exit 3; fi',
  // The reader runs in the background so a signal (the writer killed on abort) is handled at once.
  'pid=',
  'trap \'[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -f "$tmp"\' EXIT',
  'trap \'exit 4\' HUP INT TERM PIPE',
  'exec 3<&0',
  'head -c "$size" <&3 > "$tmp" & pid=$!',
  'wait "$pid" || exit 4',
  'pid=',
  'got=$(stat -c %s "$tmp")',
  'if [ "$got" -ne "$size" ]; then echo "$got of $size bytes arrived" >&2; exit 4; fi',
  'if [ -n "$sum" ] && ! echo "$sum  $tmp" | sha256sum -c --status; then echo "sha256 of the bytes is not $sum" >&2; exit 5; fi',
  'chmod 0644 "$tmp" && mv -f "$tmp" "$dst"',
].join('\n');

export function uploadArgv(dst: string, size: number, sha256: string | null, margin = SPACE_MARGIN): string[] {
  return ['sh', '-c', UPLOAD_SCRIPT, 'sh', dst, String(size), sha256 ?? '', String(margin)];
}
