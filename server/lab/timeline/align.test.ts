import { describe, expect, it } from 'vitest';
import { alignOffset, consoleAnchors } from './align.ts';
import type { Milestone } from './console.ts';
import type { DhcpMessage } from './dnsmasq.ts';

const msg = (type: string, at: number, userClass: string | null, xid: string): DhcpMessage => ({ at, xid, type, iface: 'priv0', mac: 'm', ip: null, note: null, vendorClass: null, userClass, tags: [], bootfile: null });
const line = (kind: Milestone['kind'], after: number, at: number, text: string, extra: Partial<Milestone> = {}): Milestone => ({ kind, after, at, offset: 0, text, ...extra });

describe('clock alignment from iPXE console lines', () => {
  // provisioner clock = host − 5000 ms; the firmware's own DHCP (UEFI PXE) comes first and has no iPXE console line
  const dhcp = [msg('DISCOVER', 1000 - 5000, null, 'a'), msg('ACK', 1100 - 5000, null, 'a'), msg('DISCOVER', 3050 - 5000, 'iPXE', 'b'), msg('ACK', 3150 - 5000, 'iPXE', 'b')];
  const http = [{ start: 3300 - 5000, end: 3310 - 5000, ip: 'x', method: 'GET', uri: '/boot.ipxe', status: 200, bytes: 1, length: 1, complete: true, userAgent: 'iPXE' }];
  const ms = [line('ipxe-net', 3000, 3200, 'Configuring (net0 52:54:00:aa:bb:cc)... ok'), line('ipxe-fetch', 3250, 3320, 'http://192.168.100.1/boot.ipxe... ok', { url: 'http://192.168.100.1/boot.ipxe', ok: true })];

  it('pairs "Configuring … ok" with iPXE\'s DHCP exchange and each fetch line with its request', () => {
    expect(consoleAnchors(ms, dhcp, http)).toEqual([
      { provStart: -1950, provEnd: -1850, consoleAfter: 3000, consoleAt: 3200 },
      { provStart: -1700, provEnd: -1690, consoleAfter: 3250, consoleAt: 3320 },
    ]);
  });

  it('keeps a measured offset inside the window the anchors leave; moves a drifted one to its nearest edge', () => {
    const a = consoleAnchors(ms, dhcp, http);
    // window: offset ≥ max(−1850−3200, −1690−3320) = −5010; offset < min(−1950−3000, −1700−3250) = −4950
    expect(alignOffset({ offsetMs: -5000, uncertaintyMs: 20 }, a)).toEqual({ offsetMs: -5000, uncertaintyMs: 20, corrected: false, anchors: 2 });
    expect(alignOffset({ offsetMs: -6500, uncertaintyMs: 20 }, a)).toEqual({ offsetMs: -5010, uncertaintyMs: 30, corrected: true, anchors: 2 });
    expect(alignOffset({ offsetMs: -3000, uncertaintyMs: 20 }, a)).toEqual({ offsetMs: -4950, uncertaintyMs: 30, corrected: true, anchors: 2 });
    expect(alignOffset({ offsetMs: -6500, uncertaintyMs: 20 }, [])).toEqual({ offsetMs: -6500, uncertaintyMs: 20, corrected: false, anchors: 0 });
  });

  it('a repeated boot (same MAC, same URIs, 30 s earlier) does not steal the pairing: the nearest event under the measured offset wins', () => {
    const earlier = (d: DhcpMessage) => ({ ...d, at: d.at - 30_000, xid: `${d.xid}0` });
    const h0 = { ...http[0], start: http[0].start - 30_000, end: http[0].end - 30_000 };
    const a = consoleAnchors(ms, [...dhcp.map(earlier), ...dhcp], [h0, ...http], -5300);
    expect(a.map((x) => x.provEnd)).toEqual([-1850, -1690]);
    expect(alignOffset({ offsetMs: -5300, uncertaintyMs: 20 }, a)).toMatchObject({ offsetMs: -5010, corrected: true });
  });
});
