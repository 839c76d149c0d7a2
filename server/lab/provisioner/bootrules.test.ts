import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { answerFor, BOOT_RULES, renderBootRules, tagsFor } from './bootrules.ts';
import { CLIENTS } from './explain.ts';

const STACK_FILE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../pxeboot_stack/boot-rules.conf');

describe('boot rules table', () => {
  it('renders the dnsmasq lines the stack runs (exactly)', () => {
    expect(renderBootRules({ server: '192.168.100.1', efiX64: 'snponly.efi' }).split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      'dhcp-userclass=set:ipxe,iPXE',
      'dhcp-match=set:ipxe,175',
      'dhcp-match=set:bios,option:client-arch,0',
      'dhcp-match=set:efi-x64,option:client-arch,7',
      'dhcp-match=set:efi-x64,option:client-arch,9',
      'dhcp-match=set:efi-arm64,option:client-arch,11',
      'dhcp-match=set:efi-x64-http,option:client-arch,16',
      'dhcp-match=set:efi-arm64-http,option:client-arch,19',
      'dhcp-vendorclass=set:httpclient,HTTPClient',
      'dhcp-option-force=tag:ipxe,encap:175,176,1',
      'dhcp-option-force=tag:httpclient,tag:efi-x64-http,option:vendor-class,HTTPClient',
      'dhcp-boot=tag:ipxe,http://192.168.100.1/boot.ipxe',
      'dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe,,192.168.100.1',
      'dhcp-boot=tag:!ipxe,tag:efi-x64-http,tag:httpclient,http://192.168.100.1/nbp/snponly.efi',
      'dhcp-boot=tag:!ipxe,tag:efi-x64,snponly.efi,,192.168.100.1',
      'dhcp-boot=tag:!ipxe,tag:efi-arm64,grubnetaa64.efi,,192.168.100.1',
      '',
    ]);
  });

  it('pxeboot_stack/boot-rules.conf is the table rendered (regenerate: npx tsx server/lab/provisioner/bootrules-file.ts)', () => {
    expect(fs.readFileSync(STACK_FILE, 'utf8')).toBe(renderBootRules());
  });

  it('every client matches at most one boot rule, whatever order dnsmasq tries them in', () => {
    for (const [name, c] of Object.entries(CLIENTS)) {
      const { tags } = tagsFor(c.request);
      const hits = BOOT_RULES.filter((r) => r.tags.every((t) => (t.startsWith('!') ? !tags.includes(t.slice(1)) : tags.includes(t))));
      expect(hits.length, name).toBeLessThanOrEqual(1);
    }
  });

  it('each client gets its own path; iPXE always gets the script, never another NBP (no loops)', () => {
    const path = (n: keyof typeof CLIENTS) => answerFor(tagsFor(CLIENTS[n].request).tags).rule?.path ?? null;
    expect(path('ipxe-rom')).toBe('ipxe');
    expect(path('bios-pxe')).toBe('bios-pxe');
    expect(path('uefi-pxe')).toBe('uefi-pxe');
    expect(path('uefi-http')).toBe('uefi-http');
    expect(path('arm64-uefi-pxe')).toBe('arm64-uefi-pxe');
    expect(path('arm64-uefi-http')).toBeNull();
    // any request carrying iPXE's user class or option 175 is answered with the script, whatever its arch
    for (const arch of [0, 7, 9, 11, 16, 19, null]) {
      for (const ipxe of [{ userClass: 'iPXE', options: [] }, { userClass: null, options: [175] }]) {
        expect(answerFor(tagsFor({ arch, vendorClass: 'HTTPClient', ...ipxe }).tags).rule?.path).toBe('ipxe');
      }
    }
    // HTTP Boot: the offer must echo "HTTPClient" in option 60; PXE clients never get it
    expect(answerFor(tagsFor(CLIENTS['uefi-http'].request).tags).options.map((o) => [o.code, o.value])).toEqual([[60, 'HTTPClient']]);
    expect(answerFor(tagsFor(CLIENTS['uefi-pxe'].request).tags).options).toEqual([]);
  });
});
