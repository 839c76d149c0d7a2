import { describe, expect, it } from 'vitest';
import { chooseFirmware, findOvmf, firmwareFields, FirmwareError, vmBootFirmware } from './firmware.ts';
import { vmCreateInput } from './spec.ts';

const debian = new Set(['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', '/usr/share/OVMF/OVMF_VARS_4M.ms.fd']);
const has = (s: Set<string>) => (p: string) => s.has(p);

describe('firmware', () => {
  it('finds complete OVMF builds only (code with its own vars)', () => {
    expect(findOvmf(has(debian))).toEqual({
      plain: { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd', secureBoot: false },
      secure: { code: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd', secureBoot: true },
    });
    expect(findOvmf(has(new Set(['/usr/share/OVMF/OVMF_CODE_4M.fd'])))).toEqual({ plain: null, secure: null });
  });

  it('old records are bios/pxe; aarch64 is always uefi', () => {
    expect(vmBootFirmware({ arch: 'x86_64' })).toEqual({ firmware: 'bios', secureBoot: false, netboot: 'pxe' });
    expect(vmBootFirmware({ arch: 'aarch64', firmware: 'bios' })).toEqual({ firmware: 'uefi', secureBoot: false, netboot: 'pxe' });
    expect(firmwareFields({ arch: 'x86_64', firmware: 'uefi', boot: 'pxe', netboot: 'http' })).toEqual({ firmware: 'uefi', secureBoot: false, netboot: 'http' });
    expect(firmwareFields({ arch: 'aarch64', boot: 'disk' })).toEqual({ firmware: 'uefi', secureBoot: false, netboot: undefined });
  });

  it('chooses SeaBIOS, OVMF or the secure-boot OVMF, and says what to install when missing', () => {
    const found = findOvmf(has(debian));
    expect(chooseFirmware({ arch: 'x86_64' }, found)).toEqual({ kind: 'seabios' });
    expect(chooseFirmware({ arch: 'aarch64' }, found)).toEqual({ kind: 'aavmf' });
    expect(chooseFirmware({ arch: 'x86_64', firmware: 'uefi' }, found)).toMatchObject({ kind: 'ovmf', build: { secureBoot: false } });
    expect(chooseFirmware({ arch: 'x86_64', firmware: 'uefi', secureBoot: true }, found)).toMatchObject({ kind: 'ovmf', build: { secureBoot: true } });
    const noSecure = findOvmf(has(new Set(['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd'])));
    expect(() => chooseFirmware({ arch: 'x86_64', firmware: 'uefi', secureBoot: true }, noSecure)).toThrow(/secure-boot OVMF build.*without --secure-boot/);
    try { chooseFirmware({ arch: 'x86_64', firmware: 'uefi' }, { plain: null, secure: null }); } catch (e) {
      expect(e).toBeInstanceOf(FirmwareError);
      expect((e as FirmwareError).field).toBe('firmware');
      expect((e as Error).message).toMatch(/apt-get install -y ovmf/);
    }
  });

  it('the create input refuses combinations that cannot boot, naming the field', () => {
    const bad = (v: object) => { const r = vmCreateInput.safeParse({ name: 'a', boot: 'pxe', ...v }); return r.success ? null : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`); };
    expect(bad({ arch: 'x86_64', firmware: 'uefi', netboot: 'http' })).toBeNull();
    expect(bad({ arch: 'x86_64', firmware: 'uefi', secureBoot: true })).toBeNull();
    expect(bad({ arch: 'aarch64', firmware: 'bios' })).toEqual([expect.stringMatching(/^firmware: aarch64 VMs always boot UEFI/)]);
    expect(bad({ arch: 'x86_64', netboot: 'http' })).toEqual([expect.stringMatching(/^netboot: UEFI HTTP Boot needs UEFI firmware/)]);
    expect(bad({ arch: 'aarch64', netboot: 'http' })).toEqual([expect.stringMatching(/^netboot: .*x86_64 targets only/)]);
    expect(bad({ arch: 'x86_64', secureBoot: true })).toEqual([expect.stringMatching(/^secureBoot: Secure Boot needs an x86_64 VM with --firmware uefi/)]);
    expect(bad({ arch: 'x86_64', boot: 'disk', image: 'x', firmware: 'uefi', netboot: 'http' })).toEqual([expect.stringMatching(/^netboot: .*needs --boot pxe/)]);
  });
});
