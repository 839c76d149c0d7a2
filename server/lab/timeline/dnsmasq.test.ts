import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dhcpClient, dhcpRounds, parseDnsmasqLog } from './dnsmasq.ts';

const fixture = (f: string) => fs.readFileSync(path.join(import.meta.dirname, 'testdata', f), 'utf8');

describe('parseDnsmasqLog (lines captured from the stack: dnsmasq 2.90, log-dhcp, stamp-log.sh times)', () => {
  it('reads one BIOS iPXE target\'s DHCP exchanges with their xid, classes, tags and boot file', () => {
    const { dhcp, tftp } = parseDnsmasqLog(fixture('bios-ipxe-rom.dnsmasq.log'));
    expect(tftp).toEqual([]);
    expect(dhcp.map((m) => `${m.type} ${m.ip ?? '-'} ${m.xid}`)).toEqual([
      'DISCOVER - 3358749470', 'OFFER 192.168.100.2 3358749470', 'REQUEST 192.168.100.2 3358749470', 'ACK 192.168.100.2 3358749470',
      'DISCOVER - 1555152164', 'OFFER 192.168.100.2 1555152164', 'REQUEST 192.168.100.2 1555152164', 'ACK 192.168.100.2 1555152164',
    ]);
    expect(dhcp[0]).toEqual({ at: 1795972903354, xid: '3358749470', type: 'DISCOVER', iface: 'priv0', mac: '52:54:00:d0:86:b6', ip: null, note: null,
      vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClass: 'iPXE', tags: ['lab', 'known', 'ipxe', 'bios', 'priv0'], bootfile: null });
    expect(dhcp[3]).toMatchObject({ note: 'target1', bootfile: 'http://192.168.100.1/boot.ipxe', userClass: 'iPXE' });
    expect(dhcp[4]).toMatchObject({ vendorClass: 'udhcp 1.35.0', userClass: null, bootfile: null });
  });

  it('groups exchanges into rounds and names the client', () => {
    const rounds = dhcpRounds(parseDnsmasqLog(fixture('bios-ipxe-rom.dnsmasq.log')).dhcp);
    expect(rounds.map((r) => [r.client, r.ip, r.acked, r.end! - r.start])).toEqual([['iPXE', '192.168.100.2', true, 292], ['OS', '192.168.100.2', true, 282]]);
  });

  it('reads TFTP transfers and refusals (real lines: a curl tftp:// fetch inside the stack)', () => {
    const { tftp } = parseDnsmasqLog(fixture('kernel-404.dnsmasq.log'));
    expect(tftp).toEqual([
      { at: 1795973387732, file: '/pxe/tftp/undionly.kpxe', ip: '192.168.100.1', ok: true, error: null },
      { at: 1795973388491, file: '/pxe/tftp/no-such-file', ip: '192.168.100.1', ok: false, error: 'not found' },
    ]);
  });

  it('skips what is not a DHCP or TFTP line', () => {
    expect(parseDnsmasqLog('garbage\n1795972848.519962 dnsmasq[43]: started, version 2.90 cachesize 150\n72903.3 partial')).toEqual({ dhcp: [], tftp: [] });
  });

  it.each([
    ['iPXE', 'PXEClient:Arch:00000:UNDI:002001', 'iPXE'],
    [null, 'PXEClient:Arch:00000:UNDI:002001', 'BIOS PXE'],
    [null, 'PXEClient:Arch:00007:UNDI:003016', 'UEFI PXE'],
    [null, 'PXEClient:Arch:00011:UNDI:003000', 'arm64 UEFI PXE'],
    [null, 'HTTPClient:Arch:00016:UNDI:003001', 'UEFI HTTP Boot'],
    [null, 'udhcp 1.35.0', 'OS'],
  ])('dhcpClient(%s, %s) = %s', (u, v, want) => expect(dhcpClient(u, v)).toBe(want));
});
