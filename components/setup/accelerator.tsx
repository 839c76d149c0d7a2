'use client';
// The accelerator per guest arch, as the doctor's probe proved it: the choice, what was tried and why each
// rejected one lost, and the lab's override (auto / kvm / hvf / tcg, optional CPU model).
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button, Card, StatusChip } from '../ui/bits';
import { errorText, useToast } from '../ui/toast';
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@/server/api/root';

type Doctor = inferRouterOutputs<AppRouter>['host']['doctor'];
const MODES = ['auto', 'kvm', 'hvf', 'tcg'] as const;
type Mode = (typeof MODES)[number];
const SOURCE: Record<string, string> = { probe: 'proven by the probe', env: 'PVMLAB_ACCEL', 'lab-config': 'lab setting', vm: 'VM setting' };

export function AcceleratorCard({ doctor }: { doctor: Doctor }) {
  const override = doctor.accelOverride;
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [mode, setMode] = useState<Mode>(override.mode);
  const [cpu, setCpu] = useState(override.cpu ?? '');
  const save = useMutation(trpc.host.setAccelerator.mutationOptions({
    onSuccess: (r) => { qc.setQueryData(trpc.host.doctor.queryKey(), r); toast('info', `accelerator: ${mode}${mode !== 'auto' && cpu ? ` (-cpu ${cpu})` : ''} — applies to VMs started from now on`); },
    onError: (e) => toast('error', errorText(e)),
  }));
  const p = doctor.accelProbe;
  return (
    <Card title="Accelerator">
      <p className="mb-3 text-sm text-zinc-500" data-testid="accel-probe">
        Proven by booting a guest under each candidate: {p.cached ? `cached verdict of ${p.probedAt}` : `probed at ${p.probedAt} in ${(p.durationMs / 1000).toFixed(1)} s`}. Re-check runs the probe again.
      </p>
      <table className="w-full text-sm" data-testid="accelerators">
        <thead><tr className="text-left text-zinc-500"><th className="py-1">Guest</th><th>Uses</th><th>CPU model</th><th>Why</th></tr></thead>
        <tbody>
          {(['x86_64', 'aarch64'] as const).map((arch) => {
            const a = doctor.accelerators[arch];
            const rejected = a.tried.filter((t) => !t.ok);
            return (
              <tr key={arch} className="border-t border-zinc-100 align-top dark:border-zinc-800" data-arch={arch}>
                <td className="py-1 mono">{arch}</td>
                <td><span className="mono font-semibold" data-testid="arch-accel">{a.accelerator}</span> <span className="text-xs text-zinc-500">({SOURCE[a.source] ?? a.source})</span></td>
                <td className="mono text-xs">{a.cpu}</td>
                <td className="text-xs">
                  {rejected.length > 0 && (
                    <ul className="mb-1 grid gap-1" data-testid="rejected">
                      {rejected.map((t) => (
                        <li key={`${t.accel}-${t.cpu}`}>
                          <StatusChip status="rejected" /> <span className="mono">{t.accel} ({t.cpu})</span>: {t.symptom}
                          {t.advice && <div className="text-zinc-500">→ {t.advice}</div>}
                        </li>
                      ))}
                    </ul>
                  )}
                  <span className="text-zinc-500">{a.kernel ? `booted ${a.kernel}` : 'no kernel at hand: the firmware was run instead'}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <form className="mt-3 flex flex-wrap items-end gap-2 text-sm" onSubmit={(e) => { e.preventDefault(); save.mutate({ mode, cpu: mode === 'auto' || !cpu.trim() ? null : cpu.trim() }); }}>
        <label className="grid gap-1">
          <span className="text-xs text-zinc-500">Override for this lab</span>
          <select aria-label="accelerator override" value={mode} onChange={(e) => setMode(e.target.value as Mode)}
            className="rounded-md border border-zinc-300 bg-white px-2 py-1 dark:border-zinc-700 dark:bg-zinc-800">
            {MODES.map((m) => <option key={m} value={m}>{m === 'auto' ? 'auto (the probe decides)' : m}</option>)}
          </select>
        </label>
        <label className="grid gap-1">
          <span className="text-xs text-zinc-500">CPU model (optional)</span>
          <input aria-label="cpu model" value={cpu} disabled={mode === 'auto'} onChange={(e) => setCpu(e.target.value)} placeholder="host, max, qemu64…"
            className="mono rounded-md border border-zinc-300 bg-white px-2 py-1 disabled:opacity-50 dark:border-zinc-700 dark:bg-zinc-800" />
        </label>
        <Button type="submit" disabled={save.isPending}>Save</Button>
        <span className="text-xs text-zinc-500">PVMLAB_ACCEL overrides this for one process; <span className="mono">vm create --accel</span> for one VM.</span>
      </form>
    </Card>
  );
}
