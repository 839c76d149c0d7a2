'use client';
// Every VM of the lab in one table: the name links to its page; addresses in monospace; live status.
import Link from 'next/link';
import { StatusChip } from '../ui/bits';
import { VmActions } from '../vm/actions';
import type { RouterOutputs } from '@/server/api/root';
type VmView = RouterOutputs['vm']['get'];

export function sshLabel(vm: VmView, provisioner: VmView | undefined): { text: string; title: string } {
  if (vm.role === 'provisioner') {
    return vm.sshPort
      ? { text: `127.0.0.1:${vm.sshPort}`, title: `ssh ${vm.sshUser}@127.0.0.1 -p ${vm.sshPort} (forwarded to the provisioner’s port 22)` }
      : { text: '—', title: 'no SSH forward' };
  }
  if (!provisioner) return { text: '—', title: 'targets are reached through the provisioner, and the lab has none' };
  if (!vm.privateIp) return { text: 'via provisioner', title: 'no private IP yet: start it and wait for its DHCP lease' };
  return { text: `via ${provisioner.name}`, title: vm.sshCommand ?? '' };
}

export function VmTable({ vms }: { vms: VmView[] }) {
  const provisioner = vms.find((v) => v.role === 'provisioner');
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-sm" data-testid="vm-table">
        <thead>
          <tr className="text-left text-xs uppercase tracking-wide text-zinc-500">
            <th className="py-1.5 pr-3 font-medium">Name</th>
            <th className="pr-3 font-medium">Role</th>
            <th className="pr-3 font-medium">Arch</th>
            <th className="pr-3 font-medium">Private IP</th>
            <th className="pr-3 font-medium">SSH</th>
            <th className="pr-3 font-medium">MAC</th>
            <th className="pr-3 font-medium">Status</th>
            <th className="font-medium"><span className="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {vms.map((vm) => {
            const ssh = sshLabel(vm, provisioner);
            return (
              <tr key={vm.name} data-testid="vm-row" data-vm={vm.name} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="py-2 pr-3">
                  <Link href={`/vms/${vm.name}`} data-testid="vm-link"
                    className="font-medium text-sky-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 dark:text-sky-400">{vm.name}</Link>
                </td>
                <td className="pr-3">{vm.role}</td>
                <td className="pr-3 mono text-xs">{vm.arch}</td>
                <td className="pr-3 mono text-xs" data-testid="vm-ip">{vm.privateIp ?? <span className="text-zinc-400">{vm.role === 'target' ? 'DHCP' : '—'}</span>}</td>
                <td className="pr-3 mono text-xs" title={ssh.title}>{ssh.text}</td>
                <td className="pr-3 mono text-xs" data-testid="vm-mac">{vm.mac}</td>
                <td className="pr-3" data-testid="vm-status"><StatusChip status={vm.status} /></td>
                <td className="py-1"><VmActions vm={vm} compact /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
