'use client';
// /vms/<name>: the VM's facts, how to reach it over SSH, its recent console output, and why it crashed.
import type { ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Card } from '../ui/bits';
import { formatBytes } from '../ui/progress';
import type { RouterOutputs } from '@/server/api/root';
type VmView = RouterOutputs['vm']['get'];
import { CopyButton } from './copy-button';
import { LogTail } from './log-tail';
import Link from 'next/link';
import { profileLabel } from '../pxe/add-reservation';
import { useVm, useVmName } from './vm-page';

function mib(n: number): string { return formatBytes(n * 1024 * 1024); }

function Fact({ k, children, mono = false, testId }: { k: string; children: ReactNode; mono?: boolean; testId?: string }) {
  return (
    <>
      <dt className="text-zinc-500">{k}</dt>
      <dd className={`min-w-0 break-all ${mono ? 'mono text-xs leading-5' : ''}`} data-testid={testId}>{children}</dd>
    </>
  );
}

const none = <span className="text-zinc-400">—</span>;

/** A PXE target's boot profile from its reservation; none says it boots nothing until it gets one. */
function BootProfileFact({ mac }: { mac: string }) {
  const trpc = useTRPC();
  const res = useQuery(trpc.pxe.reservations.list.queryOptions());
  const r = res.data?.find((x) => x.mac === mac);
  if (!res.data) return none;
  if (!r) return <span className="text-amber-700 dark:text-amber-400">no reservation: it gets a dynamic address and no profile</span>;
  return <Link href="/pxe" className="text-sky-700 hover:underline dark:text-sky-400">{profileLabel(r.profile)}</Link>;
}

/** Which network-boot path the target's firmware took last (dnsmasq's log, provisioner/bootpath.ts). */
function BootPathFact({ name }: { name: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.vm.bootPath.queryOptions({ name }));
  if (q.isPending) return none;
  if (q.error) return <span className="text-zinc-500">unknown ({q.error.message})</span>;
  const p = q.data;
  if (!p) return <span className="text-zinc-500">not seen yet (no DHCP from it in dnsmasq’s log, or the provisioner is stopped)</span>;
  return (
    <span>
      {p.label}: <span className="mono text-xs">{p.transport === 'tftp' ? `TFTP ${p.bootFile}` : p.bootFile}</span>
      {p.ipxeBootFile && <span className="text-zinc-500"> → iPXE <span className="mono text-xs">{p.ipxeBootFile}</span></span>}
      {p.at && <span className="text-zinc-500"> ({p.at})</span>}
    </span>
  );
}

function firmwareText(vm: VmView): string {
  if (vm.arch === 'aarch64') return 'UEFI (AAVMF)';
  if (vm.firmware !== 'uefi') return 'BIOS (SeaBIOS)';
  return `UEFI (OVMF)${vm.secureBoot ? ', Secure Boot' : ''}${vm.boot === 'pxe' ? `, ${vm.netboot === 'http' ? 'HTTP Boot' : 'PXE'}` : ''}`;
}

export function VmOverview() {
  const name = useVmName();
  const { vm, missing } = useVm(name);
  if (missing) return null; // the frame says so
  if (!vm) return <p className="text-sm text-zinc-500">Loading {name}…</p>;
  return (
    <div className="grid gap-4">
      {vm.status === 'crashed' && <CrashCard vm={vm} />}
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Facts">
          <dl className="grid grid-cols-[8rem_minmax(0,1fr)] gap-x-3 gap-y-1 text-sm" data-testid="vm-facts">
            <Fact k="Role">{vm.role}</Fact>
            <Fact k="Architecture" mono>{vm.arch}</Fact>
            <Fact k="CPUs">{vm.cpus}</Fact>
            <Fact k="Memory" testId="fact-memory">{mib(vm.memoryMiB)}</Fact>
            <Fact k="Disk">{vm.boot === 'kernel' && !vm.image ? <span className="text-zinc-500">none (kernel boot)</span> : mib(vm.diskSizeMiB)}</Fact>
            <Fact k="Boot" mono>{vm.boot}</Fact>
            <Fact k="Firmware" testId="fact-firmware">{firmwareText(vm)}</Fact>
            <Fact k="Image" mono>{vm.image ?? none}</Fact>
            {vm.boot === 'pxe' && <Fact k="Boot profile" testId="fact-profile"><BootProfileFact mac={vm.mac} /></Fact>}
            {vm.boot === 'pxe' && <Fact k="Boot path" testId="fact-bootpath"><BootPathFact name={vm.name} /></Fact>}
            {vm.boot === 'kernel' && <>
              <Fact k="Kernel" mono>{vm.kernel ?? none}</Fact>
              <Fact k="Initrd" mono>{vm.initrd ?? none}</Fact>
              <Fact k="Command line" mono>{vm.append ?? none}</Fact>
            </>}
            <Fact k="MAC" mono testId="fact-mac">{vm.mac}</Fact>
            {vm.uplinkMac && <Fact k="Uplink MAC" mono>{vm.uplinkMac}</Fact>}
            <Fact k="Private IP" mono testId="fact-ip">{vm.privateIp ?? <span className="text-zinc-500">{vm.role === 'target' ? 'DHCP (no lease seen yet)' : '—'}</span>}</Fact>
            <Fact k="SSH port" mono>{vm.sshPort ? `127.0.0.1:${vm.sshPort} → 22` : vm.role === 'target' ? <span className="text-zinc-500">via the provisioner</span> : none}</Fact>
            <Fact k="SSH user" mono>{vm.sshUser}</Fact>
            <Fact k="Created" mono>{vm.createdAt}</Fact>
            <Fact k="Accelerator" mono testId="fact-accel">
              {vm.runningAccel ? `${vm.runningAccel.accel} -cpu ${vm.runningAccel.cpu}` : <span className="text-zinc-500">{vm.accel && vm.accel !== 'auto' ? `${vm.accel} (this VM's setting) when started` : "the lab's choice when started (Setup page)"}</span>}
            </Fact>
            {vm.pid && <Fact k="QEMU pid" mono>{vm.pid}</Fact>}
          </dl>
        </Card>
        <div className="grid content-start gap-4">
          <SshCard vm={vm} />
          <Card title="Recent console output">
            <LogTail name={vm.name} />
          </Card>
        </div>
      </div>
    </div>
  );
}

function CrashCard({ vm }: { vm: VmView }) {
  return (
    <section role="alert" data-testid="vm-crash" className="rounded-lg border border-red-300 bg-red-50 p-4 dark:border-red-900 dark:bg-red-950/40">
      <h2 className="text-sm font-semibold text-red-800 dark:text-red-300">
        QEMU ended without a clean shutdown{vm.crash ? <> at <span className="mono">{vm.crash.at}</span></> : null}
      </h2>
      <p className="mt-1 text-sm text-red-800/80 dark:text-red-300/80">The last console lines are below. Start it again, or read the whole console log under Logs.</p>
      {vm.crash?.logTail && (
        <pre data-testid="crash-log" className="mono mt-2 max-h-64 overflow-auto whitespace-pre-wrap break-all rounded-md bg-zinc-950 p-3 text-xs leading-5 text-zinc-100">{vm.crash.logTail}</pre>
      )}
    </section>
  );
}

function SshCard({ vm }: { vm: VmView }) {
  const trpc = useTRPC();
  const reachable = !!vm.sshCommand;
  const ssh = useQuery(trpc.vm.sshCommand.queryOptions({ name: vm.name }, { enabled: reachable, retry: false }));
  let body: ReactNode;
  if (!reachable) {
    body = (
      <p className="text-sm text-zinc-500" data-testid="ssh-unavailable">
        {vm.role === 'target'
          ? vm.privateIp ? 'Targets are reached through the provisioner, and the lab has none yet.' : 'No private IP yet: start it and wait for its DHCP lease (targets are reached through the provisioner).'
          : 'The provisioner has no SSH forward.'}
      </p>
    );
  } else if (ssh.error) {
    body = <p className="text-sm text-red-600" data-testid="ssh-unavailable">{ssh.error.message}</p>;
  } else if (!ssh.data) {
    body = <p className="text-sm text-zinc-500">…</p>;
  } else {
    body = (
      <div className="flex items-start gap-2">
        <code className="mono min-w-0 flex-1 break-all rounded-md bg-zinc-100 px-2 py-1.5 text-xs dark:bg-zinc-800" data-testid="ssh-command">{ssh.data.command}</code>
        <CopyButton text={ssh.data.command} testId="copy-ssh" />
      </div>
    );
  }
  return <Card title="SSH">{body}{vm.status !== 'running' && reachable && <p className="mt-2 text-xs text-zinc-500">The VM is {vm.status}: start it before connecting.</p>}</Card>;
}
