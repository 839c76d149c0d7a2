// The lab file's `network:` against the lab's config (configs/lab.json). Pure: it may only change while
// the lab has no VM (their addresses, reservations and the dnsmasq config all derive from it).
import type { LabConfig } from '../config.ts';

export interface WantedNetwork { subnet: string; dhcpRange: [string, string] }

/** → the new config to write, nothing to do, or why not. */
export function planNetwork(cfg: LabConfig, want: WantedNetwork | null, vmCount: number): { write: LabConfig | null; conflict: string | null } {
  const n = cfg.network;
  if (!want || (want.subnet === n.subnet && want.dhcpRange[0] === n.dhcpStart && want.dhcpRange[1] === n.dhcpEnd)) return { write: null, conflict: null };
  if (vmCount > 0) {
    return { write: null, conflict: `network: the lab runs on ${n.subnet} (DHCP ${n.dhcpStart}–${n.dhcpEnd}) and has VMs; the lab file says ${want.subnet} (DHCP ${want.dhcpRange.join('–')}): `
      + 'change the file back, or empty the lab first (pvmlab clean) to move it' };
  }
  const base = want.subnet.split('/')[0].split('.').slice(0, 3).join('.');
  return { write: { ...cfg, network: { ...n, subnet: want.subnet, provisionerIp: `${base}.1`, dhcpStart: want.dhcpRange[0], dhcpEnd: want.dhcpRange[1] } }, conflict: null };
}
