// Integration: real QEMU (TCG) booting the tiny Debian-built guests. Nothing here is mocked.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../lab.ts';
import { LabHome } from '../home.ts';
import { ConflictError } from '../store.ts';
import { tempLab, testGuest, until, waitForLog, type TestGuest } from '../testing/guests.ts';

let x86: TestGuest;
let arm: TestGuest;
let env: Awaited<ReturnType<typeof tempLab>>;
let lab: Lab;

beforeAll(async () => {
  [x86, arm] = await Promise.all([testGuest('x86_64'), testGuest('aarch64')]);
  env = await tempLab();
  lab = env.lab;
  lab.watch();
}, 900_000);
afterAll(async () => { await env?.dispose(); });

function kernelVm(name: string, g: TestGuest, arch: 'x86_64' | 'aarch64', extra = '') {
  return { name, arch, boot: 'kernel', kernel: g.kernel, initrd: g.initrd, memory: '256M', sshUser: 'root',
    append: `console=${g.console} pvmlab.hostname=${name} ${extra}`.trim() };
}

/** Every file under the home, minus the key pair and the lab config. */
function labFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.filter((f) => !f.startsWith('ssh/') && f !== 'configs/lab.json').sort();
}

describe.each([['x86_64'], ['aarch64']] as const)('%s guest lifecycle', (arch) => {
  it('create → start → marker → running → graceful stop → clean leaves nothing', async () => {
    const g = arch === 'x86_64' ? x86 : arm;
    const name = `life-${arch === 'x86_64' ? 'x' : 'a'}`;
    const before = labFiles(env.root);
    const created = await lab.vms.create(kernelVm(name, g, arch));
    expect(created).toMatchObject({ name, role: 'target', arch, boot: 'kernel', status: 'stopped' });
    expect(created.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    await lab.vms.start(name);
    await waitForLog(lab, name, new RegExp(`PVMLAB-GUEST-READY hostname=${name} arch=${arch}`));
    expect(await lab.vms.queryStatus(name)).toBe('running');
    expect(lab.vms.get(name).status).toBe('running');
    const { step, vm } = await lab.vms.stop(name);
    expect(step).toBe('powerdown');
    expect(vm.status).toBe('stopped');
    expect(lab.consoleLog(name, 0, 1 << 20).data).toContain('PVMLAB-POWEROFF');
    await lab.vms.clean(name);
    expect(labFiles(env.root)).toEqual(before);
  }, 180_000);
});

describe('the userspace L2', () => {
  it('two guests reach each other by IP, and a third joins the same segment', async () => {
    await lab.vms.create({ ...kernelVm('net-a', x86, 'x86_64', 'pvmlab.ip=192.168.100.11/24'), ip: '192.168.100.11' });
    await lab.vms.create({ ...kernelVm('net-b', x86, 'x86_64', 'pvmlab.ip=192.168.100.12/24 pvmlab.ping=192.168.100.11'), ip: '192.168.100.12' });
    await lab.vms.start('net-a');
    await waitForLog(lab, 'net-a', /PVMLAB-GUEST-READY/);
    await lab.vms.start('net-b');
    await waitForLog(lab, 'net-b', /PVMLAB-PING 192\.168\.100\.11 ok/);
    await lab.vms.create({ ...kernelVm('net-c', arm, 'aarch64', 'pvmlab.ip=192.168.100.13/24 pvmlab.ping=192.168.100.12'), ip: '192.168.100.13' });
    await lab.vms.start('net-c');
    await waitForLog(lab, 'net-c', /PVMLAB-PING 192\.168\.100\.12 ok/);
    for (const n of ['net-a', 'net-b', 'net-c']) await lab.vms.clean(n);
  }, 240_000);
});

describe('crashes, adoption and conflicts', () => {
  it('kill -9 of QEMU shows crashed within a second, pushed; start again works', async () => {
    await lab.vms.create(kernelVm('crashy', x86, 'x86_64'));
    const vm = await lab.vms.start('crashy');
    await waitForLog(lab, 'crashy', /PVMLAB-GUEST-READY/);
    const events: { status: string; at: number }[] = [];
    const off = lab.bus.on('vm', (e) => { if (e.name === 'crashy') events.push({ status: e.status, at: Date.now() }); });
    const killedAt = Date.now();
    process.kill(vm.pid!, 'SIGKILL');
    const crashed = await until('crashed event', () => events.find((e) => e.status === 'crashed'), 5_000);
    off();
    expect(crashed.at - killedAt).toBeLessThan(1000);
    const v = lab.vms.get('crashy');
    expect(v.status).toBe('crashed');
    expect(v.crash?.logTail).toContain('PVMLAB-GUEST-READY');
    await lab.vms.start('crashy');
    await until('second boot', () => (lab.consoleLog('crashy', 0, 4 << 20).data.match(/PVMLAB-GUEST-READY/g) ?? []).length >= 2, 90_000, 200);
    expect(lab.vms.get('crashy').status).toBe('running');
    expect(lab.vms.get('crashy').crash).toBeNull();
  }, 180_000);

  it('a restarted panel adopts the running VM, and stop still works', async () => {
    await lab.close();
    const again = new Lab(new LabHome(env.root));
    again.watch();
    try {
      expect(again.vms.get('crashy').status).toBe('running');
      const events: string[] = [];
      again.bus.on('vm', (e) => { if (e.name === 'crashy') events.push(e.status); });
      const { step } = await again.vms.stop('crashy');
      expect(step).toBe('powerdown');
      expect(again.vms.get('crashy').status).toBe('stopped');
      expect(events).toContain('stopped');
      expect(events).not.toContain('crashed');
    } finally {
      await again.close();
      lab = new Lab(new LabHome(env.root));
      env.lab = lab;
      lab.watch();
    }
  }, 120_000);

  it('two concurrent starts: one wins, the other gets CONFLICT', async () => {
    const r = await Promise.allSettled([lab.vms.start('crashy'), lab.vms.start('crashy')]);
    expect(r.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    const rejected = r.find((x) => x.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(ConflictError);
    await expect(lab.vms.start('crashy')).rejects.toThrow(/already running/);
    await lab.vms.clean('crashy');
  }, 120_000);

  it('a second provisioner is a CONFLICT', async () => {
    await lab.vms.create({ ...kernelVm('prov', x86, 'x86_64'), role: 'provisioner' });
    await expect(lab.vms.create({ ...kernelVm('prov2', x86, 'x86_64'), role: 'provisioner' })).rejects.toThrow(ConflictError);
    await expect(lab.vms.create({ ...kernelVm('prov2', x86, 'x86_64'), role: 'provisioner' })).rejects.toThrow(/already has a provisioner \('prov'\)/);
    await lab.vms.clean('prov');
  });
});

describe('the accelerator a VM runs with', () => {
  it('runs under the doctor\'s proven choice, shows it, and a forced accelerator that dies at launch names the override', async () => {
    const doctor = await lab.doctor();
    const chosen = doctor.accelerators.x86_64;
    await lab.vms.create(kernelVm('acc-auto', x86, 'x86_64'));
    const started = await lab.vms.start('acc-auto');
    expect(started.runningAccel).toEqual({ accel: chosen.accelerator, cpu: chosen.cpu });
    await waitForLog(lab, 'acc-auto', /PVMLAB-GUEST-READY/);
    await lab.vms.stop('acc-auto', { force: true });
    expect(lab.vms.get('acc-auto').runningAccel).toBeNull();
    await lab.vms.clean('acc-auto');

    const pvm = fs.existsSync('/sys/module/kvm_pvm');
    if (!pvm) return; // a host whose KVM works runs a forced kvm VM; the launch-failure path is this host's
    await lab.vms.create({ ...kernelVm('acc-kvm', x86, 'x86_64'), accel: 'kvm' });
    const err = await lab.vms.start('acc-kvm').then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/^QEMU failed to start: .*MSR 0x10a/s);
    expect(err?.message).toMatch(/it ran with -accel kvm -cpu host \(chosen by this VM's accel setting\); to run it under TCG instead: PVMLAB_ACCEL=tcg/);
    expect(lab.vms.get('acc-kvm').status).not.toBe('running');
    await lab.vms.clean('acc-kvm');
  });
});
