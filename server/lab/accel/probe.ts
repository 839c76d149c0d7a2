// The accelerator probe, the executor side: read the host's facts, find a kernel to boot, run QEMU once per
// candidate until a guest really runs, and cache the verdict per host fingerprint in the user's cache
// (shared by every lab home and every test). The choice itself is pure (choose.ts).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { qemuBinary, qemuMachine } from '../qemu/plan.ts';
import {
  GUEST_ARCHES, nativeArch, probeArch,
  type ArchProbe, type AttemptOutcome, type Candidate, type GuestArch, type HostFacts, type HostOs,
} from './choose.ts';

/** Bump when the probe's method changes: old cache entries are then ignored. */
const PROBE_VERSION = 2;

/** The user's pvmlab cache, shared with the guest and image builders: `$PVMLAB_CACHE` or `~/.cache/pvmlab`. */
export function userCacheDir(env: Record<string, string | undefined> = process.env): string {
  return path.resolve(env.PVMLAB_CACHE?.trim() || path.join(os.homedir(), '.cache', 'pvmlab'));
}

export function hostOs(): HostOs {
  return process.platform === 'linux' ? 'linux' : process.platform === 'darwin' ? 'darwin' : 'other';
}

/** The host's accelerator facts: /dev/kvm and the kvm modules. Cheap (a few syscalls). */
export function hostFacts(): HostFacts {
  const device = (() => { try { return fs.statSync('/dev/kvm').isCharacterDevice(); } catch { return false; } })();
  let writable = false;
  if (device) { try { fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK); writable = true; } catch { /* not ours */ } }
  let modules: string[] = [];
  try { modules = fs.readdirSync('/sys/module').filter((m) => m === 'kvm' || m.startsWith('kvm_')).sort(); } catch { /* not Linux */ }
  return { os: hostOs(), hostArch: process.arch, kvm: { device, writable, modules } };
}

/** A kernel to boot for the proof, for a guest arch: what the host already has, never a download. */
export interface ProbeKernel { path: string; console: string; from: string }

const CONSOLE: Record<GuestArch, string> = { x86_64: 'ttyS0', aarch64: 'ttyAMA0' };

/**
 * Look for a kernel: the cached test guests and provisioner images (`<cache>/guests/<arch>-*`,
 * `<cache>/images/provisioner-<arch>-*`), then, for the host's native arch, the host's own readable
 * `/boot/vmlinuz-*` (the running release first). Newest first within each source.
 */
export function findProbeKernel(arch: GuestArch, cache = userCacheDir()): ProbeKernel | null {
  const newest = (dir: string, re: RegExp, file: string): string[] => {
    try {
      return fs.readdirSync(dir).filter((d) => re.test(d)).map((d) => path.join(dir, d, file)).filter(readable)
        .map((p) => ({ p, t: fs.statSync(p).mtimeMs })).sort((a, b) => b.t - a.t).map((x) => x.p);
    } catch { return []; }
  };
  const found: ProbeKernel[] = [
    ...newest(path.join(cache, 'guests'), new RegExp(`^${arch}-[0-9a-f]+$`), 'vmlinuz').map((p) => ({ path: p, console: CONSOLE[arch], from: 'the cached test guest' })),
    ...newest(path.join(cache, 'images'), new RegExp(`^provisioner-${arch}-[0-9a-f]+$`), 'vmlinuz').map((p) => ({ path: p, console: CONSOLE[arch], from: 'the cached provisioner image' })),
  ];
  if (nativeArch(process.arch) === arch) {
    const running = `/boot/vmlinuz-${os.release()}`;
    let boot: string[] = [];
    try { boot = fs.readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')).map((f) => `/boot/${f}`); } catch { /* none */ }
    for (const p of [running, ...boot.filter((b) => b !== running)]) {
      if (readable(p)) found.push({ path: p, console: CONSOLE[arch], from: "the host's own kernel" });
    }
  }
  return found[0] ?? null;
}

function readable(p: string): boolean {
  try { fs.accessSync(p, fs.constants.R_OK); return fs.statSync(p).isFile(); } catch { return false; }
}

/** Markers that prove a guest ran: Linux past early boot (to its "no root" panic, or /init), or the firmware's boot menu. */
const KERNEL_MARKER = /Kernel panic - not syncing: VFS|Run \/init as init process|Freeing unused kernel/;
const FIRMWARE_MARKER: Record<GuestArch, RegExp> = { x86_64: /Booting from |No bootable device/, aarch64: /BdsDxe: |UEFI Interactive Shell/ };

/** The argv of one probe run. Pure. */
export function planAttempt(arch: GuestArch, c: Candidate, kernel: ProbeKernel | null, firmware: string | null): string[] {
  const a = ['-accel', c.accel, '-cpu', c.cpu, '-M', qemuMachine(arch), '-smp', '1', '-m', '256',
    '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot'];
  if (kernel) {
    const early = arch === 'x86_64' ? 'earlyprintk=serial,ttyS0,115200' : 'earlycon';
    a.push('-kernel', kernel.path, '-append', `console=${kernel.console} ${early} panic=-1 root=/dev/pvmlab-probe-no-root`);
  } else if (arch === 'aarch64' && firmware) {
    a.push('-bios', firmware);
  }
  return a;
}

/** Run QEMU once: until the marker, the exit, or the deadline (then it is killed). Never throws. */
export function attempt(arch: GuestArch, c: Candidate, kernel: ProbeKernel | null, firmware: string | null, deadlineMs: number): Promise<AttemptOutcome> {
  const proof = kernel ? 'kernel' : 'firmware';
  const marker = kernel ? KERNEL_MARKER : FIRMWARE_MARKER[arch];
  const t0 = performance.now();
  return new Promise((resolve) => {
    let serial = '';
    let stderr = '';
    let done = false;
    const child = spawn(qemuBinary(arch), planAttempt(arch, c, kernel, firmware), { stdio: ['ignore', 'pipe', 'pipe'] });
    const finish = (reached: boolean, exitCode: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      // eslint-disable-next-line no-control-regex
      const tail = serial.replace(/\x1b\[[0-9;?=]*[A-Za-z]/g, '').slice(-2000);
      resolve({ proof, reached, exitCode, stderr: stderr.slice(-4000), serialTail: tail, ms: Math.round(performance.now() - t0), deadlineMs });
    };
    const timer = setTimeout(() => finish(false, null), deadlineMs);
    child.stdout.on('data', (b: Buffer) => {
      serial = (serial + b.toString('latin1')).slice(-16_000);
      if (marker.test(serial)) finish(true, null);
    });
    child.stderr.on('data', (b: Buffer) => { stderr = (stderr + b.toString('utf8')).slice(-8000); });
    child.on('error', (e) => { stderr += String(e.message); finish(false, 127); });
    child.on('exit', (code, sig) => setImmediate(() => finish(marker.test(serial), code ?? (sig ? 128 : 1))));
  });
}

/** What makes two probes comparable: the host kernel, QEMU's version, the accelerator device and modules, the user. */
export async function hostFingerprint(facts: HostFacts, kernels: Record<string, string | null>): Promise<{ key: string; parts: Record<string, unknown> }> {
  const qemu: Record<string, string> = {};
  for (const arch of GUEST_ARCHES) {
    const r = await execa(qemuBinary(arch), ['--version'], { reject: false, timeout: 5000 }).catch(() => null);
    qemu[arch] = r && r.exitCode === 0 ? r.stdout.split('\n')[0] : 'missing';
  }
  let dev = 'absent';
  try { const s = fs.statSync('/dev/kvm'); dev = `${s.rdev}:${s.mode.toString(8)}:${s.uid}:${s.gid}`; } catch { /* absent */ }
  const parts = {
    probe: PROBE_VERSION, os: facts.os, arch: facts.hostArch, kernel: os.release(), qemu, kvmDevice: dev,
    kvmWritable: facts.kvm.writable, kvmModules: facts.kvm.modules, uid: process.getuid?.() ?? null,
    // A kernel that appears later (the first test-guest build) upgrades a firmware-only proof.
    kernels,
  };
  return { key: crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16), parts };
}

/** The probe's report: one verdict per guest arch, with what was tried. */
export interface AccelProbeReport {
  probedAt: string;
  /** Whole probe time, ms (0-ish when served from the cache: see `cached`). */
  durationMs: number;
  cached: boolean;
  fingerprint: string;
  facts: HostFacts;
  arches: Record<GuestArch, ArchProbe & { kernel: string | null }>;
}

export interface ProbeOptions {
  /** Ignore the cache ("Re-check"). */
  force?: boolean;
  cacheDir?: string;
  /** Per attempt, ms: hardware accelerators boot the probe kernel in well under a second; TCG in ~2–3 s. */
  deadlineMs?: { hw: number; tcg: number };
  /** Skip the known-bad signature screen (tests use it to prove the boot check itself rejects a bad KVM). */
  screen?: boolean;
  /** Only these arches (default both). */
  arches?: GuestArch[];
  /** The aarch64 UEFI firmware, for the firmware proof when no kernel is at hand. */
  aarch64Firmware?: string | null;
}

function cacheFile(dir: string, key: string): string { return path.join(dir, 'accel', `probe-${key}.json`); }

/** Probe (or read the cached verdict for this host fingerprint). Both arches run side by side. */
export async function probeAccelerators(opts: ProbeOptions = {}): Promise<AccelProbeReport> {
  const t0 = performance.now();
  const facts = hostFacts();
  const dir = opts.cacheDir ?? userCacheDir();
  const arches = opts.arches ?? [...GUEST_ARCHES];
  const kernels = Object.fromEntries(GUEST_ARCHES.map((a) => [a, findProbeKernel(a, dir)])) as Record<GuestArch, ProbeKernel | null>;
  const fp = await hostFingerprint(facts, Object.fromEntries(GUEST_ARCHES.map((a) => [a, kernels[a]?.path ?? null])));
  const cachable = opts.screen !== false && !opts.arches && !opts.deadlineMs;
  if (!opts.force && cachable) {
    try {
      const hit = JSON.parse(fs.readFileSync(cacheFile(dir, fp.key), 'utf8')) as AccelProbeReport;
      if (hit.fingerprint === fp.key && hit.arches?.x86_64 && hit.arches?.aarch64) {
        return { ...hit, cached: true, durationMs: Math.round(performance.now() - t0) };
      }
    } catch { /* no cache yet */ }
  }
  const deadline = opts.deadlineMs ?? { hw: 15_000, tcg: 45_000 };
  const one = async (arch: GuestArch): Promise<ArchProbe & { kernel: string | null }> => {
    const kernel = kernels[arch];
    const firmware = arch === 'aarch64' ? opts.aarch64Firmware ?? null : null;
    const verdict = await probeArch(facts, arch, (c) => {
      if (!kernel && arch === 'aarch64' && !firmware) {
        return { symptom: 'no kernel and no aarch64 UEFI firmware to boot', advice: 'install qemu-efi-aarch64 (Debian) or qemu (Homebrew)' };
      }
      return attempt(arch, c, kernel, firmware, c.accel === 'tcg' ? deadline.tcg : deadline.hw);
    }, opts.screen !== false);
    return { ...verdict, kernel: kernel ? `${kernel.path} (${kernel.from})` : null };
  };
  const results = await Promise.all(arches.map(one));
  const report: AccelProbeReport = {
    probedAt: new Date().toISOString(), durationMs: Math.round(performance.now() - t0), cached: false, fingerprint: fp.key, facts,
    arches: Object.fromEntries(results.map((r) => [r.arch, r])) as AccelProbeReport['arches'],
  };
  if (cachable) {
    const f = cacheFile(dir, fp.key);
    try {
      fs.mkdirSync(path.dirname(f), { recursive: true, mode: 0o700 });
      const tmp = `${f}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n', { mode: 0o600 });
      fs.renameSync(tmp, f);
    } catch { /* a read-only cache only costs a re-probe */ }
  }
  return report;
}
