import { describe, expect, it } from 'vitest';
import {
  accelFromArgv, candidates, probeArch, resolveAccel,
  type AttemptOutcome, type Candidate, type GuestArch, type HostFacts,
} from './choose.ts';

const linux = (kvm: Partial<HostFacts['kvm']> = {}): HostFacts => ({
  os: 'linux', hostArch: 'x64', kvm: { device: true, writable: true, modules: ['kvm', 'kvm_intel'], ...kvm },
});
const mac: HostFacts = { os: 'darwin', hostArch: 'arm64', kvm: { device: false, writable: false, modules: [] } };
const outcome = (o: Partial<AttemptOutcome>): AttemptOutcome => ({
  proof: 'kernel', reached: false, exitCode: null, stderr: '', serialTail: '', ms: 100, deadlineMs: 15_000, ...o,
});

/** The whole choice for one arch, through the probe's own loop, with each attempt's outcome given. */
const choose = (facts: HostFacts, arch: GuestArch, outcomes: (c: Candidate) => AttemptOutcome) => probeArch(facts, arch, outcomes);
const runs = () => outcome({ reached: true, ms: 600 });

describe('the accelerator choice', () => {
  it('kvm that boots a kernel wins, with -cpu host', async () => {
    const r = await choose(linux(), 'x86_64', runs);
    expect(r.chosen).toEqual({ accel: 'kvm', cpu: 'host' });
    expect(r.reason).toBe('a Linux kernel booted under it');
    expect(r.tried).toHaveLength(1);
  });

  it('/dev/kvm missing: tcg, saying so and what to do', async () => {
    const r = await choose(linux({ device: false, writable: false, modules: [] }), 'x86_64', runs);
    expect(r.chosen).toEqual({ accel: 'tcg', cpu: 'max' });
    expect(r.tried[0]).toMatchObject({ accel: 'kvm', proof: 'screened', symptom: '/dev/kvm does not exist' });
    expect(r.tried[0].advice).toMatch(/enable virtualisation in the firmware.*nested virtualisation/);
    const hidden = await choose(linux({ device: false, writable: false, modules: ['kvm', 'kvm_amd'] }), 'x86_64', runs);
    expect(hidden.tried[0].advice).toBe('KVM is loaded (kvm_amd) but /dev/kvm is missing: in a container or sandbox, pass the device through (e.g. --device /dev/kvm)');
    expect(r.reason).toMatch(/^a Linux kernel booted under it \(not kvm: no KVM on this host: enable virtualisation in the firmware.*\) — QEMU emulates the CPU.*slower/);
  });

  it('/dev/kvm not writable: tcg, with the kvm group advice', async () => {
    const r = await choose(linux({ writable: false }), 'x86_64', runs);
    expect(r.chosen?.accel).toBe('tcg');
    expect(r.tried[0]).toMatchObject({ symptom: '/dev/kvm is not writable by this user', advice: expect.stringMatching(/usermod -aG kvm/) });
  });

  it('QEMU aborts on MSR 0x10a under -cpu host: the next CPU model is tried and wins', async () => {
    const r = await choose(linux(), 'x86_64', (c) => c.cpu === 'host'
      ? outcome({ exitCode: 134, stderr: 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs\' failed.\n' })
      : runs());
    expect(r.chosen).toEqual({ accel: 'kvm', cpu: 'host,-arch-capabilities' });
    expect(r.tried[0].symptom).toMatch(/^QEMU exited \(134\) at once: .*kvm_buf_set_msrs/);
    expect(r.tried[0].advice).toMatch(/nested or older KVM/);
  });

  it('a guest silent past the deadline rejects kvm: tcg wins, naming the hang and the last console line', async () => {
    const r = await choose(linux(), 'x86_64', (c) => c.accel === 'kvm'
      ? outcome({ serialTail: 'SeaBIOS (version 1.16.2)\nBooting from ROM...\nProbing EDD (edd=off to disable)... ok\n', ms: 15_000 })
      : runs());
    expect(r.chosen?.accel).toBe('tcg');
    expect(r.tried.map((t) => `${t.accel}:${t.ok}`)).toEqual(['kvm:false', 'kvm:false', 'tcg:true']);
    expect(r.tried.map((t) => t.cpu)).toEqual(['host', 'host,-arch-capabilities', 'max']);
    expect(r.tried[0].symptom).toBe('the guest kernel did not get past early boot within 15 s (last console line: "Probing EDD (edd=off to disable)... ok")');
    expect(r.tried[0].advice).toMatch(/starts guests but they do not run/);
  });

  it('kvm_pvm loaded: screened without running QEMU, with the reason users see', async () => {
    const r = await choose(linux({ modules: ['kvm', 'kvm_pvm'] }), 'x86_64', (c) => {
      if (c.accel !== 'tcg') throw new Error('kvm must not be tried under kvm_pvm');
      return runs();
    });
    expect(r.chosen).toEqual({ accel: 'tcg', cpu: 'max' });
    expect(r.tried[0]).toMatchObject({ proof: 'screened', symptom: expect.stringMatching(/kvm-pvm .*only PVM-enabled guests/) });
    expect(r.tried[0].advice).toMatch(/^this host's KVM runs only PVM guests: pvmlab uses TCG/);
  });

  it('macOS on Apple silicon: hvf for aarch64, tcg for x86_64 (never hvf for a foreign arch)', async () => {
    expect((await choose(mac, 'aarch64', runs)).chosen).toEqual({ accel: 'hvf', cpu: 'host' });
    const x = await choose(mac, 'x86_64', runs);
    expect(x.chosen).toEqual({ accel: 'tcg', cpu: 'max' });
    expect(x.tried).toHaveLength(1);
  });

  it('hvf without the entitlement: tcg, with the reinstall advice', async () => {
    const r = await choose(mac, 'aarch64', (c) => c.accel === 'hvf' ? outcome({ exitCode: 1, stderr: 'qemu-system-aarch64: -accel hvf: Error: HV_DENIED' }) : runs());
    expect(r.chosen).toEqual({ accel: 'tcg', cpu: 'max,pauth-impdef=on' });
    expect(r.tried[0].advice).toMatch(/entitlement/);
  });

  it('aarch64 guests on an x86 host: tcg only', async () => {
    expect(candidates('linux', 'x64', 'aarch64')).toEqual([{ accel: 'tcg', cpu: 'max,pauth-impdef=on' }]);
  });

  it('nothing runs: no choice, and the reason lists every rejection', async () => {
    const r = await choose(linux({ device: false }), 'x86_64', () => outcome({ exitCode: 1, stderr: 'qemu-system-x86_64: could not load PC BIOS' }));
    expect(r.chosen).toBeNull();
    expect(r.reason).toMatch(/^no accelerator ran a x86_64 guest: .*tcg \(max\): QEMU exited \(1\) at once: qemu-system-x86_64: could not load PC BIOS/);
  });
});

describe('overrides', () => {
  const pvm = () => choose(linux({ modules: ['kvm', 'kvm_pvm'] }), 'x86_64', runs);
  const host = { os: 'linux' as const, hostArch: 'x64' };

  it('auto (or nothing) takes the probe', async () => {
    const probe = await pvm();
    expect(resolveAccel(probe, host, {})).toMatchObject({ accel: 'tcg', cpu: 'max', source: 'probe' });
    expect(resolveAccel(probe, host, { env: 'auto', labConfig: { mode: 'auto' } })).toMatchObject({ accel: 'tcg', source: 'probe' });
  });

  it('the most specific wins: VM > PVMLAB_ACCEL > lab config; a forced accelerator says the probe rejected it', async () => {
    const probe = await pvm();
    const r = resolveAccel(probe, host, { vm: 'kvm', env: 'tcg', labConfig: { mode: 'tcg' } });
    expect(r).toMatchObject({ accel: 'kvm', cpu: 'host', source: 'vm' });
    expect(r.reason).toMatch(/^set by this VM's accelerator setting \(the probe rejected it: .*kvm-pvm/);
    expect(resolveAccel(probe, host, { env: 'kvm', labConfig: { mode: 'tcg' } })).toMatchObject({ accel: 'kvm', source: 'env' });
    expect(resolveAccel(probe, host, { labConfig: { mode: 'kvm', cpu: 'host,-arch-capabilities' } })).toMatchObject({ accel: 'kvm', cpu: 'host,-arch-capabilities', source: 'lab-config' });
  });

  it('refuses what this host cannot have, naming the setting and the fix', async () => {
    const probe = await pvm();
    // This host's KVM was rejected by the probe (kvm_pvm): it is not offered as the way out.
    expect(() => resolveAccel(probe, host, { env: 'hvf' })).toThrow('PVMLAB_ACCEL asks for hvf, which exists only on macOS: use tcg or auto');
    const kvmOk = await choose(linux(), 'x86_64', runs);
    expect(() => resolveAccel(kvmOk, host, { env: 'hvf' })).toThrow('PVMLAB_ACCEL asks for hvf, which exists only on macOS: use kvm, tcg or auto');
    expect(() => resolveAccel(probe, host, { env: 'fast' })).toThrow('PVMLAB_ACCEL=fast: use auto, kvm, hvf or tcg');
    const arm = await choose(linux(), 'aarch64', runs);
    expect(() => resolveAccel(arm, host, { vm: 'kvm' })).toThrow(/aarch64 guests are not native on this host: use tcg or auto/);
  });

  it('reads the accelerator of a running QEMU from its argv', async () => {
    expect(accelFromArgv(['qemu-system-x86_64', '-M', 'q35', '-accel', 'tcg', '-cpu', 'max'])).toEqual({ accel: 'tcg', cpu: 'max' });
    expect(accelFromArgv(['qemu-system-x86_64', '-M', 'q35'])).toBeNull();
  });
});
