// The NoCloud seed ISO (volume id "cidata") from rendered documents. Executor: xorriso, mkisofs or genisoimage.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { CloudInitDocs } from './render.ts';

/** Candidates in order of preference; xorriso runs in its mkisofs emulation. */
export const ISO_TOOLS = ['xorriso', 'mkisofs', 'genisoimage'] as const;
export type IsoToolName = (typeof ISO_TOOLS)[number];
export interface IsoTool { name: IsoToolName; path: string; }

const SEED_FILES = [
  ['meta-data', 'metaData'],
  ['user-data', 'userData'],
  ['network-config', 'networkConfig'],
] as const;

export class SeedIsoError extends Error {}

export function isoToolInstallHint(platform: NodeJS.Platform = process.platform): string {
  return platform === 'darwin' ? 'brew install xorriso' : 'sudo apt-get install -y xorriso';
}

/** The first ISO tool found on PATH, as an absolute path (no shell, no `which`). */
export function findIsoTool(pathEnv: string | undefined = process.env.PATH): IsoTool | null {
  const dirs = (pathEnv ?? '').split(path.delimiter).filter((d) => d && path.isAbsolute(d));
  for (const name of ISO_TOOLS) {
    for (const dir of dirs) {
      const p = path.join(dir, name);
      try {
        if (!fs.statSync(p).isFile()) continue;
        fs.accessSync(p, fs.constants.X_OK);
        return { name, path: p };
      } catch { /* not here */ }
    }
  }
  return null;
}

/** The argv for a tool; files are relative names in the tool's working directory (they land at the ISO root). */
export function seedIsoArgs(tool: IsoToolName, output: string, files: readonly string[]): string[] {
  const common = ['-output', output, '-volid', 'cidata', '-joliet', '-rock', ...files];
  return tool === 'xorriso' ? ['-as', 'mkisofs', ...common] : common;
}

export interface SeedIsoOptions {
  /** PATH to search for the ISO tool (default: process.env.PATH). */
  pathEnv?: string;
  platform?: NodeJS.Platform;
}

/**
 * Build the seed ISO at dest. The documents and the ISO are made in a private temp dir next to dest;
 * the ISO is renamed into place only when complete, and the temp dir is removed whatever happens.
 */
export async function buildSeedIso(dest: string, docs: CloudInitDocs, opts: SeedIsoOptions = {}): Promise<void> {
  const tool = findIsoTool(opts.pathEnv ?? process.env.PATH);
  if (!tool) {
    throw new SeedIsoError(`no ISO tool found (looked for ${ISO_TOOLS.join(', ')} on PATH) to build the cloud-init seed ISO: ` +
      `install one with: ${isoToolInstallHint(opts.platform)}`);
  }
  const dir = path.dirname(path.resolve(dest));
  const tmp = fs.mkdtempSync(path.join(dir, `.${path.basename(dest)}.seed-`));
  try {
    for (const [file, key] of SEED_FILES) fs.writeFileSync(path.join(tmp, file), docs[key], { mode: 0o600 });
    const iso = path.join(tmp, 'seed.iso');
    const args = seedIsoArgs(tool.name, iso, SEED_FILES.map(([f]) => f));
    // xorriso 1.5.4 sometimes crashes (SIGSEGV) while shutting down after writing the image: try again, from scratch.
    let r = await execa(tool.path, args, { cwd: tmp, reject: false, stdin: 'ignore', all: true, env: { LC_ALL: 'C' }, timeout: 120_000 });
    for (let attempt = 1; attempt < 3 && (r.exitCode !== 0 || r.failed) && /SIGSEGV|SIGBUS|ABORT/.test(r.all ?? ''); attempt++) {
      fs.rmSync(iso, { force: true });
      r = await execa(tool.path, args, { cwd: tmp, reject: false, stdin: 'ignore', all: true, env: { LC_ALL: 'C' }, timeout: 120_000 });
    }
    if (r.exitCode !== 0 || r.failed) {
      const out = (r.all ?? '').trim().split('\n').slice(-8).join('\n');
      throw new SeedIsoError(`building the seed ISO with ${tool.name} failed (${r.exitCode !== undefined ? `exit code ${r.exitCode}` : r.shortMessage}):\n${out}`);
    }
    if (!fs.existsSync(iso) || fs.statSync(iso).size === 0) throw new SeedIsoError(`${tool.name} reported success but wrote no ISO`);
    const fd = fs.openSync(iso, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    fs.renameSync(iso, dest);
    const dfd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
