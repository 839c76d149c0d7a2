// Creating a VM together with its DHCP reservation: the rule that makes "an IP a VM is given is an IP it gets"
// (README, Addresses), including adopting a reservation that already exists for the VM's MAC.
import type { LabHome } from '../home.ts';
import { ConflictError } from '../errors.ts';
import { addressPlan, freeIp, ipHolders } from '../addressing.ts';
import { listRecords } from '../store.ts';
import { vmCreateInput } from '../spec.ts';
import type { Reservation } from '../provisioner/pxe.ts';
import type { Provisioner } from '../provisioner/service.ts';
import type { Vms, VmView } from './lifecycle.ts';

/** A created VM, with what pvmlab did besides (e.g. adopted an existing reservation) for people to read. */
export type CreatedVm = VmView & { notes: string[] };

/**
 * Create a VM. Every target with an IP, and every PXE target, gets a DHCP reservation for its MAC (the next free
 * address outside the dynamic range when none is given). A MAC that already has a reservation adopts it — its IP
 * and boot profile stay, and the returned notes say so — unless a different IP is asked for: then CONFLICT naming
 * it. A reservation that cannot be made removes the VM again (nothing half-made stays).
 */
export async function createVm(d: { home: LabHome; vms: Vms; provisioner: Provisioner }, raw: unknown): Promise<CreatedVm> {
  const parsed = vmCreateInput.safeParse(raw);
  const notes: string[] = [];
  let adopt: Reservation | undefined;
  const m = parsed.success ? parsed.data.mac : undefined;
  // (a MAC another VM already has is refused by vms.create, naming that VM)
  if (m && parsed.success && !listRecords(d.home).some((r) => r.mac === m || r.uplinkMac === m)) {
    adopt = d.provisioner.reservations().find((r) => r.mac === m);
    const what = adopt && `a reservation (${adopt.ip}, hostname ${adopt.hostname}, profile ${adopt.profile.kind})`;
    if (adopt && parsed.data.role === 'provisioner') throw new ConflictError(`mac: ${m} has ${what}; the provisioner has a fixed address: remove the reservation first, or use another MAC`);
    if (adopt && parsed.data.ip && parsed.data.ip !== adopt.ip) throw new ConflictError(`mac: ${m} already has ${what}: leave out --ip to adopt it, or remove that reservation first`);
  }
  const vm = await d.vms.create(adopt ? { ...(raw as object), ip: adopt.ip } : raw, { adopting: !!adopt });
  if (vm.role === 'target' && (vm.boot === 'pxe' || vm.ip || adopt)) {
    try {
      if (adopt) {
        await d.provisioner.adoptReservation(adopt.mac, vm.name);
        notes.push(`adopted the existing reservation for ${adopt.mac}: ${adopt.ip}, profile ${adopt.profile.kind}${adopt.hostname !== vm.name ? `, hostname ${adopt.hostname} → ${vm.name}` : ''}`);
      } else {
        await d.provisioner.setReservation({ mac: vm.mac, ip: vm.ip ?? nextReservedIp(d), hostname: vm.name });
      }
    } catch (e) {
      await d.vms.clean(vm.name);
      throw e;
    }
  }
  return { ...d.vms.get(vm.name), notes };
}

/** The next address for a reservation: outside the dynamic range, held by no VM or reservation. Errors: ConflictError when none is left. */
function nextReservedIp(d: { home: LabHome; vms: Vms; provisioner: Provisioner }): string {
  const cfg = d.vms.config().network;
  const ip = freeIp(addressPlan(cfg), ipHolders(listRecords(d.home), d.provisioner.reservations()));
  if (!ip) throw new ConflictError(`ip: no free address left for a reservation outside the dynamic range ${cfg.dhcpStart}–${cfg.dhcpEnd}`);
  return ip;
}
