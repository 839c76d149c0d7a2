// The one staleness rule for the production build of the pages: used by `pvmlab serve` and the benches.
import fs from 'node:fs';
import path from 'node:path';

const SOURCES = ['app', 'components', 'next.config.mjs', 'postcss.config.mjs', 'package-lock.json'];

function newestMtime(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of fs.readdirSync(p)) m = Math.max(m, newestMtime(path.join(p, e)));
  return m;
}

/** 'fresh' when .next is newer than every page source; else why a build is needed. */
export function buildState(root: string): 'fresh' | 'missing' | 'stale' {
  const built = fs.statSync(path.join(root, '.next', 'BUILD_ID'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (!built) return 'missing';
  return built >= Math.max(...SOURCES.map((p) => newestMtime(path.join(root, p)))) ? 'fresh' : 'stale';
}
