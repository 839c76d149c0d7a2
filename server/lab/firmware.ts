// Which firmware a VM boots and where its files are: SeaBIOS, OVMF (x86_64 UEFI, optionally Secure Boot) or AAVMF
// (aarch64). Pure: the host's files come in through an `exists` function.
import type { Firmware, Netboot, VmRecord } from './spec.ts';

/** One OVMF build: its read-only code image and the pristine variable store each VM gets a writable copy of. */
export interface OvmfBuild { code: string; vars: string; secureBoot: boolean }

/**
 * OVMF builds pvmlab knows, best first. Debian's `ovmf` ships the 4 MiB builds (OVMF_CODE_4M.fd + OVMF_VARS_4M.fd;
 * Secure Boot: OVMF_CODE_4M.secboot.fd, which needs SMM, + OVMF_VARS_4M.ms.fd with Microsoft's keys enrolled);
 * Homebrew's qemu ships edk2-x86_64-code.fd / edk2-x86_64-secure-code.fd with edk2-i386-vars.fd (no keys enrolled).
 * A code image is only ever paired with the variable store of the same build (sizes must match).
 */
export const OVMF_BUILDS: OvmfBuild[] = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd', secureBoot: false },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd', secureBoot: false },
  { code: '/opt/homebrew/share/qemu/edk2-x86_64-code.fd', vars: '/opt/homebrew/share/qemu/edk2-i386-vars.fd', secureBoot: false },
  { code: '/usr/local/share/qemu/edk2-x86_64-code.fd', vars: '/usr/local/share/qemu/edk2-i386-vars.fd', secureBoot: false },
  { code: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd', secureBoot: true },
  { code: '/usr/share/OVMF/OVMF_CODE.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS.ms.fd', secureBoot: true },
];

/** The first complete (code + vars present) OVMF build of each kind on this host; null when there is none. */
export function findOvmf(exists: (p: string) => boolean): { plain: OvmfBuild | null; secure: OvmfBuild | null } {
  const ok = (b: OvmfBuild) => exists(b.code) && exists(b.vars);
  return { plain: OVMF_BUILDS.find((b) => !b.secureBoot && ok(b)) ?? null, secure: OVMF_BUILDS.find((b) => b.secureBoot && ok(b)) ?? null };
}

/** A VM's effective firmware settings (records made before these fields existed: bios, Secure Boot off, pxe). */
export interface BootFirmware { firmware: Firmware; secureBoot: boolean; netboot: Netboot }

export function vmBootFirmware(rec: Pick<VmRecord, 'arch' | 'firmware' | 'secureBoot' | 'netboot'>): BootFirmware {
  return {
    firmware: rec.arch === 'aarch64' ? 'uefi' : rec.firmware ?? 'bios',
    secureBoot: rec.arch === 'x86_64' && rec.firmware === 'uefi' && rec.secureBoot === true,
    netboot: rec.netboot ?? 'pxe',
  };
}

/** The record fields for a new VM from its create input (after vmCreateInput validated the combination). */
export function firmwareFields(input: { arch: VmRecord['arch']; firmware?: Firmware; secureBoot?: boolean; netboot?: Netboot; boot?: string }): Pick<VmRecord, 'firmware' | 'secureBoot' | 'netboot'> {
  const firmware = input.firmware ?? (input.arch === 'aarch64' ? 'uefi' : 'bios');
  return { firmware, secureBoot: input.secureBoot === true, netboot: input.boot === 'pxe' ? input.netboot ?? 'pxe' : undefined };
}

export class FirmwareError extends Error {
  constructor(readonly field: 'firmware' | 'secureBoot', message: string) { super(message); }
}

/** What a VM boots with: SeaBIOS (QEMU's default, no argument), or an OVMF build and the VM's own copy of its vars. */
export type VmFirmwarePlan = { kind: 'seabios' } | { kind: 'aavmf' } | { kind: 'ovmf'; build: OvmfBuild };

/**
 * The firmware files for a VM on this host. Throws FirmwareError naming the field and the fix when the host lacks
 * them: uefi without OVMF (install `ovmf`), Secure Boot without the secure-boot build (OVMF_CODE_4M.secboot.fd).
 */
export function chooseFirmware(rec: Pick<VmRecord, 'arch' | 'firmware' | 'secureBoot' | 'netboot'>, found: ReturnType<typeof findOvmf>): VmFirmwarePlan {
  const fw = vmBootFirmware(rec);
  if (rec.arch === 'aarch64') return { kind: 'aavmf' };
  if (fw.firmware === 'bios') return { kind: 'seabios' };
  if (fw.secureBoot) {
    if (!found.secure) {
      throw new FirmwareError('secureBoot', 'Secure Boot needs the secure-boot OVMF build (OVMF_CODE_4M.secboot.fd + OVMF_VARS_4M.ms.fd), which this host lacks: sudo apt-get install -y ovmf (Debian), or create the VM without --secure-boot');
    }
    return { kind: 'ovmf', build: found.secure };
  }
  if (!found.plain) throw new FirmwareError('firmware', 'UEFI firmware (OVMF) not found: sudo apt-get install -y ovmf (Debian) or brew install qemu (macOS), or use --firmware bios');
  return { kind: 'ovmf', build: found.plain };
}

/** The OVMF builds as the doctor found them (host.ts firmwareFindings: 'x86_64 UEFI' and 'x86_64 UEFI Secure Boot'). */
export function ovmfFromDoctor(firmware: { name: string; path: string | null; vars?: string | null }[]): ReturnType<typeof findOvmf> {
  const pick = (name: string, secureBoot: boolean): OvmfBuild | null => {
    const f = firmware.find((x) => x.name === name);
    return f?.path && f.vars ? { code: f.path, vars: f.vars, secureBoot } : null;
  };
  return { plain: pick('x86_64 UEFI', false), secure: pick('x86_64 UEFI Secure Boot', true) };
}
