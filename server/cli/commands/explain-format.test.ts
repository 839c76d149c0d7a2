import { describe, expect, it } from 'vitest';
import { formatExplanation } from './pxe.ts';
import { explainBoot } from '../../lab/provisioner/explain.ts';

describe('pvmlab pxe explain (text)', () => {
  it('lists each DHCP exchange with its tags, options and boot file, then the script and the kernel line', () => {
    const x = explainBoot({ mac: '52:54:00:12:34:56', client: 'uefi-http', serverIp: '192.168.100.1',
      reservation: { mac: '52:54:00:12:34:56', ip: '192.168.100.22', hostname: 'http1', profile: { kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd.img', cmdline: 'console=ttyS0' } } });
    const text = formatExplanation(x).split('\n');
    expect(text[0]).toBe('52:54:00:12:34:56: UEFI HTTP Boot (OVMF), reserved 192.168.100.22 (http1), profile kernel');
    expect(text).toContain('1. DHCP from UEFI HTTP Boot (OVMF): option 93 = 16, vendor class (60) HTTPClient:Arch:00016:UNDI:003000, user class (77) -');
    expect(text).toContain('     option 60 (vendor-class) HTTPClient: UEFI HTTP Boot takes only offers that answer "HTTPClient"');
    expect(text).toContain('     boot file (67): http://192.168.100.1/nbp/snponly.efi over HTTP');
    expect(text).toContain('     boot file (67): http://192.168.100.1/boot.ipxe over HTTP');
    expect(text).toContain('iPXE script http://192.168.100.1/ipxe/52:54:00:12:34:56:');
    expect(text.at(-1)).toBe('kernel command line: vmlinuz initrd=initrd.img console=ttyS0');
  });
});
