// The default boot profile's live image, built inside the provisioner for hosts without apt (macOS): the same
// builder (scripts/build-test-guest.sh, from Debian packages) runs in a throwaway container of the pxeboot image
// (Debian bookworm on every provisioner image: the offline one and Ubuntu's), which installs the few tools it
// lacks and reaches Debian's mirror through the provisioner's NAT. The result is published straight into the
// provisioner's artifacts and copied back to the host cache, keyed by the recipe's content hash.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Lab } from '../lab.ts';
import type { JobHandle } from '../jobs.ts';
import type { Arch } from '../spec.ts';
import { Remote } from '../provisioner/remote.ts';
import { IMAGE, PXE_DIR } from '../provisioner/stack.ts';
import { lineSplitter } from '../consolelog.ts';
import { liveArtifactNames, targetConsole } from './catalogue.ts';
import { LIVE_BUILDER, sha256File, type LiveImage } from './live.ts';

const SCRIPTS = path.dirname(LIVE_BUILDER);
/** The builder's inputs (besides the Debian packages it resolves): the script and the guest's files. */
const RECIPE = ['build-test-guest.sh', 'test-guest/rootfs'];
/** Where the provisioner keeps the builder and its .deb cache (on its disk, outside the served tree). */
export const REMOTE_BUILD_DIR = '/var/lib/pvmlab/live-build';

export type LiveBuilder = 'host' | 'provisioner';

/**
 * Where the live image is built (pure): on the host when it has apt and dpkg (Debian, Ubuntu), else in the
 * provisioner. `PVMLAB_LIVE_BUILD=host|provisioner` forces one (a test exercises the provisioner path on a
 * Debian host this way). → the builder and the sentence that says why.
 */
export function chooseLiveBuilder(env: Record<string, string | undefined>, hostHasApt: boolean): { builder: LiveBuilder; why: string } {
  const forced = env.PVMLAB_LIVE_BUILD;
  if (forced === 'host' || forced === 'provisioner') return { builder: forced, why: `PVMLAB_LIVE_BUILD=${forced}` };
  if (forced) throw new Error(`PVMLAB_LIVE_BUILD must be host or provisioner (or unset: host when it has apt), got '${forced}'`);
  return hostHasApt ? { builder: 'host', why: 'this host has apt and dpkg' } : { builder: 'provisioner', why: 'this host has no apt/dpkg: built inside the provisioner (Debian inside)' };
}

/** Does this host have what the builder needs to fetch and unpack Debian packages? */
export async function hostHasApt(): Promise<boolean> {
  const r = await execa('sh', ['-c', 'command -v apt-get && command -v apt-cache && command -v dpkg-deb'], { reject: false });
  return r.exitCode === 0;
}

/** Content hash of the builder's recipe for an arch (script + guest files, paths and bytes), hex. */
export function liveRecipeHash(arch: Arch, dir = SCRIPTS): string {
  const h = crypto.createHash('sha256').update(`pvmlab-live ${arch}\0`);
  const walk = (rel: string) => {
    const p = path.join(dir, rel);
    if (fs.statSync(p).isDirectory()) { for (const e of fs.readdirSync(p).sort()) walk(path.join(rel, e)); return; }
    h.update(rel).update('\0').update(fs.readFileSync(p)).update('\0');
  };
  for (const r of RECIPE) walk(r);
  return h.digest('hex').slice(0, 32);
}

/** The host cache directory of a provisioner-built live image: <cache>/guests/remote-<arch>-<recipe hash>. */
export function remoteLiveDir(arch: Arch, env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.PVMLAB_CACHE || path.join(env.HOME ?? '/root', '.cache', 'pvmlab');
  return path.join(cache, 'guests', `remote-${arch}-${liveRecipeHash(arch)}`);
}

async function liveImageAt(arch: Arch, dir: string): Promise<LiveImage> {
  const names = liveArtifactNames(arch);
  const [ks, is] = await Promise.all([sha256File(path.join(dir, 'vmlinuz')), sha256File(path.join(dir, 'initrd.img'))]);
  return { arch, dir, console: targetConsole(arch),
    kernel: { name: names.kernel, label: 'live kernel', path: path.join(dir, 'vmlinuz'), sha256: ks },
    initrd: { name: names.initrd, label: 'live initrd', path: path.join(dir, 'initrd.img'), sha256: is } };
}

/** A provisioner-built live image already in the host cache (same recipe), or null. */
export async function cachedRemoteLive(arch: Arch, env: NodeJS.ProcessEnv = process.env): Promise<LiveImage | null> {
  const dir = remoteLiveDir(arch, env);
  return fs.existsSync(path.join(dir, 'manifest.json')) ? liveImageAt(arch, dir) : null;
}

/**
 * The container run that builds the image in the provisioner (pure): the pxeboot image with bash as the entry
 * point, the build dir mounted, apt lists fetched, cpio/binutils/busybox-static installed when missing, then the
 * builder, whose last stdout line is the result's directory (under /build/cache/guests/).
 */
export function planRemoteBuild(arch: Arch): string[] {
  const script = [
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive',
    'need=""',
    'for t in cpio:cpio readelf:binutils busybox:busybox-static; do command -v "${t%%:*}" >/dev/null || need="$need ${t#*:}"; done',
    'echo "apt-get update (Debian bookworm, through the provisioner NAT)" >&2',
    'apt-get -q -o Acquire::Languages=none update >&2',
    '[ -z "$need" ] || { echo "apt-get install$need" >&2; apt-get -q install -y --no-install-recommends $need >&2; }',
    'exec /build/src/build-test-guest.sh "$1"',
  ].join('\n');
  return ['docker', 'run', '--rm', '--no-healthcheck', '--entrypoint', '/bin/bash', '-v', `${REMOTE_BUILD_DIR}:/build`, '-e', 'PVMLAB_CACHE=/build/cache', IMAGE, '-c', script, 'bash', arch];
}

/** Copy the built files into the served artifacts, each atomically (temp + rename). Pure: argv for `sudo`. */
export function planPublish(arch: Arch, builtDir: string): string[] {
  const n = liveArtifactNames(arch);
  return ['sh', '-c', [
    'set -eu',
    `a=${PXE_DIR}/http/artifacts`,
    'mkdir -p "$a"',
    'cp "$1/vmlinuz" "$a/.$2.tmp" && cp "$1/initrd.img" "$a/.$3.tmp"',
    'chmod 0644 "$a/.$2.tmp" "$a/.$3.tmp"',
    'mv -f "$a/.$2.tmp" "$a/$2" && mv -f "$a/.$3.tmp" "$a/$3"',
  ].join('\n'), 'sh', builtDir, n.kernel, n.initrd];
}

/**
 * Build the live image for `arch` in the running provisioner, publish it as its artifacts, and keep a copy in the
 * host cache (remoteLiveDir). Stages: sources → build (the builder's lines go to the job log) → publish → copy
 * back. Errors carry the builder's last lines. The provisioner must run with a healthy stack (its image exists).
 */
export async function buildLiveInProvisioner(lab: Lab, arch: Arch, job: JobHandle): Promise<LiveImage> {
  const prov = lab.provisioner.name();
  const remote = new Remote((n, c) => lab.sshArgv(n, c), prov);
  const tar = execa('tar', ['-C', SCRIPTS, '-cf', '-', ...RECIPE], { encoding: 'buffer' });
  await remote.run(['sh', '-c', `mkdir -p ${REMOTE_BUILD_DIR} && rm -rf ${REMOTE_BUILD_DIR}/src.new && mkdir ${REMOTE_BUILD_DIR}/src.new && tar -x -C ${REMOTE_BUILD_DIR}/src.new && rm -rf ${REMOTE_BUILD_DIR}/src && mv ${REMOTE_BUILD_DIR}/src.new ${REMOTE_BUILD_DIR}/src`],
    { sudo: true, input: tar.stdout!, timeoutMs: 120_000 });
  await tar;

  const tail: string[] = [];
  const { proc, done } = remote.spawn(planRemoteBuild(arch), { sudo: true, timeoutMs: 30 * 60_000, signal: job.signal });
  const lines = lineSplitter((l: string) => { tail.push(l); if (tail.length > 8) tail.shift(); job.log(l); });
  proc.stderr?.on('data', (d: Buffer) => lines.write(d));
  proc.stderr?.on('end', () => lines.end());
  let out: string;
  try { out = await done; } catch (e) {
    throw new Error(`the live image could not be built inside ${prov} (scripts/build-test-guest.sh ${arch} in a ${IMAGE} container): ${(e as Error).message.split('\n')[0]}\n${tail.join('\n')}`);
  }
  const built = out.trim().split('\n').pop() ?? '';
  const m = /^\/build\/cache\/guests\/((x86_64|aarch64)-[0-9a-f]{64})$/.exec(built);
  if (!m) throw new Error(`the live image builder in ${prov} printed no result directory (last line: '${built}')`);
  const remoteDir = `${REMOTE_BUILD_DIR}/cache/guests/${m[1]}`;
  await remote.run(planPublish(arch, remoteDir), { sudo: true });
  job.log(`published ${Object.values(liveArtifactNames(arch)).join(', ')} on ${prov}`);

  // a copy for the host cache: the next lab (after pvmlab clean, or another provisioner) uploads it instead of building
  const dest = remoteLiveDir(arch);
  const tmp = `${dest}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const [ssh, ...args] = remote.argv(['tar', '-C', remoteDir, '-cf', '-', 'vmlinuz', 'initrd.img', 'manifest.json'], true);
    await execa(ssh, args, { encoding: 'buffer', timeout: 300_000 }).pipe('tar', ['-x', '-C', tmp]);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(tmp, dest);
  } finally { fs.rmSync(tmp, { recursive: true, force: true }); }
  const img = await liveImageAt(arch, dest);
  const served = await remote.run(['sh', '-c', `sha256sum ${PXE_DIR}/http/artifacts/${img.kernel.name} ${PXE_DIR}/http/artifacts/${img.initrd.name} | cut -d' ' -f1`], { sudo: true });
  if (served.trim().split('\n').join(' ') !== `${img.kernel.sha256} ${img.initrd.sha256}`) throw new Error(`the live image copied back from ${prov} differs from what it serves: build it again (rm -r ${dest})`);
  return img;
}
