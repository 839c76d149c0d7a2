'use client';
// "Start a lab" on the empty lab page: the default lab of `pvmlab up` (provisioner + pxeboot stack + PXE
// targets on the default boot profile) with its defaults shown and editable, then the job's stages live —
// each with its time as it ends — and a Cancel button. The same job as the CLI's, on the same core.
import { useEffect, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button, Card } from '../ui/bits';
import { Progress, formatDuration } from '../ui/progress';
import { errorText, useToast } from '../ui/toast';
import { useJobs } from './jobs-live';

type Stage = { name: string; at: string };

/** Each stage with its duration (ended ones) or the time so far (the current one). Pure. */
export function stageTimes(stages: Stage[], endedAt: string | null, now: number): { name: string; seconds: number; done: boolean }[] {
  return stages.map((s, i) => {
    const end = stages[i + 1]?.at ?? endedAt;
    return { name: s.name, seconds: ((end ? Date.parse(end) : now) - Date.parse(s.at)) / 1000, done: !!end };
  });
}

const field = 'rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-950 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500';

export function StartLab() {
  const trpc = useTRPC();
  const toast = useToast();
  const defaults = useQuery(trpc.lab.upDefaults.queryOptions());
  const jobs = useJobs();
  const [arch, setArch] = useState<'x86_64' | 'aarch64' | ''>('');
  const [targets, setTargets] = useState(1);
  const [image, setImage] = useState<'auto' | 'offline' | 'ubuntu-24.04'>('auto');
  const [jobId, setJobId] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const up = useMutation(trpc.lab.up.mutationOptions({ onSuccess: (r) => setJobId(r.jobId), onError: (e) => toast('error', errorText(e)) }));
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions({ onError: (e) => toast('error', errorText(e)) }));
  const job = (jobs.data ?? []).find((j) => (jobId ? j.id === jobId : j.kind === 'up' && j.state === 'running'));
  const running = job?.state === 'running';
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);
  const a = arch || defaults.data?.arch || 'x86_64';

  return (
    <Card title="Start a lab">
      <div className="grid gap-3 text-sm" data-testid="start-lab">
        <p>
          One provisioner (Docker + the PXE stack) and {targets === 1 ? 'one PXE target' : `${targets} PXE targets`} that network-boot the
          default boot profile — a small live Linux that takes its IP by DHCP and answers SSH with the lab key. The same as <span className="mono">pvmlab up</span>.
        </p>
        {!job && (
          <form className="flex flex-wrap items-end gap-3" onSubmit={(e) => { e.preventDefault(); up.mutate({ arch: a, targets, image }); }}>
            <label className="grid gap-1">Architecture
              <select className={field} value={a} onChange={(e) => setArch(e.target.value as 'x86_64' | 'aarch64')} data-testid="start-lab-arch">
                <option value="x86_64">x86_64</option><option value="aarch64">aarch64</option>
              </select>
            </label>
            <label className="grid gap-1">Targets
              <input className={`${field} w-20`} type="number" min={0} max={8} value={targets} onChange={(e) => setTargets(Math.max(0, Math.min(8, Number(e.target.value) || 0)))} data-testid="start-lab-targets" />
            </label>
            <label className="grid gap-1">Provisioner image
              <select className={field} value={image} onChange={(e) => setImage(e.target.value as typeof image)} data-testid="start-lab-image">
                <option value="auto">auto (Ubuntu 24.04 if downloadable, else offline)</option>
                <option value="offline">offline (built from Debian packages)</option>
                <option value="ubuntu-24.04">Ubuntu 24.04 cloud image</option>
              </select>
            </label>
            <Button type="submit" variant="primary" disabled={up.isPending} data-testid="start-lab-button">{up.isPending ? 'Starting…' : 'Start a lab'}</Button>
          </form>
        )}
        {job && (
          <div className="grid gap-2" data-testid="start-lab-job" data-state={job.state}>
            <ol className="grid gap-1">
              {stageTimes(job.stages, job.endedAt, now).map((s, i, all) => {
                const failed = !running && job.state !== 'done' && i === all.length - 1;
                return (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a stage name may repeat (a retried step); the list only grows, so the index is stable
                  <li key={`${s.name}-${i}`} className="flex items-center gap-2" data-testid="start-lab-stage" data-done={s.done && !failed}>
                    <span aria-hidden className={failed ? 'text-red-600' : s.done ? 'text-emerald-600' : 'text-amber-600'}>{failed ? '✗' : s.done ? '✓' : '…'}</span>
                    <span>{s.name}</span>
                    <span className="mono ml-auto text-xs text-zinc-500">{formatDuration(s.seconds)}</span>
                  </li>
                );
              })}
            </ol>
            {running && <Progress value={job.progress} label={job.stage} />}
            {job.log.length > 0 && <p className="mono truncate text-xs text-zinc-500" title={job.log.at(-1)}>{job.log.at(-1)}</p>}
            {job.error && <p className="text-sm text-red-600" role="alert">{job.error}</p>}
            <div className="flex gap-2">
              {running && <Button onClick={() => cancel.mutate({ id: job.id })} data-testid="start-lab-cancel">Cancel</Button>}
              {!running && job.state !== 'done' && <Button onClick={() => setJobId(null)}>Try again</Button>}
            </div>
          </div>
        )}
      </div>
    </Card>
  );
}
