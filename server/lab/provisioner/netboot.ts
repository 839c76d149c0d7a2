// Glue between the lab's VMs and the pure netboot readers: which boot path each PXE target took (bootpath.ts over
// dnsmasq's log) and the profile dry-run for a MAC or target (explain.ts over the boot rules table).
import { vmBootFirmware } from '../firmware.ts';
import { mac as macSchema, type Arch, type Firmware, type VmRecord } from '../spec.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { bootPathFor, parseDhcpLog, type BootPath } from './bootpath.ts';
import { clientFor, explainBoot, type BootClient, type Explanation } from './explain.ts';
import type { Reservation } from './pxe.ts';

/** Every PXE target's last boot path by VM name (null: nothing in the log for its MAC yet), from one log read. */
export function bootPathsOf(vms: Pick<VmRecord, 'name' | 'mac' | 'boot' | 'role'>[], dhcpLog: string): Record<string, BootPath | null> {
  const tx = parseDhcpLog(dhcpLog);
  return Object.fromEntries(vms.filter((v) => v.role === 'target' && v.boot === 'pxe').map((v) => [v.name, bootPathFor(tx, v.mac)]));
}

export interface ExplainOptions {
  /** Firmware to explain for (default: the VM's; a MAC that is no lab VM: bios). */
  firmware?: Firmware;
  /** UEFI HTTP Boot instead of PXE (default: the VM's netboot). */
  http?: boolean;
  arch?: Arch;
}

/**
 * "What will this MAC get?" for a MAC, or a target's name or reserved hostname. A lab VM is the client its
 * firmware makes it (explain.ts clientFor: SeaBIOS → the NIC's iPXE ROM, OVMF → PXE or HTTP Boot); any other MAC a
 * plain BIOS PXE ROM or UEFI firmware. Errors: BadRequestError (not a MAC, name or hostname; --http without UEFI).
 */
export function explainTarget(who: string, o: ExplainOptions, lab: { vms: VmRecord[]; reservations: Reservation[]; serverIp: string }): Explanation {
  const asMac = macSchema.safeParse(who);
  const vm = lab.vms.find((v) => v.name === who || (asMac.success && v.mac === asMac.data));
  const res = lab.reservations.find((r) => (asMac.success && r.mac === asMac.data) || r.hostname === who || (vm && r.mac === vm.mac)) ?? null;
  const mac = asMac.success ? asMac.data : vm?.mac ?? res?.mac;
  if (!mac) throw new NotFoundError(`'${who}' is not a MAC, a VM or a reserved hostname: give a MAC (52:54:00:12:34:56) or a target's name`);
  const arch = o.arch ?? vm?.arch ?? 'x86_64';
  const fw = vm ? vmBootFirmware(vm) : { firmware: 'bios' as const, netboot: 'pxe' as const };
  const firmware = arch === 'aarch64' ? 'uefi' : o.firmware ?? fw.firmware;
  const netboot = o.http === undefined ? fw.netboot : o.http ? 'http' : 'pxe';
  if (netboot === 'http' && firmware !== 'uefi') throw new BadRequestError('http', 'UEFI HTTP Boot needs UEFI firmware: add --firmware uefi');
  // A lab VM's BIOS NIC has QEMU's iPXE ROM; a MAC that is no lab VM is explained as a plain BIOS PXE client.
  const client: BootClient = clientFor({ arch, firmware, netboot, romIsIpxe: !!vm });
  const x = explainBoot({ mac, client, serverIp: lab.serverIp, reservation: res });
  if (vm?.secureBoot && firmware === 'uefi' && arch === 'x86_64') {
    x.notes.push('Secure Boot is on: OVMF loads only signed NBPs; Debian\'s iPXE (snponly.efi, ipxe.efi) is unsigned and is refused ("Access Denied"), then the firmware tries its next entry');
  }
  return x;
}
