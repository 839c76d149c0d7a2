'use client';
// /pxe: the pxeboot container, reservations with boot profiles, live leases, artifacts.
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useTRPC } from '../trpc';
import { Button, Card, Empty, StatusChip } from '../ui/bits';
import { loadersFor, profileCmdlineProblem } from '@/server/lab/provisioner/cmdline';
import { BOOT_CATALOGUE } from '@/server/lab/up/catalogue';
import { errorText, useToast } from '../ui/toast';
import { ArtifactsCard } from './artifacts';
import { AddReservation, profileLabel } from './add-reservation';
import { ExplainCard } from './explain';

export function PxeView() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const vms = useQuery(trpc.vm.list.queryOptions());
  const prov = vms.data?.find((v) => v.role === 'provisioner');
  const running = prov?.status === 'running';
  const docker = useQuery({ ...trpc.provisioner.docker.status.queryOptions(), enabled: running, retry: false });
  const logs = useQuery({ ...trpc.provisioner.docker.logs.queryOptions({ tail: 100 }), enabled: running, retry: false });
  const reservations = useQuery(trpc.pxe.reservations.list.queryOptions());
  const leases = useQuery({ ...trpc.pxe.leases.queryOptions(), enabled: running, retry: false });
  const refresh = () => { void qc.invalidateQueries(); };
  useSubscription(trpc.pxe.events.subscriptionOptions(undefined, { onData: refresh }));
  useSubscription(trpc.vm.events.subscriptionOptions(undefined, { onData: refresh }));
  const onErr = { onError: (e: unknown) => toast('error', errorText(e)), onSettled: refresh };
  const start = useMutation(trpc.provisioner.docker.start.mutationOptions(onErr));
  const stop = useMutation(trpc.provisioner.docker.stop.mutationOptions(onErr));
  const restart = useMutation(trpc.provisioner.docker.restart.mutationOptions(onErr));
  const remove = useMutation(trpc.pxe.reservations.remove.mutationOptions(onErr));
  const busy = start.isPending || stop.isPending || restart.isPending;

  if (vms.data && !prov) {
    return <div className="grid gap-4"><h1 className="text-xl font-semibold">PXE</h1><Empty>No provisioner yet — create one on the Lab page; it runs the PXE stack.</Empty></div>;
  }
  const c = docker.data?.container;
  return (
    <div className="grid gap-4">
      <h1 className="text-xl font-semibold">PXE</h1>
      <Card title="pxeboot container" actions={<>
        <Button onClick={() => start.mutate()} disabled={!running || busy}>Start</Button>
        <Button onClick={() => stop.mutate()} disabled={!running || busy}>Stop</Button>
        <Button onClick={() => restart.mutate()} disabled={!running || busy}>Restart</Button>
      </>}>
        {!running ? <p className="text-sm text-zinc-500">The provisioner <span className="mono">{prov?.name}</span> is {prov?.status}: start it to see the container.</p> : (
          <div className="grid gap-2 text-sm">
            <p data-testid="container-status">Container <span className="mono">pxeboot</span>: <StatusChip status={c?.running ? 'running' : c?.status ?? 'unknown'} /> {c?.health && <span className="text-zinc-500">health: {c.health}</span>}</p>
            <pre className="mono max-h-64 overflow-auto rounded bg-zinc-950 p-2 text-xs text-zinc-200" data-testid="container-logs">{logs.data ?? '…'}</pre>
          </div>
        )}
      </Card>
      <Card title="Reservations and boot profiles">
        <div className="mb-3"><AddReservation canLive={running} /></div>
        {!reservations.data?.length ? <Empty>No reservations. A target created with boot “pxe” gets one automatically; any other machine on the private network can get one above.</Empty> : (
          <table className="w-full text-sm">
            <thead><tr className="text-left text-zinc-500"><th className="py-1">Host</th><th>MAC</th><th>IP</th><th>Profile</th><th /></tr></thead>
            <tbody>
              {reservations.data.map((r) => (
                <tr key={r.mac} className="border-t border-zinc-100 dark:border-zinc-800">
                  <td className="py-1">{r.hostname}</td>
                  <td className="mono">{r.mac}</td>
                  <td className="mono">{r.ip}</td>
                  <td><ProfileEditor mac={r.mac} profile={r.profile} arch={vms.data?.find((v) => v.mac === r.mac)?.arch ?? null} /></td>
                  <td><Button variant="danger" onClick={() => remove.mutate({ mac: r.mac })}>Remove</Button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <ExplainCard choices={(reservations.data ?? []).map((r) => ({ value: r.hostname, label: `${r.mac} ${r.ip}` }))} />
      <Card title="Leases (live)">
        {!running ? <p className="text-sm text-zinc-500">Leases are read from the running provisioner.</p> : !leases.data?.length ? <Empty>No leases yet.</Empty> : (
          <table className="w-full text-sm" data-testid="leases">
            <thead><tr className="text-left text-zinc-500"><th className="py-1">IP</th><th>MAC</th><th>Host</th><th>Expires</th></tr></thead>
            <tbody>{leases.data.map((l) => (
              <tr key={l.mac} className="border-t border-zinc-100 dark:border-zinc-800"><td className="mono py-1">{l.ip}</td><td className="mono">{l.mac}</td><td>{l.hostname ?? '—'}</td><td className="mono text-xs">{l.expires ?? 'never'}</td></tr>
            ))}</tbody>
          </table>
        )}
      </Card>
      <ArtifactsCard enabled={running} />
    </div>
  );
}

function ProfileEditor({ mac, profile, arch }: { mac: string; profile: { kind: string; kernel?: string; initrd?: string; cmdline?: string; script?: string }; arch: 'x86_64' | 'aarch64' | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState(profile.kind);
  const [kernel, setKernel] = useState(profile.kernel ?? '');
  const [initrd, setInitrd] = useState(profile.initrd ?? '');
  const [cmdline, setCmdline] = useState(profile.cmdline ?? '');
  const [script, setScript] = useState(profile.script ?? '#!ipxe\n');
  const save = useMutation(trpc.pxe.profile.mutationOptions({
    onError: (e) => toast('error', errorText(e)),
    onSuccess: () => { setOpen(false); toast('info', 'profile saved'); void qc.invalidateQueries(); },
  }));
  const live = useMutation(trpc.pxe.catalogueProfile.mutationOptions({
    onError: (e) => toast('error', errorText(e)),
    onSuccess: () => { setOpen(false); toast('info', 'the catalogue profile is set'); void qc.invalidateQueries(); },
  }));
  // The server's rule (server/lab/provisioner/cmdline.ts): the loader(s) this target boots with must carry the line unchanged.
  const cmdlineError = kind === 'kernel' ? profileCmdlineProblem(cmdline.trim(), loadersFor(arch)) : null;
  if (!open) return <button type="button" className="text-left text-sky-600 hover:underline" data-testid="profile" onClick={() => setOpen(true)}><span className={profile.kind === 'kernel' ? 'mono' : ''}>{profileLabel(profile)}</span></button>;
  // The boot catalogue's entries this target's arch can boot (a MAC without a VM: every entry).
  const catalogue = BOOT_CATALOGUE.filter((e) => !arch || e.arches.includes(arch));
  const submit = () => catalogue.some((e) => e.name === kind) ? live.mutate({ mac, name: kind as Parameters<typeof live.mutate>[0]["name"] }) : save.mutate({ mac, profile: kind === 'kernel' ? { kind, kernel, initrd: initrd || undefined, cmdline } : kind === 'script' ? { kind, script } : { kind: 'exit' as const } });
  return (
    <div className="grid gap-1">
      <select value={kind} onChange={(e) => setKind(e.target.value)} className="rounded border px-1 dark:bg-zinc-800">
        <option value="exit">none (iPXE exits: boots nothing from the network)</option>{catalogue.map((e) => <option key={e.name} value={e.name}>{e.name === 'live' ? 'live (the default boot profile)' : `${e.name}: ${e.description}`}</option>)}<option value="kernel">kernel + initrd</option><option value="script">custom iPXE script</option>
      </select>
      {kind === 'kernel' && <>
        <input aria-label="kernel artifact" placeholder="kernel artifact (e.g. vmlinuz)" value={kernel} onChange={(e) => setKernel(e.target.value)} className="mono rounded border px-1 dark:bg-zinc-800" />
        <input aria-label="initrd artifact" placeholder="initrd artifact (optional)" value={initrd} onChange={(e) => setInitrd(e.target.value)} className="mono rounded border px-1 dark:bg-zinc-800" />
        <input aria-label="kernel command line" placeholder="console=ttyS0 …" value={cmdline} onChange={(e) => setCmdline(e.target.value)} aria-invalid={!!cmdlineError} className="mono rounded border px-1 dark:bg-zinc-800" />
        {cmdlineError && <p className="text-xs text-red-600" data-testid="cmdline-error">{cmdlineError}</p>}
      </>}
      {kind === 'script' && <textarea aria-label="iPXE script" rows={5} value={script} onChange={(e) => setScript(e.target.value)} className="mono rounded border px-1 text-xs dark:bg-zinc-800" />}
      <div className="flex gap-2"><Button variant="primary" onClick={submit} disabled={save.isPending || live.isPending || !!cmdlineError}>{live.isPending ? 'Fetching and uploading…' : 'Save'}</Button><Button onClick={() => setOpen(false)}>Cancel</Button></div>
    </div>
  );
}
