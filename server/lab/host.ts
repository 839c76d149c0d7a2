// Doctor facts: OS, arch, accelerator, tools and versions, firmware. Parsing is pure; probing is thin.
import fs from 'node:fs';
import os from 'node:os';
import { execa } from 'execa';

export type HostOs = 'linux' | 'darwin' | 'other';
export type Accelerator = 'hvf' | 'kvm' | 'tcg';
export type GuestArch = 'aarch64' | 'x86_64';

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

export interface FirmwareSpec { name: string; purpose: string; paths: string[]; install: { debian: string; macos: string } }

export const FIRMWARE: FirmwareSpec[] = [
  { name: 'aarch64 UEFI', purpose: 'boots aarch64 disk and PXE VMs',
    paths: ['/usr/share/qemu-efi-aarch64/QEMU_EFI.fd', '/usr/share/AAVMF/AAVMF_CODE.fd',
      '/opt/homebrew/share/qemu/edk2-aarch64-code.fd', '/usr/local/share/qemu/edk2-aarch64-code.fd'],
    install: { debian: 'sudo apt-get install -y qemu-efi-aarch64', macos: 'brew install qemu' } },
  { name: 'x86_64 BIOS', purpose: 'boots x86_64 VMs',
    paths: ['/usr/share/seabios/bios-256k.bin', '/usr/share/qemu/bios-256k.bin',
      '/opt/homebrew/share/qemu/bios-256k.bin', '/usr/local/share/qemu/bios-256k.bin'],
    install: { debian: 'sudo apt-get install -y seabios', macos: 'brew install qemu' } },
  { name: 'x86_64 UEFI', purpose: 'boots x86_64 UEFI guests',
    paths: ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd',
      '/opt/homebrew/share/qemu/edk2-x86_64-code.fd', '/usr/local/share/qemu/edk2-x86_64-code.fd'],
    install: { debian: 'sudo apt-get install -y ovmf', macos: 'brew install qemu' } },
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

export interface AccelChoice { accelerator: Accelerator; reason: string }

/** Pick the accelerator from facts. Pure. */
export function chooseAccelerator(facts: { os: HostOs; hostArch: string; guestArch: GuestArch; kvmUsable: boolean; kvmReason?: string }): AccelChoice {
  const native = (facts.hostArch === 'arm64' || facts.hostArch === 'aarch64') ? 'aarch64'
    : (facts.hostArch === 'x64' || facts.hostArch === 'x86_64') ? 'x86_64' : facts.hostArch;
  if (native !== facts.guestArch) {
    return { accelerator: 'tcg', reason: `${facts.guestArch} guests on a ${native} host are emulated (TCG): expect them to be slow` };
  }
  if (facts.os === 'darwin') return { accelerator: 'hvf', reason: 'macOS Hypervisor.framework' };
  if (facts.os === 'linux' && facts.kvmUsable) return { accelerator: 'kvm', reason: '/dev/kvm is usable' };
  return {
    accelerator: 'tcg',
    reason: `${facts.kvmReason ?? 'no hardware accelerator'}: QEMU emulates the CPU (TCG) — guests boot and run much slower`,
  };
}

export interface ToolFinding { name: string; command: string | null; version: string | null; found: boolean; purpose: string; install: string }
export interface FirmwareFinding { name: string; path: string | null; found: boolean; purpose: string; install: string }
export interface DoctorReport {
  checkedAt: string;
  os: { platform: HostOs; release: string; distro: string; cpuArch: string; cpus: number; memoryBytes: number };
  accelerator: AccelChoice;
  accelerators: Record<GuestArch, AccelChoice>;
  tools: ToolFinding[];
  firmware: FirmwareFinding[];
  ok: boolean;
  problems: string[];
}

function hostOs(): HostOs {
  return process.platform === 'linux' ? 'linux' : process.platform === 'darwin' ? 'darwin' : 'other';
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

function kvmFacts(): { usable: boolean; reason: string } {
  if (process.platform !== 'linux') return { usable: false, reason: 'not Linux' };
  if (!fs.existsSync('/dev/kvm')) return { usable: false, reason: '/dev/kvm does not exist (no KVM on this host)' };
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    return { usable: true, reason: '/dev/kvm is usable' };
  } catch {
    return { usable: false, reason: '/dev/kvm is not writable by this user (add yourself to the kvm group)' };
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
      continue;
    }
  }
  return { name: t.name, command: null, version: null, found: false, purpose: t.purpose, install };
}

export async function runDoctor(): Promise<DoctorReport> {
  const platform = hostOs();
  const kvm = kvmFacts();
  const accel = (guestArch: GuestArch) =>
    chooseAccelerator({ os: platform, hostArch: process.arch, guestArch, kvmUsable: kvm.usable, kvmReason: kvm.reason });
  const nativeArch: GuestArch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const tools = await Promise.all(TOOLS.filter((t) => !t.macosOnly || platform === 'darwin').map((t) => probeTool(t, platform)));
  const firmware = FIRMWARE.map((f) => {
    const p = f.paths.find((x) => fs.existsSync(x)) ?? null;
    return { name: f.name, path: p, found: p !== null, purpose: f.purpose, install: platform === 'darwin' ? f.install.macos : f.install.debian };
  });
  const problems = [
    ...tools.filter((t) => !t.found).map((t) => `${t.name} is missing (${t.purpose}): ${t.install}`),
    ...firmware.filter((f) => !f.found).map((f) => `${f.name} firmware is missing (${f.purpose}): ${f.install}`),
  ];
  return {
    checkedAt: new Date().toISOString(),
    os: { platform, release: os.release(), distro: distroName(), cpuArch: process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch, cpus: os.cpus().length, memoryBytes: os.totalmem() },
    accelerator: accel(nativeArch),
    accelerators: { x86_64: accel('x86_64'), aarch64: accel('aarch64') },
    tools,
    firmware,
    ok: problems.length === 0,
    problems,
  };
}
