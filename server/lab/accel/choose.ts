// The accelerator choice, pure: which accelerators to try for a guest arch, which known-bad host signatures
// rule one out before trying, how a QEMU attempt's outcome reads to a person, which one wins, and how a user's
// override applies. The probe (probe.ts) gathers the facts and runs the attempts; nothing here touches the host.
import { z } from 'zod';

export type HostOs = 'linux' | 'darwin' | 'other';
export type Accelerator = 'hvf' | 'kvm' | 'tcg';
export type GuestArch = 'aarch64' | 'x86_64';
export const GUEST_ARCHES: readonly GuestArch[] = ['x86_64', 'aarch64'];

/** `accelerator:` in the lab config, `PVMLAB_ACCEL`, `vm create --accel`: auto = the probe's choice. */
export const accelMode = z.enum(['auto', 'kvm', 'hvf', 'tcg'], { error: 'use auto (the doctor decides), kvm, hvf or tcg' });
export type AccelMode = z.infer<typeof accelMode>;
/** A QEMU `-cpu` value: a model name and optional `,+feature` / `,-feature` / `,key=value` parts. */
export const cpuModel = z.string().trim().min(1).max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(,[+-]?[A-Za-z0-9._-]+(=[A-Za-z0-9._-]+)?)*$/,
    'use a QEMU CPU model such as host, max or qemu64, optionally with ,-feature / ,+feature / ,key=value parts');

/** One way to run a guest: the accelerator and the exact `-cpu` pvmlab passes with it. */
export interface Candidate { accel: Accelerator; cpu: string }

/** What the probe read off the host (probe.ts `hostFacts`). */
export interface HostFacts {
  os: HostOs;
  /** Node's process.arch or uname -m: x64, x86_64, arm64, aarch64 … */
  hostArch: string;
  kvm: {
    /** /dev/kvm exists (a character device). */
    device: boolean;
    /** It opens read-write for this user. */
    writable: boolean;
    /** Modules under /sys/module whose names start with kvm (kvm, kvm_intel, kvm_amd, kvm_pvm …). */
    modules: string[];
  };
}

/** The guest arch this host runs natively, or null when it runs neither natively. */
export function nativeArch(hostArch: string): GuestArch | null {
  if (hostArch === 'arm64' || hostArch === 'aarch64') return 'aarch64';
  if (hostArch === 'x64' || hostArch === 'x86_64' || hostArch === 'amd64') return 'x86_64';
  return null;
}

/** The `-cpu` pvmlab uses under an accelerator when nobody names one. */
export function defaultCpu(accel: Accelerator, arch: GuestArch): string {
  if (accel !== 'tcg') return 'host';
  // pauth-impdef: QEMU's cheaper pointer-authentication algorithm (FIELD-NOTES: 7–9 s → 2.6 s to init).
  return arch === 'aarch64' ? 'max,pauth-impdef=on' : 'max';
}

/**
 * The candidates for a guest arch, in the order they are tried: the hardware accelerator first (KVM on Linux,
 * HVF on macOS, only for the host's native arch), then TCG. KVM gets a second CPU model without
 * arch-capabilities: nested hosts that abort on `failed to set MSR 0x10a` (a known QEMU/KVM nested failure) run
 * with it.
 */
export function candidates(os: HostOs, hostArch: string, arch: GuestArch): Candidate[] {
  const tcg: Candidate = { accel: 'tcg', cpu: defaultCpu('tcg', arch) };
  if (nativeArch(hostArch) !== arch) return [tcg];
  if (os === 'darwin') return [{ accel: 'hvf', cpu: 'host' }, tcg];
  if (os === 'linux') {
    const kvm: Candidate[] = [{ accel: 'kvm', cpu: 'host' }];
    if (arch === 'x86_64') kvm.push({ accel: 'kvm', cpu: 'host,-arch-capabilities' });
    return [...kvm, tcg];
  }
  return [tcg];
}

/** Why a candidate was not used: what was seen, and what the user can do. */
export interface Rejection { symptom: string; advice: string }

/**
 * Known-bad host signatures that rule a candidate out without running QEMU, or null to go and try it.
 * Examples: no /dev/kvm; /dev/kvm not writable; the kvm_pvm module (a KVM that runs only PVM guests: ordinary
 * guests abort on MSR 0x10a or hang after decompression — FIELD-NOTES).
 */
export function screen(facts: HostFacts, c: Candidate, arch: GuestArch): Rejection | null {
  if (c.accel === 'tcg') return null;
  const native = nativeArch(facts.hostArch);
  if (native !== arch) {
    return { symptom: `${arch} guests on a ${native ?? facts.hostArch} host cannot use ${c.accel}`, advice: 'TCG emulates them: expect them to be slow' };
  }
  if (c.accel === 'hvf') {
    return facts.os === 'darwin' ? null : { symptom: 'hvf exists only on macOS', advice: 'use kvm on Linux, or tcg' };
  }
  if (facts.os !== 'linux') return { symptom: 'kvm exists only on Linux', advice: facts.os === 'darwin' ? 'pvmlab uses hvf on macOS' : 'pvmlab uses TCG' };
  if (!facts.kvm.device) {
    const vendor = facts.kvm.modules.find((m) => m !== 'kvm');
    return {
      symptom: '/dev/kvm does not exist',
      advice: vendor
        ? `KVM is loaded (${vendor}) but /dev/kvm is missing: in a container or sandbox, pass the device through (e.g. --device /dev/kvm)`
        : facts.kvm.modules.includes('kvm')
          ? 'the kvm module is loaded without a vendor module: load kvm_intel or kvm_amd (on a cloud VM, enable nested virtualisation)'
          : 'no KVM on this host: enable virtualisation in the firmware (VT-x / AMD-V) or nested virtualisation on the cloud VM, then load kvm_intel or kvm_amd',
    };
  }
  if (facts.kvm.modules.includes('kvm_pvm')) {
    return {
      symptom: "the host kernel's KVM is kvm-pvm (/sys/module/kvm_pvm): it runs only PVM-enabled guests; ordinary guests abort on MSR 0x10a or hang after the kernel decompresses",
      advice: "this host's KVM runs only PVM guests: pvmlab uses TCG (nothing to fix; on a host with kvm_intel or kvm_amd pvmlab uses KVM)",
    };
  }
  if (!facts.kvm.writable) {
    return { symptom: '/dev/kvm is not writable by this user', advice: 'add yourself to the kvm group: sudo usermod -aG kvm $USER, then log in again' };
  }
  return null;
}

/** The raw outcome of running QEMU once under a candidate (probe.ts `attempt`). */
export interface AttemptOutcome {
  /** What the guest had to reach: a Linux kernel past early boot, or the firmware's boot menu when no kernel was found. */
  proof: 'kernel' | 'firmware';
  /** The marker was seen on the serial console. */
  reached: boolean;
  /** QEMU exited before the marker (null: it was still running and was killed). */
  exitCode: number | null;
  stderr: string;
  /** The last serial console text, ANSI escapes removed. */
  serialTail: string;
  /** Time from spawn to the marker, or to the exit / deadline. */
  ms: number;
  deadlineMs: number;
}

const lastLine = (s: string) => s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).pop() ?? '';

/** Read an attempt's outcome: null when the guest ran, else the symptom in QEMU's or the guest's words and advice. */
export function judge(c: Candidate, o: AttemptOutcome): Rejection | null {
  if (o.reached) return null;
  const err = lastLine(o.stderr.split('\n').filter((l) => /error|fail|assert|denied|invalid|not supported|unsupported/i.test(l)).join('\n') || o.stderr);
  if (o.exitCode !== null) {
    const symptom = `QEMU exited (${o.exitCode}) at once: ${err || 'no message'}`;
    if (/MSR 0x10a|kvm_buf_set_msrs|set MSR/i.test(o.stderr)) {
      return { symptom, advice: 'a nested or older KVM that rejects this CPU model\'s MSRs: pvmlab tries the next candidate; enable nested virtualisation fully, or set accelerator to tcg' };
    }
    if (/HV_DENIED|hvf.*(denied|entitle)|failed to initialize hvf/i.test(o.stderr)) {
      return { symptom, advice: 'QEMU lacks the hypervisor entitlement: reinstall QEMU (brew reinstall qemu)' };
    }
    if (/Permission denied|Could not access KVM/i.test(o.stderr)) {
      return { symptom, advice: 'add yourself to the kvm group: sudo usermod -aG kvm $USER, then log in again' };
    }
    if (/not found|No such file|unknown|invalid/i.test(o.stderr)) {
      return { symptom, advice: `this QEMU does not accept -accel ${c.accel} -cpu ${c.cpu}: update QEMU, or set another accelerator / CPU model` };
    }
    return { symptom, advice: `QEMU cannot run guests under ${c.accel} here: pvmlab tries the next candidate` };
  }
  const what = o.proof === 'kernel' ? 'the guest kernel did not get past early boot' : 'the firmware did not reach its boot menu';
  const seen = lastLine(o.serialTail);
  return {
    symptom: `${what} within ${Math.round(o.deadlineMs / 1000)} s (${seen ? `last console line: "${seen.slice(0, 120)}"` : 'nothing on the serial console'})`,
    advice: c.accel === 'tcg'
      ? 'QEMU emulation itself is not running guests: check the QEMU install (pvmlab doctor lists it)'
      : `${c.accel} starts guests but they do not run (a nested or PVM-only hypervisor): pvmlab uses the next candidate`,
  };
}

/** One tried candidate, as the doctor shows it. */
export interface Tried extends Candidate { ok: boolean; proof: 'kernel' | 'firmware' | 'screened'; ms: number; symptom?: string; advice?: string }

/** The probe's verdict for one guest arch. */
export interface ArchProbe {
  arch: GuestArch;
  /** The first candidate under which a guest ran, or null when none did. */
  chosen: Candidate | null;
  reason: string;
  tried: Tried[];
}

/** The first candidate that ran wins; the reason names what was proven and why the ones before it lost. */
export function decide(arch: GuestArch, tried: Tried[]): ArchProbe {
  const win = tried.find((t) => t.ok);
  const lost = tried.filter((t) => !t.ok && (!win || tried.indexOf(t) < tried.indexOf(win)));
  const why = lost.map((t) => `${t.accel} (${t.cpu}): ${t.symptom}`).join('; ');
  if (!win) {
    return { arch, chosen: null, tried, reason: `no accelerator ran a ${arch} guest: ${why || 'nothing was tried'}` };
  }
  const proven = win.proof === 'kernel' ? 'a Linux kernel booted under it' : 'the firmware ran under it (no kernel was at hand to boot)';
  const slow = win.accel === 'tcg' ? ' — QEMU emulates the CPU: guests run several times slower than under a hardware accelerator' : '';
  const rejected = [...new Set(lost.map((t) => t.accel))].map((a) => `${a}: ${lost.find((t) => t.accel === a)?.advice ?? 'rejected'}`);
  return { arch, chosen: { accel: win.accel, cpu: win.cpu }, tried, reason: `${proven}${rejected.length ? ` (not ${rejected.join('; ')})` : ''}${slow}` };
}

/**
 * The probe's loop for one arch, with the attempt given (probe.ts runs QEMU; tests pass outcomes): each candidate
 * in order is screened (unless `screenFirst` is false), else attempted; the first that runs ends the loop. A
 * screened-out accelerator is listed once, not once per CPU model.
 */
export async function probeArch(
  facts: HostFacts, arch: GuestArch,
  run: (c: Candidate) => AttemptOutcome | Promise<AttemptOutcome> | Rejection,
  screenFirst = true,
): Promise<ArchProbe> {
  const tried: Tried[] = [];
  for (const c of candidates(facts.os, facts.hostArch, arch)) {
    if (tried.some((t) => t.accel === c.accel && t.proof === 'screened')) continue;
    const screened = screenFirst ? screen(facts, c, arch) : null;
    if (screened) { tried.push({ ...c, ok: false, proof: 'screened', ms: 0, ...screened }); continue; }
    const o = await run(c);
    if ('symptom' in o) { tried.push({ ...c, ok: false, proof: 'screened', ms: 0, ...o }); continue; }
    const bad = judge(c, o);
    tried.push({ ...c, ok: !bad, proof: o.proof, ms: o.ms, ...(bad ?? {}) });
    if (!bad) break;
  }
  return decide(arch, tried);
}

/** Where an override comes from, most specific first. */
export interface Overrides { vm?: AccelMode | null; env?: string | null; labConfig?: { mode: AccelMode; cpu?: string | null } | null }

/** The accelerator a VM runs with: its source is 'probe' or the override that set it. */
export interface AccelUse extends Candidate { source: 'probe' | 'vm' | 'env' | 'lab-config'; reason: string }

export class AccelOverrideError extends Error {}

/**
 * Apply the overrides (a VM's `--accel` > `PVMLAB_ACCEL` > the lab config's `accelerator`) over the probe's
 * choice. An override is taken as is, proven or not (people who know better); an override naming an
 * accelerator this host cannot have is an error. Throws AccelOverrideError when nothing can run.
 */
export function resolveAccel(probe: ArchProbe, host: { os: HostOs; hostArch: string }, o: Overrides = {}): AccelUse {
  const env = o.env?.trim() ? accelMode.safeParse(o.env.trim()) : null;
  if (env && !env.success) throw new AccelOverrideError(`PVMLAB_ACCEL=${o.env}: use auto, kvm, hvf or tcg`);
  const layers: Array<{ mode: AccelMode; cpu?: string | null; source: AccelUse['source']; label: string }> = [];
  if (o.vm && o.vm !== 'auto') layers.push({ mode: o.vm, source: 'vm', label: "this VM's accelerator setting" });
  if (env?.success && env.data !== 'auto') layers.push({ mode: env.data, source: 'env', label: 'PVMLAB_ACCEL' });
  if (o.labConfig && o.labConfig.mode !== 'auto') layers.push({ ...o.labConfig, source: 'lab-config', label: 'the lab config (Setup page)' });
  const top = layers[0];
  if (top && top.mode !== 'auto') {
    const accel = top.mode;
    const native = nativeArch(host.hostArch) === probe.arch;
    if (accel !== 'tcg' && !native) throw new AccelOverrideError(`${top.label} asks for ${accel}, but ${probe.arch} guests are not native on this host: use tcg or auto`);
    // The alternatives offered: this OS's hardware accelerator only where the probe did not reject it, then tcg, auto.
    const kvmRejected = probe.tried.some((t) => t.accel === 'kvm' && !t.ok) && !probe.tried.some((t) => t.accel === 'kvm' && t.ok);
    const hw = host.os === 'linux' && !kvmRejected ? 'kvm, ' : host.os === 'darwin' ? 'hvf, ' : '';
    if (accel === 'hvf' && host.os !== 'darwin') throw new AccelOverrideError(`${top.label} asks for hvf, which exists only on macOS: use ${hw}tcg or auto`);
    if (accel === 'kvm' && host.os !== 'linux') throw new AccelOverrideError(`${top.label} asks for kvm, which exists only on Linux: use ${hw}tcg or auto`);
    const cpu = (top.source === 'lab-config' && top.cpu) || (probe.chosen?.accel === accel ? probe.chosen.cpu : defaultCpu(accel, probe.arch));
    const proven = probe.tried.find((t) => t.accel === accel && t.cpu === cpu);
    const note = proven && !proven.ok ? ` (the probe rejected it: ${proven.symptom})` : '';
    return { accel, cpu, source: top.source, reason: `set by ${top.label}${note}` };
  }
  if (!probe.chosen) throw new AccelOverrideError(probe.reason);
  return { ...probe.chosen, source: 'probe', reason: probe.reason };
}

/** The accelerator and CPU model of a running QEMU, read from its argv (`-accel X`, `-cpu Y`). Pure. */
export function accelFromArgv(argv: string[]): Candidate | null {
  const a = argv.indexOf('-accel');
  const c = argv.indexOf('-cpu');
  const accel = a >= 0 ? argv[a + 1]?.split(',')[0] : undefined;
  if (accel !== 'kvm' && accel !== 'hvf' && accel !== 'tcg') return null;
  return { accel, cpu: c >= 0 ? argv[c + 1] ?? '' : '' };
}
