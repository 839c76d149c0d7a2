// The lab's address plan: the ONE validator for every path that gives a machine a private IPv4 address
// (API pxe.reservations.set, API/CLI/panel vm create --ip, the lab config / a future lab.yaml), the next
// free address, and the ONE answer to "what is this VM's private IP?". Pure (the panel imports it too).
//
// The rule (README "Addresses"): a target given an IP gets it through a DHCP reservation for its MAC —
// every target with an IP has one, whatever its boot mode — so the reservation is the truth for a target;
// a target without one has whatever its current DHCP lease says. The provisioner's address is the plan's.
import { cidrInfo, intToIp, ipToInt, ipv4 } from './spec.ts';

export interface AddressPlan {
  /** CIDR of the private network, e.g. 192.168.100.0/24. */
  subnet: string;
  provisionerIp: string;
  /** dnsmasq's dynamic range (inclusive). */
  dhcpStart: string;
  dhcpEnd: string;
  /** Addresses taken by something that is not a VM, with what takes them (e.g. socket_vmnet's host side). */
  taken?: { ip: string; what: string }[];
}

/** Something that holds an address: a VM record or a reservation. `what` names it for people. */
export interface IpHolder { ip: string; mac: string; what: string }

export interface IpProblem { code: 'BAD_REQUEST' | 'CONFLICT'; message: string }

export interface IpRequest {
  role: 'provisioner' | 'target';
  /** The MAC the address is for (holders with this MAC are the same machine), if known. */
  mac?: string | null;
  holders: IpHolder[];
  /** Skip the dynamic-range rule: an existing reservation is being adopted (dnsmasq never leases a reserved address). */
  adopting?: boolean;
}

/** The first and last host addresses of the subnet (ints). */
export function hostRange(subnet: string): { first: number; last: number } {
  const { network, broadcast } = cidrInfo(subnet);
  return { first: network + 1, last: broadcast - 1 };
}

/** Addresses outside the dynamic range that a reservation can use, for messages: "192.168.100.2–.99, .201–.254". */
function suggestion(plan: AddressPlan): string {
  const range = hostRange(plan.subnet);
  const p = ipToInt(plan.provisionerIp);
  const first = range.first === p ? p + 1 : range.first;
  const last = range.last === p ? p - 1 : range.last;
  const s = ipToInt(plan.dhcpStart), e = ipToInt(plan.dhcpEnd);
  const parts: string[] = [];
  if (s - 1 >= first) parts.push(`${intToIp(first)}–${intToIp(s - 1)}`);
  if (e + 1 <= last) parts.push(`${intToIp(e + 1)}–${intToIp(last)}`);
  return parts.join(' or ') || 'none left';
}

/**
 * Why `ip` cannot be given to the machine described by `req`, or null when it can.
 * BAD_REQUEST: not a host address of the subnet, the network/broadcast/provisioner address, taken by the
 * host, inside the dynamic range. CONFLICT: held by another VM record or another MAC's reservation.
 */
export function ipProblem(plan: AddressPlan, ip: string, req: IpRequest): IpProblem | null {
  const bad = (message: string): IpProblem => ({ code: 'BAD_REQUEST', message });
  const parsed = ipv4.safeParse(ip);
  if (!parsed.success) return bad(`${JSON.stringify(ip)}: ${parsed.error.issues[0].message}`);
  const n = ipToInt(ip);
  const { network, broadcast } = cidrInfo(plan.subnet);
  if (n === network) return bad(`${ip} is the network address of ${plan.subnet}, not a host address`);
  if (n === broadcast) return bad(`${ip} is the broadcast address of ${plan.subnet}, not a host address`);
  if (n < network || n > broadcast) return bad(`${ip} is outside the private network ${plan.subnet}: use one of ${suggestion(plan)}`);
  if (req.role === 'provisioner') {
    if (ip !== plan.provisionerIp) return bad(`the provisioner's address is the lab's (${plan.provisionerIp}, configs/lab.json): leave it out or use that one`);
  } else {
    if (ip === plan.provisionerIp) return bad(`${ip} is the provisioner's address`);
    const taken = plan.taken?.find((t) => t.ip === ip);
    if (taken) return bad(`${ip} is ${taken.what}`);
    if (!req.adopting && n >= ipToInt(plan.dhcpStart) && n <= ipToInt(plan.dhcpEnd)) {
      return bad(`${ip} is inside the dynamic DHCP range ${plan.dhcpStart}–${plan.dhcpEnd} (dnsmasq may already have leased it to another machine): use one of ${suggestion(plan)}`);
    }
  }
  const mac = req.mac?.toLowerCase();
  const holder = req.holders.find((h) => h.ip === ip && h.mac.toLowerCase() !== mac);
  if (holder) return { code: 'CONFLICT', message: `${ip} is already held by ${holder.what}: choose another (pvmlab vm list and the PXE page show the ones in use)` };
  return null;
}

/** The lowest address a new target reservation can use (outside the dynamic range), or null when none is left. */
export function freeIp(plan: AddressPlan, holders: IpHolder[]): string | null {
  const { first, last } = hostRange(plan.subnet);
  for (let n = first; n <= last; n++) {
    const ip = intToIp(n);
    if (!ipProblem(plan, ip, { role: 'target', holders })) return ip;
  }
  return null;
}

/** What holds addresses in the lab: VM records with an IP, and reservations. */
export function ipHolders(vms: { name: string; mac: string; ip: string | null }[], reservations: { mac: string; ip: string; hostname: string }[]): IpHolder[] {
  return [
    ...vms.filter((v) => v.ip).map((v) => ({ ip: v.ip!, mac: v.mac, what: `VM '${v.name}'` })),
    ...reservations.map((r) => ({ ip: r.ip, mac: r.mac, what: `the reservation for ${r.mac} (${r.hostname})` })),
  ];
}

/** The facts the address of a VM is read from. leases: MAC → IP (empty when the provisioner is not running). */
export interface AddressFacts { reservations: { mac: string; ip: string }[]; leases: Map<string, string> }

/**
 * THE answer to "what is this VM's private IP?" — used by vm list, vm get (the VM page), the ssh command,
 * `vm shell`, the web terminal and configs/ssh_config. Provisioner: its record (the plan's address).
 * Target: its reservation, else its DHCP lease, else null. A target's record IP is never read here: it is
 * kept equal to its reservation, and without a reservation the guest does not get it.
 */
export function vmAddress(vm: { role: 'provisioner' | 'target'; mac: string; ip: string | null }, facts: AddressFacts): string | null {
  if (vm.role === 'provisioner') return vm.ip;
  const mac = vm.mac.toLowerCase();
  return facts.reservations.find((r) => r.mac.toLowerCase() === mac)?.ip ?? facts.leases.get(mac) ?? null;
}

/** The plan's own consistency (the lab config, a future lab.yaml): a list of problems, empty when fine. */
export function planProblems(plan: AddressPlan): string[] {
  const out: string[] = [];
  const { first, last } = hostRange(plan.subnet);
  for (const [k, v] of [['provisionerIp', plan.provisionerIp], ['dhcpStart', plan.dhcpStart], ['dhcpEnd', plan.dhcpEnd]] as const) {
    const n = ipToInt(v);
    if (n < first || n > last) out.push(`${k}: ${v} is not a host address of ${plan.subnet}`);
  }
  if (ipToInt(plan.dhcpStart) > ipToInt(plan.dhcpEnd)) out.push(`dhcpStart: ${plan.dhcpStart} is after dhcpEnd ${plan.dhcpEnd}`);
  const p = ipToInt(plan.provisionerIp);
  if (p >= ipToInt(plan.dhcpStart) && p <= ipToInt(plan.dhcpEnd)) out.push(`provisionerIp: ${plan.provisionerIp} is inside the dynamic range ${plan.dhcpStart}–${plan.dhcpEnd}`);
  return out;
}

/** The plan of a lab config. socket_vmnet's host side takes the last host address (see network/socket-vmnet/plan.ts). */
export function addressPlan(network: { backend: string; subnet: string; provisionerIp: string; dhcpStart: string; dhcpEnd: string }): AddressPlan {
  const taken = network.backend === 'socket_vmnet' ? [{ ip: socketVmnetHostIp(network.subnet), what: "the Mac's own address on the socket_vmnet network" }] : [];
  return { subnet: network.subnet, provisionerIp: network.provisionerIp, dhcpStart: network.dhcpStart, dhcpEnd: network.dhcpEnd, taken };
}

/** socket_vmnet's host-mode gateway: the last host address of the subnet, and the subnet's mask. */
export function socketVmnetHostIp(subnet: string): string { return intToIp(hostRange(subnet).last); }
export function subnetMask(subnet: string): string { return intToIp(cidrInfo(subnet).mask); }
