// The flight recorder as the front door asks for it: a VM's boot timeline by name (the VM record gives the MAC and
// the console files, the reservation the IP and the boot profile's kernel/initrd, the provisioner's SSH the stack's
// logs when it runs).
import type { LabHome } from '../home.ts';
import type { Remote } from '../provisioner/remote.ts';
import { recordTimeline } from './recorder.ts';
import type { Timeline } from './types.ts';

export interface TimelineDeps {
  home: LabHome;
  /** the VM (throws NotFoundError for an unknown name) */
  vm(name: string): { name: string; mac: string; status: string; privateIp: string | null; boot: string };
  /** the running provisioner's SSH, or null */
  provisioner(): Remote | null;
  /** the target's reservation: its IP and boot profile (null: none) */
  reservation(mac: string): { ip: string; profile: { kind: string; kernel?: string; initrd?: string | null } } | null;
}

/**
 * One boot's timeline for VM `name` (see types.ts for the shape). `boot`: 0 = the first boot in its console log,
 * negative from the end (default -1, the last). Throws NotFoundError (no such VM or boot).
 */
export async function vmTimeline(d: TimelineDeps, name: string, opts: { boot?: number } = {}): Promise<Timeline> {
  const vm = d.vm(name);
  const r = d.reservation(vm.mac);
  const p = r?.profile.kind === 'kernel' ? r.profile : null;
  return recordTimeline({
    vm: vm.name, mac: vm.mac, ip: r?.ip ?? vm.privateIp, running: vm.status === 'running',
    consoleLog: d.home.vmLog(name), consoleTimes: d.home.vmTimes(name), provisioner: d.provisioner(),
    kernel: p?.kernel ?? null, initrd: p?.initrd ?? null, network: vm.boot === 'pxe', boot: opts.boot,
  });
}
