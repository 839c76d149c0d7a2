import { describe, expect, it } from 'vitest';
import { firmwareFindings, parseToolVersion, runDoctor } from './host.ts';

describe('parseToolVersion', () => {
  it.each([
    ['qemu-system-x86_64', 'QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)\nCopyright (c) 2003-2022 Fabrice Bellard', '7.2.19'],
    ['qemu-system-aarch64', 'QEMU emulator version 9.1.0\n', '9.1.0'],
    ['qemu-img', 'qemu-img version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)', '7.2.19'],
    ['ssh', 'OpenSSH_9.2p1 Debian-2+deb12u7, OpenSSL 3.0.17 1 Jul 2025', '9.2p1'],
    ['ssh-keygen', 'OpenSSH_9.8p1, LibreSSL 3.3.6', '9.8p1'],
    ['xorriso', 'xorriso 1.5.4 : RockRidge filesystem manipulator, libburnia project.', '1.5.4'],
    ['genisoimage', 'genisoimage 1.1.11 (Linux)', '1.1.11'],
    ['mkisofs', 'mkisofs 2.01 (i686-pc-linux-gnu)', '2.01'],
    ['socket_vmnet', 'socket_vmnet version v1.2.1', '1.2.1'],
  ])('%s', (tool, out, want) => {
    expect(parseToolVersion(tool, out)).toBe(want);
  });
  it('returns null for empty or versionless output', () => {
    expect(parseToolVersion('ssh', '')).toBeNull();
    expect(parseToolVersion('qemu-img', 'command not found')).toBeNull();
  });
});

describe('runDoctor on this machine', () => {
  it('finds the installed tools with versions and an accelerator the probe proved (or one it says why it took)', async () => {
    const r = await runDoctor();
    expect(r.os.platform).toBe('linux');
    const x = r.accelerators.x86_64;
    // Whatever this host has: the chosen one is the probe's first candidate that ran, every one before it says why not.
    const win = x.tried.findIndex((t) => t.ok);
    expect(win).toBeGreaterThanOrEqual(0);
    expect({ accel: x.accelerator, cpu: x.cpu }).toEqual({ accel: x.tried[win].accel, cpu: x.tried[win].cpu });
    for (const t of x.tried.slice(0, win)) expect(t.symptom && t.advice, `${t.accel} ${t.cpu}`).toBeTruthy();
    expect(r.accelerator).toEqual(x);
    const names = r.tools.map((t) => t.name);
    expect(names).toEqual(['qemu-system-x86_64', 'qemu-system-aarch64', 'qemu-img', 'iso tool', 'ssh', 'ssh-keygen']);
    for (const t of r.tools) {
      expect(t.found, `${t.name} should be installed by .ci/run`).toBe(true);
      expect(t.version).toMatch(/^\d/);
    }
    expect(r.firmware.every((f) => f.found)).toBe(true);
    expect(r.ok).toBe(true);
  });
});

describe('firmwareFindings', () => {
  it('reports OVMF as a code + vars pair, Secure Boot as optional', () => {
    const files = new Set(['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/seabios/bios-256k.bin']);
    const f = firmwareFindings((p) => files.has(p), 'linux');
    expect(f.find((x) => x.name === 'x86_64 UEFI')).toMatchObject({ found: true, path: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' });
    expect(f.find((x) => x.name === 'x86_64 UEFI Secure Boot')).toMatchObject({ found: false, optional: true, install: 'sudo apt-get install -y ovmf' });
    expect(f.find((x) => x.name === 'x86_64 BIOS')).toMatchObject({ found: true, path: '/usr/share/seabios/bios-256k.bin' });
  });
});
