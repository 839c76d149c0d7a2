import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootPathFor, parseDhcpLog } from './bootpath.ts';

// Real dnsmasq log-dhcp lines (dnsmasq 2.90, --log-facility=-, the stack's boot rules) of three QEMU targets:
// SeaBIOS + the NIC's iPXE ROM (52:54:00:77:00:20), OVMF PXE (…:07) and OVMF HTTP Boot (…:12).
const LOG = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'testdata/dnsmasq-boots.log'), 'utf8');

describe('boot path from dnsmasq\'s log', () => {
  it('parses transactions: who asked, what it was told', () => {
    const t = parseDhcpLog(LOG);
    const http = t.filter((x) => x.mac === '52:54:00:77:00:12');
    expect(http.map((x) => [x.kind, x.arch, x.bootFile])).toEqual([
      ['firmware', 16, 'http://192.168.77.1/nbp/snponly.efi'],
      ['ipxe', 7, 'http://192.168.77.1/boot.ipxe'],
    ]);
    expect(http[0]).toMatchObject({ vendorClass: 'HTTPClient:Arch:00016:UNDI:003000', messages: ['DHCPDISCOVER', 'DHCPOFFER', 'DHCPREQUEST', 'DHCPACK'], ip: '192.168.77.115', at: 'Nov 29 17:13:48' });
    expect(http[1].tags).toEqual(['lab', 'ipxe', 'efi-x64', 'eth1']);
  });

  it('UEFI HTTP Boot: the NBP as an http:// URL', () => {
    expect(bootPathFor(LOG, '52:54:00:77:00:12')).toEqual({ path: 'uefi-http', label: 'UEFI HTTP Boot', at: 'Nov 29 17:13:48', transport: 'http',
      bootFile: 'http://192.168.77.1/nbp/snponly.efi', ipxeBootFile: 'http://192.168.77.1/boot.ipxe', vendorClass: 'HTTPClient:Arch:00016:UNDI:003000', arch: 16 });
  });

  it('UEFI PXE: the NBP over TFTP', () => {
    expect(bootPathFor(LOG, '52:54:00:77:00:07')).toMatchObject({ path: 'uefi-pxe', label: 'UEFI PXE', transport: 'tftp', bootFile: 'snponly.efi', ipxeBootFile: 'http://192.168.77.1/boot.ipxe', arch: 7 });
  });

  it('SeaBIOS: iPXE in the NIC ROM asks first, straight for the script', () => {
    expect(bootPathFor(LOG, '52:54:00:77:00:20')).toMatchObject({ path: 'ipxe', label: 'iPXE in the NIC ROM', transport: 'http', bootFile: 'http://192.168.77.1/boot.ipxe', ipxeBootFile: null, arch: 0 });
  });

  it('unknown MAC: null; the booted OS\'s own DHCP is not a boot path; docker --timestamps prefixes and a reused xid are fine', () => {
    expect(bootPathFor(LOG, '52:54:00:00:00:99')).toBeNull();
    const os = [
      '2026-11-29T17:20:01.000000001Z dnsmasq-dhcp[7]: 42 vendor class: PXEClient:Arch:00007:UNDI:003000',
      '2026-11-29T17:20:01.000000002Z dnsmasq-dhcp[7]: 42 DHCPDISCOVER(eth1) 52:54:00:aa:00:01 ',
      '2026-11-29T17:20:01.000000003Z dnsmasq-dhcp[7]: 42 DHCPOFFER(eth1) 192.168.100.20 52:54:00:aa:00:01 ',
      '2026-11-29T17:20:01.000000004Z dnsmasq-dhcp[7]: 42 bootfile name: snponly.efi',
      '2026-11-29T17:20:01.000000005Z dnsmasq-dhcp[7]: 42 DHCPREQUEST(eth1) 192.168.100.20 52:54:00:aa:00:01 ',
      '2026-11-29T17:20:01.000000006Z dnsmasq-dhcp[7]: 42 DHCPACK(eth1) 192.168.100.20 52:54:00:aa:00:01 pxe1',
      '2026-11-29T17:20:09.000000000Z dnsmasq-dhcp[7]: 77 vendor class: udhcp 1.35.0',
      '2026-11-29T17:20:09.000000000Z dnsmasq-dhcp[7]: 77 DHCPDISCOVER(eth1) 52:54:00:aa:00:01 ',
      '2026-11-29T17:20:30.000000000Z dnsmasq-dhcp[7]: 42 vendor class: HTTPClient:Arch:00016:UNDI:003000',
      '2026-11-29T17:20:30.000000000Z dnsmasq-dhcp[7]: 42 DHCPDISCOVER(eth1) 52:54:00:aa:00:01 ',
      '2026-11-29T17:20:30.000000000Z dnsmasq-dhcp[7]: 42 sent size: 36 option: 67 bootfile-name  http://192.168.100.1/nbp/snponly.efi',
      'nginx: 192.168.100.20 "GET /boot.ipxe HTTP/1.1" 200',
    ].join('\n');
    const t = parseDhcpLog(os);
    expect(t.map((x) => [x.xid, x.kind])).toEqual([['42', 'firmware'], ['77', 'other'], ['42', 'firmware']]);
    expect(bootPathFor(t, '52:54:00:AA:00:01')).toMatchObject({ path: 'uefi-http', at: '2026-11-29T17:20:30.000000000Z', bootFile: 'http://192.168.100.1/nbp/snponly.efi', ipxeBootFile: null });
    expect(bootPathFor(os.split('\n').slice(0, 8).join('\n'), '52:54:00:aa:00:01')).toMatchObject({ path: 'uefi-pxe', transport: 'tftp', bootFile: 'snponly.efi' });
    const epoch = '1795972903.447264 dnsmasq-dhcp[43]: 9 vendor class: PXEClient:Arch:00007:UNDI:003000\n1795972903.5 dnsmasq-dhcp[43]: 9 DHCPDISCOVER(eth1) 52:54:00:aa:00:01 ';
    expect(bootPathFor(epoch, '52:54:00:aa:00:01')).toMatchObject({ path: 'uefi-pxe', at: new Date(1795972903447.264).toISOString() });
  });
});
