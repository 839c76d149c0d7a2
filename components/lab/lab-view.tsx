'use client';
// The lab page: the topology picture, the VM table and the running jobs, all kept live by pushed events.
import { useState } from 'react';
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button, Card, Empty } from '../ui/bits';
import { errorText } from '../ui/toast';
import { Topology } from '../topology/topology';
import { useVmEvents } from '../vm/live';
import type { Role } from '@/server/lab/spec';
import { CleanLabButton } from './clean-lab';
import { CreateVmDialog } from './create-vm';
import { JobsPanel } from './jobs-panel';
import { StartLab } from './start-lab';
import { VmTable } from './vm-table';
import { BrokenRecords } from './broken-records';

export function LabView() {
  const trpc = useTRPC();
  useVmEvents();
  const vms = useQuery(trpc.vm.list.queryOptions());
  const [creating, setCreating] = useState<Role | null>(null);
  const list = vms.data ?? [];
  const provisioner = list.find((v) => v.role === 'provisioner');
  const targets = list.filter((v) => v.role === 'target');
  // Keep the Start-a-lab card (its stages) on screen once the lab it starts has VMs, until the page is left.
  const [startedHere, setStartedHere] = useState(false);
  if (vms.data && !list.length && !startedHere) setStartedHere(true);

  return (
    <div className="grid gap-4">
      <div className="flex flex-wrap items-center gap-2">
        <h1 className="text-xl font-semibold" data-testid="lab-title">Lab</h1>
        <div className="ml-auto flex flex-wrap gap-2">
          <Button onClick={() => setCreating('provisioner')} disabled={!!provisioner} data-testid="create-provisioner"
            title={provisioner ? `the lab already has a provisioner (${provisioner.name}); a lab has exactly one` : undefined}>
            Create provisioner
          </Button>
          <Button variant="primary" onClick={() => setCreating('target')} data-testid="create-target">Create target</Button>
          <CleanLabButton vmCount={list.length} />
        </div>
      </div>

      {vms.data && (!list.length || startedHere) && <StartLab />}

      <Card title="Topology">
        <Topology />
      </Card>

      <div className="grid gap-4 xl:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
        <Card title={`VMs${vms.data ? ` (${list.length})` : ''}`}>
          {vms.isError ? (
            <p className="text-sm text-red-600" role="alert">Could not list the VMs: {errorText(vms.error)}</p>
          ) : !vms.data ? (
            <p className="text-sm text-zinc-500">Loading the lab…</p>
          ) : (
            <div className="grid gap-3">
              {!provisioner && (
                <Empty>
                  <span data-testid="empty-provisioner">No provisioner yet — </span>
                  <button type="button" onClick={() => setCreating('provisioner')}
                    className="font-medium text-sky-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 dark:text-sky-400">create one</button>
                  . It runs Docker and the PXE stack (DHCP, TFTP, HTTP) that targets boot from, and NATs them to the outside.
                  {' '}Check the host first on the <Link className="text-sky-700 underline dark:text-sky-400" href="/setup">Setup page</Link>.
                </Empty>
              )}
              <BrokenRecords />
              {list.length > 0 && <VmTable vms={list} />}
              {!targets.length && (
                <Empty>
                  <span data-testid="empty-targets">No targets yet — </span>
                  <button type="button" onClick={() => setCreating('target')}
                    className="font-medium text-sky-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 dark:text-sky-400">create one</button>
                  {provisioner ? ' to PXE-boot it from the provisioner.' : ' (PXE boot needs the provisioner; kernel and disk boot work without it).'}
                </Empty>
              )}
            </div>
          )}
        </Card>
        <JobsPanel />
      </div>

      {creating && <CreateVmDialog role={creating} open onClose={() => setCreating(null)} />}
    </div>
  );
}
