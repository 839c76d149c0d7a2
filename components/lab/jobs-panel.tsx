'use client';
// Long operations (image downloads, builds): progress pushed live, Cancel for the running ones.
import Link from 'next/link';
import { useMutation } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button, Card, Empty } from '../ui/bits';
import { Progress } from '../ui/progress';
import { errorText, useToast } from '../ui/toast';
import { useJobs } from './jobs-live';

const JOB_CHIP: Record<string, string> = {
  done: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300',
  failed: 'bg-red-100 text-red-800 dark:bg-red-900/50 dark:text-red-300',
  cancelled: 'bg-zinc-200 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300',
};
const RECENT = 5;

export function JobsPanel() {
  const trpc = useTRPC();
  const toast = useToast();
  const jobs = useJobs();
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions({
    onSuccess: (ok) => { if (!ok) toast('info', 'That job had already finished'); },
    onError: (e) => toast('error', errorText(e)),
  }));
  const all = jobs.data ?? [];
  const running = all.filter((j) => j.state === 'running');
  const finished = all.filter((j) => j.state !== 'running').slice(0, RECENT);
  return (
    <Card title={`Jobs${running.length ? ` (${running.length} running)` : ''}`}>
      <div className="grid gap-3" data-testid="jobs">
        {!running.length && (
          <Empty>No job running. Image downloads and builds show their progress here, with a Cancel button.</Empty>
        )}
        {running.map((j) => (
          <div key={j.id} data-testid="job" data-state={j.state} className="grid gap-2 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
            <div className="flex flex-wrap items-center gap-x-2 gap-y-1 text-sm">
              <span className="font-medium">{j.title}</span>
              {j.vm && <Link href={`/vms/${j.vm}`} className="mono text-xs text-sky-700 hover:underline dark:text-sky-400">{j.vm}</Link>}
              <span className="whitespace-nowrap text-zinc-500">— {j.stage}</span>
              <Button className="ml-auto px-2 py-1 text-xs" onClick={() => cancel.mutate({ id: j.id })}
                disabled={cancel.isPending && cancel.variables?.id === j.id} aria-label={`cancel ${j.title}`}>Cancel</Button>
            </div>
            <Progress value={j.progress} label={j.title} />
            {j.log.length > 0 && <p className="mono truncate text-xs text-zinc-500" title={j.log.at(-1)}>{j.log.at(-1)}</p>}
          </div>
        ))}
        {finished.length > 0 && (
          <div>
            <h3 className="mb-1 text-xs font-medium uppercase tracking-wide text-zinc-500">Recent</h3>
            <ul className="grid gap-1 text-sm">
              {finished.map((j) => (
                <li key={j.id} data-testid="job" data-state={j.state} className="flex items-center gap-2">
                  <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ${JOB_CHIP[j.state] ?? JOB_CHIP.cancelled}`}>{j.state}</span>
                  <span>{j.title}</span>
                  {j.error && <span className="truncate text-xs text-red-600 dark:text-red-400" title={j.error}>{j.error}</span>}
                  <span className="mono ml-auto text-xs text-zinc-500">{j.endedAt?.slice(11, 19)}</span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </Card>
  );
}
