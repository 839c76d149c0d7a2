// spec → QEMU argv. Pure: everything it needs comes in as data.
import type { Candidate } from '../accel/choose.ts';
import type { VmFirmwarePlan } from '../firmware.ts';
import type { VmRecord } from '../spec.ts';

/** `vars`: the VM's own writable copy of its UEFI variable store (x86_64 UEFI VMs; home.ts vmVars). */
export interface VmPaths { qmp: string; events: string; serial: string; log: string; pid: string; disk: string | null; seed: string | null; vars?: string | null }

export interface PlanInput {
  vm: VmRecord;
  paths: VmPaths;
  /** The accelerator and `-cpu` to run with (accel/choose.ts resolveAccel). */
  accel: Candidate;
  /** UEFI firmware for aarch64 disk/pxe boot. */
  aarch64Firmware: string | null;
  /** x86_64: the firmware chosen for this VM (firmware.ts chooseFirmware); absent = SeaBIOS. */
  firmware?: VmFirmwarePlan;
  /** Resume from this internal snapshot of the disk (`-loadvm`): a running snapshot's RAM and devices. */
  loadvm?: string | null;
  /** The private NIC's arguments, from the network backend. */
  privateNic: (o: { mac: string; netdevId: string; deviceExtra?: string }) => string[];
}

export interface QemuPlan { binary: string; args: string[] }

export class PlanError extends Error {}

export function qemuBinary(arch: VmRecord['arch']): string {
  return arch === 'aarch64' ? 'qemu-system-aarch64' : 'qemu-system-x86_64';
}

/** The `-M` machine of every pvmlab VM of an arch (x86: no display, so SeaBIOS and the NIC's iPXE ROM print to
 * the serial console — graphics=off → sercon). The accelerator probe boots the same machine. */
export function qemuMachine(arch: VmRecord['arch'], opts: { smm?: boolean } = {}): string {
  return arch === 'aarch64' ? 'virt' : `q35,graphics=off${opts.smm ? ',smm=on' : ''}`;
}

/**
 * OVMF's network-boot knobs (fw_cfg files read by OVMF, edk2 OvmfPkg/RUNTIME_CONFIG.md), so the NIC's boot entry
 * tries exactly one protocol first: `pxe` keeps only "UEFI PXEv4" ahead of HTTP (no PXEv6 waiting for DHCPv6);
 * `http` removes PXE so "UEFI HTTPv4" is the NIC's first entry. Unknown knobs are ignored by older builds.
 */
export function ovmfNetbootArgs(netboot: 'pxe' | 'http'): string[] {
  const off = netboot === 'http' ? ['IPv4PXESupport', 'IPv6PXESupport', 'IPv6Support'] : ['IPv6PXESupport', 'IPv6Support'];
  return off.flatMap((k) => ['-fw_cfg', `name=opt/org.tianocore/${k},string=n`]);
}

/** Commas in QEMU option values are escaped by doubling. */
export function qemuEscape(v: string): string {
  return v.replace(/,/g, ',,');
}

export function planQemu(input: PlanInput): QemuPlan {
  const { vm, paths, accel } = input;
  const a: string[] = [];
  a.push('-name', `${vm.name},process=pvmlab-${vm.name}`);
  const fw = vm.arch === 'x86_64' ? input.firmware ?? { kind: 'seabios' } : { kind: 'aavmf' } as const;
  const ovmf = fw.kind === 'ovmf' ? fw.build : null;
  a.push('-M', qemuMachine(vm.arch, { smm: ovmf?.secureBoot }));
  a.push('-accel', accel.accel);
  a.push('-cpu', accel.cpu, '-smp', String(vm.cpus), '-m', String(vm.memoryMiB));
  a.push('-nodefaults', '-display', 'none', '-no-user-config');
  if (vm.arch === 'aarch64' && vm.boot !== 'kernel') {
    if (!input.aarch64Firmware) throw new PlanError('aarch64 UEFI firmware not found: install qemu-efi-aarch64 (Debian) or qemu (Homebrew)');
    a.push('-bios', qemuEscape(input.aarch64Firmware));
  }
  if (ovmf) {
    // OVMF as two pflash drives: the read-only code and this VM's own variable store (boot entries, Secure Boot keys).
    if (!paths.vars) throw new PlanError('a UEFI VM needs its own copy of the UEFI variable store (vars path missing)');
    if (ovmf.secureBoot) a.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
    a.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuEscape(ovmf.code)}`);
    a.push('-drive', `if=pflash,format=raw,unit=1,file=${qemuEscape(paths.vars)}`);
    if (vm.boot === 'pxe') a.push(...ovmfNetbootArgs(vm.netboot ?? 'pxe'));
  }
  if (vm.boot === 'kernel') {
    if (!vm.kernel) throw new PlanError('kernel boot without a kernel');
    a.push('-kernel', vm.kernel);
    if (vm.initrd) a.push('-initrd', vm.initrd);
    if (vm.append) a.push('-append', vm.append);
  }
  // Control: one QMP socket for commands, one for the panel's event watcher (a QMP socket serves one client at a time).
  a.push('-qmp', `unix:${qemuEscape(paths.qmp)},server=on,wait=off`);
  a.push('-chardev', `socket,id=events,path=${qemuEscape(paths.events)},server=on,wait=off`, '-mon', 'chardev=events,mode=control');
  // Serial: a socket for the interactive console that also logs everything from power-on.
  a.push('-chardev', `socket,id=ser0,path=${qemuEscape(paths.serial)},server=on,wait=off,logfile=${qemuEscape(paths.log)},logappend=on`);
  a.push('-serial', 'chardev:ser0');
  if (paths.disk) {
    a.push('-drive', `file=${qemuEscape(paths.disk)},if=none,id=disk0,format=qcow2,discard=unmap`);
    a.push('-device', `virtio-blk-pci,drive=disk0${vm.boot === 'disk' ? ',bootindex=1' : vm.boot === 'pxe' ? ',bootindex=2' : ''}`);
  }
  if (paths.seed) {
    a.push('-drive', `file=${qemuEscape(paths.seed)},if=none,id=seed,format=raw,readonly=on`);
    a.push('-device', 'virtio-blk-pci,drive=seed');
  }
  // UEFI x86: no option ROM on the NIC (`romfile=`), so OVMF's own virtio-net driver, PXE and HTTP Boot do the first
  // network boot (DHCP option 93 = 7 or 16) instead of the iPXE in QEMU's efi-virtio.rom (which would send user-class iPXE).
  const nicExtra = [...(ovmf ? ['romfile='] : []), ...(vm.boot === 'pxe' ? ['bootindex=1'] : [])].join(',');
  a.push(...input.privateNic({ mac: vm.mac, netdevId: 'priv', deviceExtra: nicExtra || undefined }));
  if (vm.role === 'provisioner') {
    if (!vm.sshPort || !vm.uplinkMac) throw new PlanError('provisioner without an SSH port or uplink MAC');
    a.push('-netdev', `user,id=uplink,hostfwd=tcp:127.0.0.1:${vm.sshPort}-:22`);
    a.push('-device', `virtio-net-pci,netdev=uplink,mac=${vm.uplinkMac}`);
  }
  if (input.loadvm) {
    if (!paths.disk) throw new PlanError('a snapshot lives on the VM\'s disk: this VM has none');
    a.push('-loadvm', input.loadvm);
  }
  a.push('-pidfile', paths.pid, '-daemonize');
  return { binary: qemuBinary(vm.arch), args: a };
}
