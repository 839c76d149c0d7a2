'use client';
// Push, don't poll: one vm.events subscription per page keeps every vm.* query fresh. Each event patches the
// list at once (so a chip changes on the same frame) and invalidates vm.* so the views refetch the truth
// from disk. On (re)subscribe everything is refetched, so nothing missed while disconnected stays stale.
import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useTRPC } from '../trpc';
import type { VmStatus } from '@/server/lab/spec';

export interface VmEvent { name: string; status: string; detail?: string; at: string }

export function useVmEvents(onEvent?: (e: VmEvent) => void): void {
  const trpc = useTRPC();
  const qc = useQueryClient();
  useSubscription(trpc.vm.events.subscriptionOptions(undefined, {
    onStarted: () => { void qc.invalidateQueries(trpc.vm.pathFilter()); },
    onData: (e) => {
      qc.setQueryData(trpc.vm.list.queryKey(), (old) => {
        if (!old) return old;
        if (e.status === 'removed' || e.detail === 'removed') return old.filter((v) => v.name !== e.name);
        return old.map((v) => (v.name === e.name ? { ...v, status: e.status as VmStatus } : v));
      });
      if (e.status !== 'removed' && e.detail !== 'removed') {
        qc.setQueryData(trpc.vm.get.queryKey({ name: e.name }), (old) => (old ? { ...old, status: e.status as VmStatus } : old));
      }
      void qc.invalidateQueries(trpc.vm.pathFilter());
      onEvent?.(e);
    },
  }));
}
