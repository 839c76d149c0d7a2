'use client';
// /vms/<name>/timeline: the boot flight recorder — one boot's stages on a time axis, where it stopped and why, and
// every DHCP / TFTP / HTTP / console event behind them. Refreshes itself while a boot is in progress.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button, Card, Empty } from '../ui/bits';
import { TimelineChart } from './timeline-chart';
import { useVmName } from './vm-page';

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function TimelineView() {
  const name = useVmName();
  const trpc = useTRPC();
  const [boot, setBoot] = useState(-1);
  const q = useQuery(trpc.vm.timeline.queryOptions({ name, boot }, {
    retry: false,
    refetchInterval: (query) => (query.state.data?.diagnosis.inProgress ? 3000 : false),
  }));
  const t = q.data;
  if (q.isError) return <Card title="Boot timeline"><p className="text-sm text-zinc-500" data-testid="timeline-error">{q.error.message}</p></Card>;
  if (!t) return <Card title="Boot timeline"><Empty>{q.isPending ? 'Reading the console and the pxeboot stack\'s logs…' : 'No timeline.'}</Empty></Card>;
  const d = t.diagnosis;
  const idx = t.boot;
  return (
    <div className="grid gap-4">
      <Card title="Boot timeline" actions={
        <div className="flex items-center gap-2 text-sm">
          <Button className="px-2 py-1 text-xs" disabled={idx <= 0} onClick={() => setBoot(idx - 1)} data-testid="timeline-prev">‹ Earlier</Button>
          <span data-testid="timeline-boot">boot {idx + 1} of {t.boots}</span>
          <Button className="px-2 py-1 text-xs" disabled={idx >= t.boots - 1} onClick={() => setBoot(idx + 1 === t.boots - 1 ? -1 : idx + 1)} data-testid="timeline-next">Later ›</Button>
          <Button className="px-2 py-1 text-xs" onClick={() => void q.refetch()} disabled={q.isFetching} data-testid="timeline-refresh">{q.isFetching ? 'Reading…' : 'Refresh'}</Button>
        </div>}>
        <p className="mb-2 text-sm text-zinc-500">
          {t.bootKind} <span className="mono">{t.poweredOnAt}</span> · <span className="mono">{t.mac}</span>{t.ip && <> · <span className="mono">{t.ip}</span></>}
          {t.path && <> · path <span className="mono" data-testid="timeline-path">{t.path}</span></>}
        </p>
        <div role={d.ok ? 'status' : 'alert'} data-testid="timeline-diagnosis" data-stage={d.stage ?? ''} data-ok={d.ok ? 'yes' : 'no'}
          className={`mb-3 rounded-md px-3 py-2 text-sm ${d.ok ? 'bg-emerald-50 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300' : d.inProgress ? 'bg-amber-50 text-amber-800 dark:bg-amber-950 dark:text-amber-300' : 'bg-red-50 text-red-800 dark:bg-red-950 dark:text-red-300'}`}>
          {d.ok ? `Reached its ready marker.` : d.inProgress ? `Booting — ${d.stage}…` : <>Stopped at <b>{t.stages.find((x) => x.id === d.stage)?.label ?? d.stage}</b>: {d.cause}{d.hint && <span className="block text-xs opacity-80">{d.hint}</span>}</>}
        </div>
        {t.stages.length ? <TimelineChart stages={t.stages} /> : <Empty>Nothing seen since power-on.</Empty>}
        <table className="mt-3 w-full text-sm" data-testid="timeline-stages">
          <thead><tr className="text-left text-zinc-500"><th className="py-1">Stage</th><th>Start</th><th>Took</th><th>Detail</th></tr></thead>
          <tbody>
            {t.stages.map((s) => (
              <tr key={`${s.id}-${s.start}`} data-stage={s.id} data-status={s.status} className={`border-t border-zinc-100 dark:border-zinc-800 ${s.status === 'failed' ? 'text-red-700 dark:text-red-400' : ''}`}>
                <td className="py-1">{s.label}</td><td className="mono text-xs">{sec(s.start)}</td><td className="mono text-xs">{sec(s.end - s.start)}</td><td className="text-xs">{s.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="mt-2 text-xs text-zinc-500" data-testid="timeline-clock">
          Clock: {t.clock.provisionerOffsetMs === null ? 'the provisioner was not read' : `provisioner ${t.clock.provisionerOffsetMs} ms ± ${t.clock.uncertaintyMs} ms vs the host`}; console {t.clock.consoleTimed ? 'timed' : 'not timed'}.
          {t.clock.notes.map((n) => <span key={n} className="block">{n}</span>)}
        </p>
      </Card>
      <Card title="Events">
        <table className="w-full text-xs" data-testid="timeline-events">
          <thead><tr className="text-left text-zinc-500"><th className="py-1">t</th><th>Source</th><th>Event</th><th>Detail</th></tr></thead>
          <tbody>
            {t.events.map((e, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: events have no identity beyond their place in the boot
              <tr key={i} className={`border-t border-zinc-100 dark:border-zinc-800 ${e.bad ? 'text-red-700 dark:text-red-400' : ''}`}>
                <td className="mono whitespace-nowrap py-0.5 pr-3">{sec(e.t)}</td><td className="pr-3">{e.source}</td><td className="mono whitespace-nowrap pr-3">{e.label}</td><td className="mono break-all">{e.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
