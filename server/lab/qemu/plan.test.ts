import { describe, expect, it } from 'vitest';
import { planQemu, qemuEscape, type PlanInput } from './plan.ts';
import { planMcastNic } from '../network/userspace/backend.ts';
import { newLabConfig } from '../config.ts';
import type { VmRecord } from '../spec.ts';
import { defaultCpu, type Accelerator } from '../accel/choose.ts';

const cfg = newLabConfig('linux', () => 7);
const base: VmRecord = {
  version: 1, name: 'web', role: 'target', arch: 'x86_64', cpus: 2, memoryMiB: 1024, diskSizeMiB: 10240, boot: 'disk',
  image: '/img/base.qcow2', kernel: null, initrd: null, append: null, mac: '02:00:00:00:00:01', uplinkMac: null,
  ip: null, sshPort: null, sshUser: 'pvmlab', createdAt: '2026-01-01T00:00:00.000Z', accel: null, crash: null,
};
const paths = { qmp: '/h/monitors/web.qmp', events: '/h/monitors/web.events', serial: '/h/monitors/web.serial', log: '/h/logs/web.log', pid: '/h/pids/web.pid', disk: '/h/images/vm-web.qcow2', seed: '/h/configs/web.iso' };
const input = (vm: Partial<VmRecord>, p: Partial<PlanInput['paths']> = {}, accel: Accelerator = 'tcg'): PlanInput => ({
  vm: { ...base, ...vm }, paths: { ...paths, ...p }, accel: { accel, cpu: defaultCpu(accel, vm.arch ?? base.arch) }, aarch64Firmware: '/fw/QEMU_EFI.fd', privateNic: (o) => planMcastNic(cfg, o),
});
const control = [
  '-qmp', 'unix:/h/monitors/web.qmp,server=on,wait=off',
  '-chardev', 'socket,id=events,path=/h/monitors/web.events,server=on,wait=off', '-mon', 'chardev=events,mode=control',
  '-chardev', 'socket,id=ser0,path=/h/monitors/web.serial,server=on,wait=off,logfile=/h/logs/web.log,logappend=on',
  '-serial', 'chardev:ser0',
];
const mcast = `socket,id=priv,mcast=239.255.7.8:20007,localaddr=127.0.0.1`;

describe('planQemu', () => {
  it('x86_64 disk boot target under tcg', () => {
    expect(planQemu(input({}))).toEqual({
      binary: 'qemu-system-x86_64',
      args: [
        '-name', 'web,process=pvmlab-web', '-M', 'q35,graphics=off', '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', '1024',
        '-nodefaults', '-display', 'none', '-no-user-config',
        ...control,
        '-drive', 'file=/h/images/vm-web.qcow2,if=none,id=disk0,format=qcow2,discard=unmap', '-device', 'virtio-blk-pci,drive=disk0,bootindex=1',
        '-drive', 'file=/h/configs/web.iso,if=none,id=seed,format=raw,readonly=on', '-device', 'virtio-blk-pci,drive=seed',
        '-netdev', mcast, '-device', 'virtio-net-pci,netdev=priv,mac=02:00:00:00:00:01',
        '-pidfile', '/h/pids/web.pid', '-daemonize',
      ],
    });
  });

  it('aarch64 pxe target: UEFI firmware, NIC first in boot order, blank disk second, no seed', () => {
    const p = planQemu(input({ arch: 'aarch64', boot: 'pxe', image: null }, { seed: null }));
    expect(p.binary).toBe('qemu-system-aarch64');
    expect(p.args.slice(0, 15)).toEqual(['-name', 'web,process=pvmlab-web', '-M', 'virt', '-accel', 'tcg', '-cpu', 'max,pauth-impdef=on', '-smp', '2', '-m', '1024', '-nodefaults', '-display', 'none']);
    expect(p.args).toContain('-bios');
    expect(p.args[p.args.indexOf('-bios') + 1]).toBe('/fw/QEMU_EFI.fd');
    expect(p.args).toContain('virtio-blk-pci,drive=disk0,bootindex=2');
    expect(p.args).toContain('virtio-net-pci,netdev=priv,mac=02:00:00:00:00:01,bootindex=1');
    expect(p.args).not.toContain('virtio-blk-pci,drive=seed');
  });

  it('kernel boot provisioner with hvf/kvm gets -cpu host, no firmware, the uplink with a loopback-only forward', () => {
    const p = planQemu(input({ role: 'provisioner', arch: 'aarch64', boot: 'kernel', kernel: '/k/vmlinuz', initrd: '/k/initrd', append: 'console=ttyAMA0 a=b,c',
      sshPort: 2222, uplinkMac: '02:00:00:00:01:01', ip: '192.168.100.1' }, { disk: null }, 'kvm'));
    expect(p.args).not.toContain('-bios');
    expect(p.args.slice(p.args.indexOf('-cpu'), p.args.indexOf('-cpu') + 2)).toEqual(['-cpu', 'host']);
    expect(p.args.slice(p.args.indexOf('-kernel'), p.args.indexOf('-kernel') + 6)).toEqual(['-kernel', '/k/vmlinuz', '-initrd', '/k/initrd', '-append', 'console=ttyAMA0 a=b,c']);
    expect(p.args.slice(-7)).toEqual(['-netdev', 'user,id=uplink,hostfwd=tcp:127.0.0.1:2222-:22', '-device', 'virtio-net-pci,netdev=uplink,mac=02:00:00:00:01:01', '-pidfile', '/h/pids/web.pid', '-daemonize']);
  });

  it('escapes commas in paths and refuses aarch64 disk boot without firmware', () => {
    expect(qemuEscape('/a,b/c')).toBe('/a,,b/c');
    const p = planQemu(input({}, { disk: '/x,y/d.qcow2' }));
    expect(p.args).toContain('file=/x,,y/d.qcow2,if=none,id=disk0,format=qcow2,discard=unmap');
    expect(() => planQemu({ ...input({ arch: 'aarch64' }), aarch64Firmware: null })).toThrow(/qemu-efi-aarch64/);
  });

  it('passes the resolved CPU model as is (an override such as host,-arch-capabilities)', () => {
    const p = planQemu({ ...input({}), accel: { accel: 'kvm', cpu: 'host,-arch-capabilities' } });
    expect(p.args.slice(p.args.indexOf('-accel'), p.args.indexOf('-accel') + 4)).toEqual(['-accel', 'kvm', '-cpu', 'host,-arch-capabilities']);
  });
});

describe('planQemu: x86_64 firmware', () => {
  const ovmf = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd', secureBoot: false };
  const secure = { code: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd', secureBoot: true };
  const pxe = { boot: 'pxe' as const, image: null, firmware: 'uefi' as const };
  const nic = (p: { args: string[] }) => p.args.find((x) => x.startsWith('virtio-net-pci,netdev=priv'));

  it('bios (and records without the field): SeaBIOS, the NIC keeps its iPXE ROM, no pflash', () => {
    for (const vm of [{ boot: 'pxe' as const, image: null }, { boot: 'pxe' as const, image: null, firmware: 'bios' as const }]) {
      const p = planQemu({ ...input(vm, { seed: null }), firmware: { kind: 'seabios' } });
      expect(p.args.slice(2, 4)).toEqual(['-M', 'q35,graphics=off']);
      expect(p.args.join(' ')).not.toMatch(/pflash|fw_cfg|romfile/);
      expect(nic(p)).toBe('virtio-net-pci,netdev=priv,mac=02:00:00:00:00:01,bootindex=1');
    }
  });

  it('uefi PXE: OVMF code read-only + the VM\'s vars copy, no NIC ROM (OVMF\'s own PXE), PXEv6 off', () => {
    const p = planQemu({ ...input(pxe, { seed: null, vars: '/h/images/vm-web-efivars.fd' }), firmware: { kind: 'ovmf', build: ovmf } });
    expect(p.args.slice(2, 4)).toEqual(['-M', 'q35,graphics=off']);
    const i = p.args.indexOf('-drive');
    expect(p.args.slice(i, i + 4)).toEqual(['-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      '-drive', 'if=pflash,format=raw,unit=1,file=/h/images/vm-web-efivars.fd']);
    expect(p.args.slice(i + 4, i + 8)).toEqual(['-fw_cfg', 'name=opt/org.tianocore/IPv6PXESupport,string=n', '-fw_cfg', 'name=opt/org.tianocore/IPv6Support,string=n']);
    expect(nic(p)).toBe('virtio-net-pci,netdev=priv,mac=02:00:00:00:00:01,romfile=,bootindex=1');
    expect(p.args).not.toContain('-global');
  });

  it('uefi HTTP Boot: PXE switched off in OVMF so its first network entry is "UEFI HTTPv4"', () => {
    const p = planQemu({ ...input({ ...pxe, netboot: 'http' }, { seed: null, vars: '/v.fd' }), firmware: { kind: 'ovmf', build: ovmf } });
    expect(p.args.filter((x) => x.startsWith('name=opt/org.tianocore/'))).toEqual([
      'name=opt/org.tianocore/IPv4PXESupport,string=n', 'name=opt/org.tianocore/IPv6PXESupport,string=n', 'name=opt/org.tianocore/IPv6Support,string=n']);
  });

  it('uefi disk boot: pflash, no netboot knobs, disk first, NIC without ROM and without a boot index', () => {
    const p = planQemu({ ...input({ firmware: 'uefi' }, { vars: '/v.fd' }), firmware: { kind: 'ovmf', build: ovmf } });
    expect(p.args).toContain('if=pflash,format=raw,unit=1,file=/v.fd');
    expect(p.args).not.toContain('-fw_cfg');
    expect(p.args).toContain('virtio-blk-pci,drive=disk0,bootindex=1');
    expect(nic(p)).toBe('virtio-net-pci,netdev=priv,mac=02:00:00:00:00:01,romfile=');
  });

  it('Secure Boot: the secboot build, SMM on, pflash secure; a comma in a path is escaped', () => {
    const p = planQemu({ ...input({ ...pxe, secureBoot: true }, { seed: null, vars: '/a,b/v.fd' }), firmware: { kind: 'ovmf', build: secure } });
    expect(p.args.slice(2, 4)).toEqual(['-M', 'q35,graphics=off,smm=on']);
    expect(p.args.slice(p.args.indexOf('-global'), p.args.indexOf('-global') + 2)).toEqual(['-global', 'driver=cfi.pflash01,property=secure,value=on']);
    expect(p.args).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd');
    expect(p.args).toContain('if=pflash,format=raw,unit=1,file=/a,,b/v.fd');
  });

  it('refuses a UEFI plan without the VM\'s vars copy', () => {
    expect(() => planQemu({ ...input(pxe, { seed: null }), firmware: { kind: 'ovmf', build: ovmf } })).toThrow(/variable store/);
  });
});
