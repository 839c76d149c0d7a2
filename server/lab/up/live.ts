// The default boot profile: a small live Linux built from Debian packages (Debian's cloud kernel + a
// busybox/dropbear initramfs: the test guest of scripts/build-test-guest.sh, one builder, one cache).
// It takes its IP by DHCP, accepts the lab key (kernel cmdline), calls home and answers SSH as root.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { BootProfile } from '../provisioner/pxe.ts';
import type { Arch } from '../spec.ts';
import type { WantedArtifact } from './plan.ts';
import { liveArtifactNames } from './catalogue.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const LIVE_BUILDER = path.join(ROOT, 'scripts/build-test-guest.sh');

export interface LiveImage { arch: Arch; dir: string; console: string; kernel: WantedArtifact; initrd: WantedArtifact }


/**
 * The live profile for one target (pure). Shape: a `kernel` profile whose cmdline carries the hostname,
 * DHCP, the lab's public key (base64 of the `ssh-ed25519 …` line) and the call-home URL on the provisioner.
 */
export function liveProfile(o: { arch: Arch; console: string; hostname: string; publicKey: string; serverIp: string }): BootProfile {
  const n = liveArtifactNames(o.arch);
  const key = Buffer.from(o.publicKey.trim()).toString('base64');
  return {
    kind: 'kernel', kernel: n.kernel, initrd: n.initrd,
    cmdline: `console=${o.console} pvmlab.hostname=${o.hostname} pvmlab.dhcp=1 pvmlab.sshkey=${key} pvmlab.callhome=http://${o.serverIp}/callhome`,
  };
}

/** sha256 of a file, hex. */
export function sha256File(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(p).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * Build (or reuse from ~/.cache/pvmlab, by content hash) the live image for an arch. Needs apt/dpkg on the
 * host (Debian/Ubuntu); elsewhere the builder says what is missing. Errors carry the builder's last lines.
 */
export async function buildLive(arch: Arch, signal?: AbortSignal): Promise<LiveImage> {
  const r = await execa(LIVE_BUILDER, [arch], { reject: false, cancelSignal: signal, all: true, stdout: 'pipe' });
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? '').trim().split('\n').slice(-5).join('\n');
    throw new Error(`the default boot profile's live image could not be built (scripts/build-test-guest.sh ${arch}, exit ${r.exitCode}):\n${tail}`);
  }
  const dir = String(r.stdout).trim().split('\n').pop()!;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { console: string };
  const names = liveArtifactNames(arch);
  const [ks, is] = await Promise.all([sha256File(path.join(dir, 'vmlinuz')), sha256File(path.join(dir, 'initrd.img'))]);
  return { arch, dir, console: manifest.console,
    kernel: { name: names.kernel, label: 'live kernel', path: path.join(dir, 'vmlinuz'), sha256: ks },
    initrd: { name: names.initrd, label: 'live initrd', path: path.join(dir, 'initrd.img'), sha256: is } };
}
