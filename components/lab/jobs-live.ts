'use client';
// Jobs: the list once, then every change pushed through jobs.events (each event carries the whole job).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useTRPC } from '../trpc';

export function useJobs() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const jobs = useQuery(trpc.jobs.list.queryOptions());
  useSubscription(trpc.jobs.events.subscriptionOptions(undefined, {
    onStarted: () => { void qc.invalidateQueries(trpc.jobs.list.queryFilter()); },
    onData: (job) => {
      qc.setQueryData(trpc.jobs.list.queryKey(), (old) => {
        const rest = (old ?? []).filter((j) => j.id !== job.id);
        return [job, ...rest].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      });
    },
  }));
  return jobs;
}
