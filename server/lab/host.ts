// Doctor facts: OS, arch, accelerator (proven by the probe in accel/), tools and versions, firmware.
// Parsing is pure; probing is thin.
import fs from 'node:fs';
import os from 'node:os';
import { execa } from 'execa';
import {
  AccelOverrideError, GUEST_ARCHES, defaultCpu, nativeArch, resolveAccel,
  type Accelerator, type AccelMode, type AccelUse, type GuestArch, type HostOs, type Overrides, type Tried,
} from './accel/choose.ts';
import { hostOs, probeAccelerators, type AccelProbeReport } from './accel/probe.ts';
import { findOvmf } from './firmware.ts';

export interface ToolSpec {
  name: string;
  /** Candidates, first found wins (e.g. the ISO tools). */
  commands: string[];
  args: string[];
  /** When the tool has no version flag: where its version comes from (same package). */
  versionFrom?: { command: string; args: string[] };
  purpose: string;
  install: { debian: string; macos: string };
  macosOnly?: boolean;
  /** A group: any one of the group satisfies the need. */
  group?: string;
}

export const TOOLS: ToolSpec[] = [
  { name: 'qemu-system-x86_64', commands: ['qemu-system-x86_64'], args: ['--version'], purpose: 'runs x86_64 VMs',
    install: { debian: 'sudo apt-get install -y qemu-system-x86', macos: 'brew install qemu' } },
  { name: 'qemu-system-aarch64', commands: ['qemu-system-aarch64'], args: ['--version'], purpose: 'runs aarch64 VMs',
    install: { debian: 'sudo apt-get install -y qemu-system-arm', macos: 'brew install qemu' } },
  { name: 'qemu-img', commands: ['qemu-img'], args: ['--version'], purpose: 'creates VM disks',
    install: { debian: 'sudo apt-get install -y qemu-utils', macos: 'brew install qemu' } },
  { name: 'iso tool', commands: ['xorriso', 'mkisofs', 'genisoimage'], args: ['-version'], group: 'iso',
    purpose: 'builds cloud-init seed ISOs',
    install: { debian: 'sudo apt-get install -y xorriso', macos: 'brew install xorriso' } },
  { name: 'ssh', commands: ['ssh'], args: ['-V'], purpose: 'opens shells on VMs',
    install: { debian: 'sudo apt-get install -y openssh-client', macos: 'built in (xcode-select --install)' } },
  { name: 'ssh-keygen', commands: ['ssh-keygen'], args: ['-?'], versionFrom: { command: 'ssh', args: ['-V'] }, purpose: 'creates the lab key pair',
    install: { debian: 'sudo apt-get install -y openssh-client', macos: 'built in' } },
  { name: 'socket_vmnet', commands: ['socket_vmnet'], args: ['--version'], macosOnly: true,
    purpose: 'the private network on macOS', install: { debian: 'not used on Linux', macos: 'brew install socket_vmnet' } },
];

/** `optional`: a missing one is reported but is not a problem of the host (only VMs that ask for it need it). */
export interface FirmwareSpec { name: string; purpose: string; paths: string[]; install: { debian: string; macos: string }; optional?: boolean }

export const FIRMWARE: FirmwareSpec[] = [
  { name: 'aarch64 UEFI', purpose: 'boots aarch64 disk and PXE VMs',
    paths: ['/usr/share/qemu-efi-aarch64/QEMU_EFI.fd', '/usr/share/AAVMF/AAVMF_CODE.fd',
      '/opt/homebrew/share/qemu/edk2-aarch64-code.fd', '/usr/local/share/qemu/edk2-aarch64-code.fd'],
    install: { debian: 'sudo apt-get install -y qemu-efi-aarch64', macos: 'brew install qemu' } },
  { name: 'x86_64 BIOS', purpose: 'boots x86_64 VMs',
    paths: ['/usr/share/seabios/bios-256k.bin', '/usr/share/qemu/bios-256k.bin',
      '/opt/homebrew/share/qemu/bios-256k.bin', '/usr/local/share/qemu/bios-256k.bin'],
    install: { debian: 'sudo apt-get install -y seabios', macos: 'brew install qemu' } },
  // The two OVMF entries are found as code + vars pairs (firmware.ts OVMF_BUILDS); `paths` here is what is shown.
  { name: 'x86_64 UEFI', purpose: 'boots x86_64 VMs with --firmware uefi (OVMF; each VM gets its own copy of the vars)',
    paths: [], install: { debian: 'sudo apt-get install -y ovmf', macos: 'brew install qemu' } },
  { name: 'x86_64 UEFI Secure Boot', purpose: 'boots x86_64 VMs with --secure-boot (OVMF secboot build + vars with Microsoft keys)',
    paths: [], install: { debian: 'sudo apt-get install -y ovmf', macos: 'not shipped with keys enrolled by Homebrew' }, optional: true },
  { name: 'iPXE ROMs', purpose: 'network boot (virtio NIC option ROM)',
    paths: ['/usr/lib/ipxe/qemu/efi-virtio.rom', '/usr/share/qemu/efi-virtio.rom',
      '/opt/homebrew/share/qemu/efi-virtio.rom', '/usr/local/share/qemu/efi-virtio.rom'],
    install: { debian: 'sudo apt-get install -y ipxe-qemu', macos: 'brew install qemu' } },
];

/** Pull a version number out of a tool's --version / -V output. Pure. */
export function parseToolVersion(tool: string, output: string): string | null {
  const text = output.trim();
  if (!text) return null;
  const patterns: RegExp[] = [];
  if (tool.startsWith('qemu')) patterns.push(/version\s+(\d+\.\d+(?:\.\d+)?)/i);
  if (tool === 'ssh' || tool === 'ssh-keygen') patterns.push(/OpenSSH_([\w.]+)/);
  if (tool === 'xorriso') patterns.push(/xorriso\s+(\d+\.\d+(?:\.\d+)?)/);
  if (tool === 'mkisofs' || tool === 'genisoimage') patterns.push(/(?:mkisofs|genisoimage)\s+(\d+\.\d+(?:\.\d+)?)/i);
  patterns.push(/\bv?(\d+\.\d+(?:\.\d+)?)\b/);
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) return m[1];
  }
  return null;
}

/** The accelerator a guest arch runs with, as the doctor shows it: the choice, its source, what was tried. */
export interface AccelChoice {
  accelerator: Accelerator;
  cpu: string;
  /** 'probe' (proven here), or the override that set it: 'vm', 'env' (PVMLAB_ACCEL), 'lab-config'. */
  source: AccelUse['source'];
  reason: string;
  /** Every candidate the probe tried, in order, with the symptom and advice for the rejected ones. */
  tried: Tried[];
  /** The kernel the probe booted (null: it could only prove the firmware). */
  kernel: string | null;
}

export interface ToolFinding { name: string; command: string | null; version: string | null; found: boolean; purpose: string; install: string }
/** `vars`: for OVMF, the pristine variable store VMs copy (null otherwise); `optional`: see FirmwareSpec. */
export interface FirmwareFinding { name: string; path: string | null; found: boolean; purpose: string; install: string; vars?: string | null; optional?: boolean }

/** The firmware the doctor reports, from a file-exists function (pure apart from it). */
export function firmwareFindings(exists: (p: string) => boolean, platform: HostOs): FirmwareFinding[] {
  const ovmf = findOvmf(exists);
  return FIRMWARE.map((f) => {
    const install = platform === 'darwin' ? f.install.macos : f.install.debian;
    const build = f.name === 'x86_64 UEFI' ? ovmf.plain : f.name === 'x86_64 UEFI Secure Boot' ? ovmf.secure : undefined;
    if (build !== undefined) return { name: f.name, path: build?.code ?? null, vars: build?.vars ?? null, found: build !== null, purpose: f.purpose, install, optional: f.optional };
    const p = f.paths.find((x) => exists(x)) ?? null;
    return { name: f.name, path: p, found: p !== null, purpose: f.purpose, install, optional: f.optional };
  });
}
export interface DoctorReport {
  checkedAt: string;
  os: { platform: HostOs; release: string; distro: string; cpuArch: string; cpus: number; memoryBytes: number };
  /** The host's native guest arch's accelerator (x86_64 on x86 hosts, aarch64 on arm64 hosts). */
  accelerator: AccelChoice;
  accelerators: Record<GuestArch, AccelChoice>;
  /** The probe behind them: when it ran, how long it took, whether this answer came from its cache. */
  accelProbe: { probedAt: string; durationMs: number; cached: boolean; fingerprint: string };
  /** The lab config's accelerator setting (auto unless the user set one on the Setup page). */
  accelOverride: { mode: AccelMode; cpu: string | null };
  tools: ToolFinding[];
  firmware: FirmwareFinding[];
  ok: boolean;
  problems: string[];
}

function distroName(): string {
  if (process.platform === 'darwin') return `macOS ${os.release()}`;
  try {
    const txt = fs.readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(txt)?.[1] ?? 'Linux';
  } catch {
    return os.type();
  }
}

async function probeTool(t: ToolSpec, platform: HostOs): Promise<ToolFinding> {
  const install = platform === 'darwin' ? t.install.macos : t.install.debian;
  for (const cmd of t.commands) {
    try {
      const r = await execa(cmd, t.args, { reject: false, timeout: 5000, all: true });
      if ((r as { code?: string }).code === 'ENOENT' || r.exitCode === undefined) continue;
      const v = t.versionFrom ? await execa(t.versionFrom.command, t.versionFrom.args, { reject: false, timeout: 5000, all: true }) : r;
      const version = parseToolVersion(t.versionFrom?.command ?? cmd, v.all ?? '');
      return { name: t.name, command: cmd, version: version ?? 'unknown', found: true, purpose: t.purpose, install };
    } catch {
    }
  }
  return { name: t.name, command: null, version: null, found: false, purpose: t.purpose, install };
}

/**
 * The accelerator per guest arch: the probe's verdict with the overrides applied (resolveAccel). An override
 * that cannot apply, or an arch under which nothing runs, falls back to TCG and is reported in `problems`.
 */
export function accelChoices(probe: AccelProbeReport, overrides: Overrides, problems: string[] = []): Record<GuestArch, AccelChoice> {
  const out = {} as Record<GuestArch, AccelChoice>;
  for (const arch of GUEST_ARCHES) {
    const p = probe.arches[arch];
    let use: AccelUse;
    try {
      use = resolveAccel(p, { os: probe.facts.os, hostArch: probe.facts.hostArch }, overrides);
    } catch (e) {
      if (!(e instanceof AccelOverrideError)) throw e;
      problems.push(`accelerator for ${arch} guests: ${e.message}`);
      use = { ...(p.chosen ?? { accel: 'tcg', cpu: defaultCpu('tcg', arch) }), source: 'probe', reason: p.reason };
    }
    out[arch] = { accelerator: use.accel, cpu: use.cpu, source: use.source, reason: use.reason, tried: p.tried, kernel: p.kernel };
  }
  return out;
}

/** The doctor: host, tools, firmware, and the accelerator proven by the probe (cached per host; `force` re-probes). */
export async function runDoctor(opts: { force?: boolean; overrides?: Overrides } = {}): Promise<DoctorReport> {
  const platform = hostOs();
  const tools = await Promise.all(TOOLS.filter((t) => !t.macosOnly || platform === 'darwin').map((t) => probeTool(t, platform)));
  const firmware = firmwareFindings((p) => fs.existsSync(p), platform);
  const problems = [
    ...tools.filter((t) => !t.found).map((t) => `${t.name} is missing (${t.purpose}): ${t.install}`),
    ...firmware.filter((f) => !f.found && !f.optional).map((f) => `${f.name} firmware is missing (${f.purpose}): ${f.install}`),
  ];
  const probe = await probeAccelerators({ force: opts.force, aarch64Firmware: firmware.find((f) => f.name === 'aarch64 UEFI')?.path ?? null });
  const accelerators = accelChoices(probe, { env: process.env.PVMLAB_ACCEL, ...opts.overrides }, problems);
  const native = nativeArch(process.arch) ?? 'x86_64';
  return {
    checkedAt: new Date().toISOString(),
    os: { platform, release: os.release(), distro: distroName(), cpuArch: process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch, cpus: os.cpus().length, memoryBytes: os.totalmem() },
    accelerator: accelerators[native],
    accelerators,
    accelProbe: { probedAt: probe.probedAt, durationMs: probe.durationMs, cached: probe.cached, fingerprint: probe.fingerprint },
    accelOverride: { mode: opts.overrides?.labConfig?.mode ?? 'auto', cpu: opts.overrides?.labConfig?.cpu ?? null },
    tools,
    firmware,
    ok: problems.length === 0,
    problems,
  };
}

/**
 * The accelerator one VM runs with: the doctor's choice for its arch (probe + PVMLAB_ACCEL + lab config),
 * or the VM's own `accel` override on top. Throws AccelOverrideError (a message for people) when it cannot apply.
 */
export function vmAccel(doctor: DoctorReport, arch: GuestArch, vmMode: AccelMode | null | undefined): AccelChoice {
  const base = doctor.accelerators[arch];
  if (!vmMode || vmMode === 'auto') return base;
  const win = base.tried.find((t) => t.ok);
  const probe = { arch, chosen: win ? { accel: win.accel, cpu: win.cpu } : null, tried: base.tried, reason: base.reason };
  const use = resolveAccel(probe, { os: doctor.os.platform, hostArch: doctor.os.cpuArch }, { vm: vmMode });
  return { ...base, accelerator: use.accel, cpu: use.cpu, source: use.source, reason: use.reason };
}

/** What to tell a user whose QEMU died at launch under a hardware accelerator: where the choice came from, how to override. */
export function launchHint(a: AccelChoice): string {
  const from = a.source === 'probe' ? "the doctor's probe" : a.source === 'vm' ? "this VM's accel setting" : a.source === 'env' ? 'PVMLAB_ACCEL' : 'the lab config';
  return `it ran with -accel ${a.accelerator} -cpu ${a.cpu} (chosen by ${from}); to run it under TCG instead: ` +
    'PVMLAB_ACCEL=tcg for one process, accelerator "tcg" on the Setup page for the lab, or vm create --accel tcg for one VM';
}
