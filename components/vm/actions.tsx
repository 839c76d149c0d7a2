'use client';
// Start / Stop / Clean for one VM: used by the lab table and the VM page header.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button } from '../ui/bits';
import { ConfirmDialog } from '../ui/dialog';
import { errorText, useToast } from '../ui/toast';
import type { RouterOutputs } from '@/server/api/root';
type VmView = RouterOutputs['vm']['get'];

const CAN_START = new Set(['stopped', 'crashed']);
const CAN_STOP = new Set(['running', 'paused', 'starting']);

export function VmActions({ vm, onCleaned, compact = false }: { vm: Pick<VmView, 'name' | 'status' | 'role'>; onCleaned?: () => void; compact?: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [confirm, setConfirm] = useState(false);
  const settle = () => { void qc.invalidateQueries(trpc.vm.pathFilter()); };
  const onError = (e: unknown) => toast('error', errorText(e));
  const start = useMutation(trpc.vm.start.mutationOptions({ onError, onSettled: settle }));
  const stop = useMutation(trpc.vm.stop.mutationOptions({ onError, onSettled: settle }));
  const clean = useMutation(trpc.vm.clean.mutationOptions({
    onError,
    onSuccess: () => { setConfirm(false); toast('info', `Removed ${vm.name}`); onCleaned?.(); },
    onSettled: settle,
  }));
  const busy = start.isPending || stop.isPending || clean.isPending;
  const size = compact ? 'px-2 py-1 text-xs' : '';
  return (
    <div className="flex gap-2" data-testid="vm-actions">
      {CAN_START.has(vm.status) || start.isPending ? (
        <Button className={size} variant="primary" disabled={busy} onClick={() => start.mutate({ name: vm.name })}
          aria-label={`start ${vm.name}`} data-testid="vm-start">{start.isPending ? 'Starting…' : 'Start'}</Button>
      ) : (
        <Button className={size} disabled={busy || !CAN_STOP.has(vm.status)} onClick={() => stop.mutate({ name: vm.name, force: false })}
          title="ACPI power-off; QEMU is ended if the guest does not power off within 30 s"
          aria-label={`stop ${vm.name}`} data-testid="vm-stop">{stop.isPending || vm.status === 'stopping' ? 'Stopping…' : 'Stop'}</Button>
      )}
      <Button className={size} variant="danger" disabled={busy} onClick={() => setConfirm(true)}
        aria-label={`clean ${vm.name}`} data-testid="vm-clean">Clean</Button>
      <ConfirmDialog
        open={confirm}
        onClose={() => setConfirm(false)}
        onConfirm={() => clean.mutate({ name: vm.name })}
        pending={clean.isPending}
        title={<>Clean <span className="mono">{vm.name}</span>?</>}
        confirmLabel={`Clean ${vm.name}`}
        testId="confirm-clean"
      >
        <p>This stops the VM if it runs and deletes its record, disk, seed ISO and console log.{vm.role === 'provisioner' ? ' Targets that boot from this provisioner lose their PXE server.' : ''}</p>
        <p className="mt-2 text-zinc-500">Base images and the lab key stay.</p>
      </ConfirmDialog>
    </div>
  );
}
