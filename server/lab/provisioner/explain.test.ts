import { describe, expect, it } from 'vitest';
import { clientFor, explainBoot } from './explain.ts';
import type { Reservation } from './pxe.ts';

const mac = '52:54:00:12:34:56';
const res: Reservation = { mac, ip: '192.168.100.20', hostname: 'pxe1',
  profile: { kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd.img', cmdline: 'console=ttyS0 pvmlab.x="a b"' } };
const server = '192.168.100.1';

describe('explainBoot', () => {
  it('which client a lab VM is', () => {
    expect(clientFor({ arch: 'x86_64', firmware: 'bios', netboot: 'pxe' })).toBe('ipxe-rom');
    expect(clientFor({ arch: 'x86_64', firmware: 'bios', netboot: 'pxe', romIsIpxe: false })).toBe('bios-pxe');
    expect(clientFor({ arch: 'x86_64', firmware: 'uefi', netboot: 'pxe' })).toBe('uefi-pxe');
    expect(clientFor({ arch: 'x86_64', firmware: 'uefi', netboot: 'http' })).toBe('uefi-http');
    expect(clientFor({ arch: 'aarch64', firmware: 'uefi', netboot: 'pxe' })).toBe('arm64-uefi-pxe');
  });

  it('UEFI HTTP Boot: HTTPClient offer with the NBP as a URL, then iPXE gets boot.ipxe, the per-MAC script and the kernel line', () => {
    const x = explainBoot({ mac, client: 'uefi-http', serverIp: server, reservation: res });
    expect(x.steps.map((s) => [s.path, s.bootFile, s.transport, s.nextServer])).toEqual([
      ['uefi-http', 'http://192.168.100.1/nbp/snponly.efi', 'http', null],
      ['ipxe', 'http://192.168.100.1/boot.ipxe', 'http', null],
    ]);
    expect(x.steps[0].tags.map((t) => t.tag)).toEqual(['efi-x64-http', 'httpclient']);
    expect(x.steps[0].options).toEqual([expect.objectContaining({ code: 60, value: 'HTTPClient' })]);
    expect(x.steps[1].client).toBe('iPXE (snponly.efi, loaded over HTTP)');
    expect(x.steps[1].tags.map((t) => t.tag)).toEqual(['ipxe', 'ipxe', 'efi-x64']); // user class and option 175 both say iPXE
    expect(x.steps[1].options.map((o) => o.code)).toEqual([175]);
    expect(x.steps[0].ip).toBe('192.168.100.20 (reserved)');
    expect(x.script?.path).toBe('http://192.168.100.1/ipxe/52:54:00:12:34:56');
    expect(x.script?.text).toContain('kernel http://192.168.100.1/artifacts/vmlinuz initrd=initrd.img');
    expect(x.kernelCmdline).toBe('vmlinuz initrd=initrd.img console=ttyS0 pvmlab.x="a b"');
  });

  it('UEFI PXE: the NBP over TFTP from the server; ipxe.efi when the stack is set to it', () => {
    const x = explainBoot({ mac, client: 'uefi-pxe', serverIp: server, reservation: res, efiX64BootFile: 'ipxe.efi' });
    expect(x.steps.map((s) => [s.path, s.bootFile, s.transport, s.nextServer])).toEqual([
      ['uefi-pxe', 'ipxe.efi', 'tftp', '192.168.100.1'], ['ipxe', 'http://192.168.100.1/boot.ipxe', 'http', null]]);
    expect(x.steps[0].options).toEqual([]);
  });

  it('BIOS: QEMU\'s NIC ROM is iPXE already (one exchange); a plain BIOS PXE ROM gets undionly.kpxe first', () => {
    expect(explainBoot({ mac, client: 'ipxe-rom', serverIp: server, reservation: res }).steps.map((s) => s.path)).toEqual(['ipxe']);
    const x = explainBoot({ mac, client: 'bios-pxe', serverIp: server, reservation: null });
    expect(x.steps.map((s) => [s.path, s.bootFile])).toEqual([['bios-pxe', 'undionly.kpxe'], ['ipxe', 'http://192.168.100.1/boot.ipxe']]);
    expect(x.steps[1].sends.arch).toBe(0);
    expect(x.steps[0].ip).toMatch(/dynamic range/);
    expect(x.script?.text).toBeNull();
    expect(x.notes).toEqual([expect.stringContaining('chains /ipxe/default')]);
  });

  it('arm64: GRUB over TFTP and its per-MAC config; arm64 HTTP Boot gets no boot file and says why', () => {
    const x = explainBoot({ mac, client: 'arm64-uefi-pxe', serverIp: server, reservation: { ...res, profile: { ...res.profile, cmdline: 'console=ttyAMA0' } } as Reservation });
    expect(x.steps.map((s) => [s.path, s.bootFile])).toEqual([['arm64-uefi-pxe', 'grubnetaa64.efi']]);
    expect(x.script).toMatchObject({ loader: 'grub', path: 'tftp://192.168.100.1/grub/grub.cfg-01-52-54-00-12-34-56' });
    expect(x.script?.text).toContain('linux /artifacts/vmlinuz');
    expect(x.kernelCmdline).toBe('BOOT_IMAGE=/artifacts/vmlinuz console=ttyAMA0');
    const h = explainBoot({ mac, client: 'arm64-uefi-http', serverIp: server, reservation: res });
    expect(h.steps.map((s) => s.bootFile)).toEqual([null]);
    expect(h.notes[0]).toMatch(/no boot file/);
  });

  it('an exit profile boots nothing and says the firmware moves on to the disk', () => {
    const x = explainBoot({ mac, client: 'uefi-pxe', serverIp: server, reservation: { ...res, profile: { kind: 'exit' } } });
    expect(x.kernelCmdline).toBeNull();
    expect(x.script?.text).toContain('exit');
    expect(x.notes.join(' ')).toMatch(/next device/);
  });
});
