'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useTRPC } from '../trpc';
import { Button, Card, StatusChip } from '../ui/bits';
import { errorText, useToast } from '../ui/toast';
import { AcceleratorCard } from './accelerator';

function bytes(n: number) { return `${(n / 2 ** 30).toFixed(1)} GiB`; }

export function DoctorView() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const doctor = useQuery(trpc.host.doctor.queryOptions());
  const home = useQuery(trpc.host.home.queryOptions());
  const recheck = useMutation(trpc.host.recheck.mutationOptions({ onError: (e) => toast('error', errorText(e)) }));
  useSubscription(trpc.host.events.subscriptionOptions(undefined, {
    onData: () => { void qc.invalidateQueries({ queryKey: trpc.host.doctor.queryKey() }); },
  }));
  const r = doctor.data;
  return (
    <div className="grid gap-4">
      <Card title="Host" actions={<Button onClick={() => recheck.mutate()} disabled={recheck.isPending}>{recheck.isPending ? 'Checking…' : 'Re-check'}</Button>}>
        {!r ? <p className="text-sm text-zinc-500">Checking the host…</p> : (
          <dl className="grid grid-cols-[12rem_1fr] gap-y-1 text-sm">
            <dt className="text-zinc-500">Operating system</dt><dd data-testid="host-os">{r.os.distro} ({r.os.platform} {r.os.release})</dd>
            <dt className="text-zinc-500">CPU</dt><dd data-testid="host-arch">{r.os.cpuArch}, {r.os.cpus} cores, {bytes(r.os.memoryBytes)}</dd>
            <dt className="text-zinc-500">Accelerator</dt>
            <dd><span className="mono font-semibold" data-testid="accelerator">{r.accelerator.accelerator}</span> <span className="mono text-xs">-cpu {r.accelerator.cpu}</span> — {r.accelerator.reason}</dd>
            <dt className="text-zinc-500">Checked</dt><dd data-testid="checked-at" className="mono">{r.checkedAt}</dd>
          </dl>
        )}
      </Card>
      {r && <AcceleratorCard key={`${r.accelOverride.mode}:${r.accelOverride.cpu}`} doctor={r} />}
      <Card title="Lab home">
        {home.data && (
          <p className="text-sm"><span className="mono" data-testid="home-path">{home.data.path}</span> — {bytes(home.data.freeBytes)} free of {bytes(home.data.totalBytes)}</p>
        )}
      </Card>
      <Card title="Tools">
        <table className="w-full text-sm" data-testid="tools">
          <thead><tr className="text-left text-zinc-500"><th className="py-1">Tool</th><th>Status</th><th>Version</th><th>Install</th></tr></thead>
          <tbody>
            {r?.tools.map((t) => (
              <tr key={t.name} className="border-t border-zinc-100 dark:border-zinc-800" data-tool={t.name}>
                <td className="py-1 mono">{t.name}</td>
                <td><StatusChip status={t.found ? 'ok' : 'missing'} /></td>
                <td className="mono" data-testid="tool-version">{t.found ? t.version : '—'}</td>
                <td className="mono text-xs">{t.found ? t.command : t.install}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Firmware">
        <table className="w-full text-sm">
          <tbody>
            {r?.firmware.map((f) => (
              <tr key={f.name} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="py-1">{f.name}</td>
                <td><StatusChip status={f.found ? 'ok' : 'missing'} /></td>
                <td className="mono text-xs">{f.path ? `${f.path}${f.vars ? ` + ${f.vars}` : ''}` : `${f.optional ? 'optional: ' : ''}${f.install}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
