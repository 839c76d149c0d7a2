'use client';
// /vms/<name>/snapshots: take, list, revert and remove snapshots of the VM, and re-provision a target.
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button, Card, Empty } from '../ui/bits';
import { formatBytes } from '../ui/progress';
import { errorText, useToast } from '../ui/toast';
import { snapshotName } from '@/server/lab/spec';
import { useVm, useVmName } from './vm-page';

export function SnapshotsView() {
  const name = useVmName();
  const { vm } = useVm(name);
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [snap, setSnap] = useState('');
  const list = useQuery(trpc.vm.snapshots.list.queryOptions({ name }, { retry: false }));
  const settle = () => { void qc.invalidateQueries(trpc.vm.pathFilter()); };
  const onError = (e: unknown) => toast('error', errorText(e));
  const take = useMutation(trpc.vm.snapshots.take.mutationOptions({ onError, onSettled: settle, onSuccess: (s) => { setSnap(''); toast('info', `Snapshot ${s.name} taken (${s.kind})`); } }));
  const revert = useMutation(trpc.vm.snapshots.revert.mutationOptions({ onError, onSettled: settle, onSuccess: (v) => toast('info', `${v.name} reverted (${v.status})`) }));
  const remove = useMutation(trpc.vm.snapshots.remove.mutationOptions({ onError, onSettled: settle }));
  const reprovision = useMutation(trpc.vm.reprovision.mutationOptions({ onError, onSettled: settle, onSuccess: (v) => toast('info', `${v.name}: fresh disk, booting again — follow it on the Serial or Logs tab`) }));
  const hint = snap ? snapshotName.safeParse(snap) : null;
  const running = vm?.status === 'running';
  const busy = take.isPending || revert.isPending || remove.isPending || reprovision.isPending;
  return (
    <div className="grid gap-4">
      <Card title="Snapshots">
        <p className="mb-3 text-sm text-zinc-500">
          {running
            ? 'The VM runs: a snapshot keeps its RAM and devices too — reverting resumes it at that moment, processes alive.'
            : 'The VM is stopped: a snapshot is disk-only — it keeps the disk, not RAM or running processes; reverting gives the disk back and the guest boots anew.'}
        </p>
        <form className="mb-3 flex flex-wrap items-start gap-2" onSubmit={(e) => { e.preventDefault(); if (hint?.success) take.mutate({ name, snapshot: snap }); }}>
          <label className="grid gap-1 text-sm">
            <span className="sr-only">Snapshot name</span>
            <input aria-label="snapshot name" data-testid="snapshot-name" value={snap} onChange={(e) => setSnap(e.target.value)} placeholder="before-install"
              className="mono rounded-md border border-zinc-300 bg-white px-2 py-1 dark:border-zinc-700 dark:bg-zinc-800" />
            {hint && !hint.success && <span className="text-xs text-red-600" data-testid="snapshot-name-error">{hint.error.issues[0].message}</span>}
          </label>
          <Button type="submit" variant="primary" disabled={busy || !hint?.success} data-testid="snapshot-take">{take.isPending ? 'Taking…' : 'Take snapshot'}</Button>
        </form>
        {list.isError ? <p className="text-sm text-zinc-500" data-testid="snapshots-error">{list.error.message}</p>
          : !list.data?.length ? <Empty>No snapshots yet.</Empty> : (
            <table className="w-full text-sm" data-testid="snapshots">
              <thead><tr className="text-left text-zinc-500"><th className="py-1">Name</th><th>Taken</th><th>Kind</th><th>RAM</th><th /></tr></thead>
              <tbody>
                {list.data.map((s) => (
                  <tr key={s.name} className="border-t border-zinc-100 dark:border-zinc-800" data-snapshot={s.name}>
                    <td className="py-1 mono">{s.name}</td>
                    <td className="mono text-xs">{s.takenAt}</td>
                    <td>{s.kind === 'running' ? 'with RAM' : 'disk-only'}</td>
                    <td className="mono text-xs">{s.vmStateBytes ? formatBytes(s.vmStateBytes) : '—'}</td>
                    <td className="flex justify-end gap-2 py-1">
                      <Button className="px-2 py-1 text-xs" disabled={busy} onClick={() => revert.mutate({ name, snapshot: s.name })} data-testid="snapshot-revert">Revert</Button>
                      <Button className="px-2 py-1 text-xs" variant="danger" disabled={busy} onClick={() => remove.mutate({ name, snapshot: s.name })} data-testid="snapshot-remove">Remove</Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </Card>
      {vm?.role === 'provisioner' && <WarmCard name={name} stopped={vm.status === 'stopped' || vm.status === 'crashed'} />}
      {vm?.role === 'target' && (
        <Card title="Re-provision">
          <p className="mb-3 text-sm text-zinc-500">Power off, throw the disk away (a blank disk for a PXE target, a fresh copy of its image otherwise; its snapshots go with it), keep its MAC, IP, reservation and boot profile, and boot again.</p>
          <Button variant="danger" disabled={busy} onClick={() => reprovision.mutate({ name })} data-testid="vm-reprovision">{reprovision.isPending ? 'Re-provisioning…' : 'Re-provision'}</Button>
        </Card>
      )}
    </div>
  );
}

/** The provisioner's ready snapshot: whether the next start is warm, a cold start, and resetting the whole lab. */
function WarmCard({ name, stopped }: { name: string; stopped: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const warm = useQuery(trpc.lab.warm.queryOptions());
  const settle = () => { void qc.invalidateQueries(trpc.vm.pathFilter()); void qc.invalidateQueries(trpc.lab.pathFilter()); };
  const onError = (e: unknown) => toast('error', errorText(e));
  const cold = useMutation(trpc.vm.start.mutationOptions({ onError, onSettled: settle }));
  const reset = useMutation(trpc.lab.reset.mutationOptions({ onError, onSettled: settle, onSuccess: (r) => toast('info', `Lab reset: ${r.provisioner} from its ready snapshot${r.targets.length ? `, re-provisioned ${r.targets.map((t) => `${t.name} (${t.state})`).join(', ')}` : ''}`) }));
  return (
    <Card title="Warm start">
      <p className="mb-3 text-sm" data-testid="warm-state">
        {warm.data ? (warm.data.usable ? `The next start resumes the ${warm.data.reason}: the stack is healthy seconds after power-on.` : `The next start is cold: ${warm.data.reason}.`) : '…'}
      </p>
      <p className="mb-3 text-xs text-zinc-500">A warm start returns the provisioner&apos;s disk to its ready snapshot (reservations and profiles are published again; artifacts are in the snapshot). Changes made inside it by hand are kept only by a cold start.</p>
      <div className="flex gap-2">
        <Button disabled={!stopped || cold.isPending} onClick={() => cold.mutate({ name, cold: true })} data-testid="vm-start-cold">{cold.isPending ? 'Starting…' : 'Cold start'}</Button>
        <Button variant="danger" disabled={!warm.data?.usable || reset.isPending} onClick={() => reset.mutate()} data-testid="lab-reset">{reset.isPending ? 'Resetting…' : 'Reset the lab'}</Button>
      </div>
    </Card>
  );
}
