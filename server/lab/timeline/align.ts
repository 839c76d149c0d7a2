// Aligning the provisioner's clock with the host's. The offset measured when the timeline is read (recorder.ts,
// a few `date` round trips) is exact to ± half a round trip *now*; a guest's clock under TCG drifts (seen here:
// 1.8 s in 4 minutes on a loaded host), so for a boot minutes ago the console gives better evidence. iPXE prints
// "Configuring (net0 …)" before its DHCP DISCOVER and "ok" after the ACK, "http://…/x..." before it asks nginx
// for x and "ok" after the last byte: each such pair bounds the offset (provisioner − host):
//   an event that ended before a console byte arrived (≤ that byte's time):   offset ≥ providerEnd − consoleAt
//   an event that began after a console byte had arrived (> its lower bound): offset < providerStart − consoleAfter
// The measured offset is used when it lies in the window these bounds leave; otherwise the nearest edge is.
import type { Milestone } from './console.ts';
import type { DhcpMessage } from './dnsmasq.ts';
import type { HttpFetch } from './nginx.ts';

/** One causal pair on both clocks: the provisioner saw [provStart, provEnd]; the console line bounds it on the host. */
export interface Anchor { provStart: number; provEnd: number; consoleAfter: number | null; consoleAt: number | null }

export interface Alignment { offsetMs: number; uncertaintyMs: number; corrected: boolean; anchors: number }

/**
 * Pairs of (iPXE console line, provisioner event) for one target (its MAC's DHCP, its IP's HTTP fetches). The same
 * boot repeated (a bench, a reboot loop) logs the same requests again: each line takes the matching event nearest to
 * it under the `guess` offset (provisioner − host, the measured one), never an event taken already. Pure.
 */
export function consoleAnchors(milestones: Milestone[], dhcp: DhcpMessage[], http: HttpFetch[], guess = 0): Anchor[] {
  const out: Anchor[] = [];
  const used = new Set<unknown>();
  const nearest = <T>(list: T[], at: (x: T) => number, hostAt: number | null): T | undefined =>
    hostAt === null ? undefined : list.filter((x) => !used.has(x)).sort((x, y) => Math.abs(at(x) - guess - hostAt) - Math.abs(at(y) - guess - hostAt))[0];
  // iPXE's own DHCP exchanges (user class iPXE): a UEFI firmware's PXE/HTTP Boot exchange before them has no line of iPXE's
  const ipxeAcks = dhcp.filter((d) => d.type === 'ACK' && d.userClass === 'iPXE');
  for (const m of milestones) {
    if (m.kind === 'ipxe-fetch' && m.ok && m.url && /^https?:/.test(m.url)) {
      const path = m.url.replace(/^https?:\/\/[^/]+/, '');
      const f = nearest(http.filter((h) => h.uri === path && h.status < 400), (h) => h.end, m.at);
      if (f) { used.add(f); out.push({ provStart: f.start, provEnd: f.end, consoleAfter: m.after, consoleAt: m.at }); }
    }
    if (m.kind === 'ipxe-net' && /\bok$/.test(m.text)) {
      const ack = nearest(ipxeAcks, (d) => d.at, m.at);
      const disc = ack && dhcp.filter((d) => d.type === 'DISCOVER' && d.xid === ack.xid && d.at <= ack.at).at(-1);
      if (ack && disc) { used.add(ack); out.push({ provStart: disc.at, provEnd: ack.at, consoleAfter: m.after, consoleAt: m.at }); }
    }
  }
  return out;
}

/** The offset to use for a boot, from the measured one and the boot's anchors. Pure. */
export function alignOffset(measured: { offsetMs: number; uncertaintyMs: number }, anchors: Anchor[]): Alignment {
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  for (const a of anchors) {
    if (a.consoleAt !== null) lo = Math.max(lo, a.provEnd - a.consoleAt);
    if (a.consoleAfter !== null) hi = Math.min(hi, a.provStart - a.consoleAfter);
  }
  const base = { anchors: anchors.length };
  // bounds that contradict each other: a pairing is wrong (or the stamps lag): trust the measurement
  if (lo > hi) return { ...base, ...measured, corrected: false };
  if (measured.offsetMs >= lo && measured.offsetMs <= hi) return { ...base, ...measured, corrected: false };
  const edge = measured.offsetMs < lo ? lo : hi;
  const width = Number.isFinite(lo) && Number.isFinite(hi) ? Math.ceil((hi - lo) / 2) : measured.uncertaintyMs;
  return { ...base, offsetMs: Math.round(edge), uncertaintyMs: width, corrected: true };
}
