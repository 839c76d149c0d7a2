'use client';
// Add (or replace) a DHCP reservation for any MAC on the private network — not only VMs pvmlab created —
// optionally with the default (live) boot profile in the same step.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button } from '../ui/bits';
import { errorText, useToast } from '../ui/toast';
import { catalogueOf } from '@/server/lab/up/catalogue';

const field = 'mono rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-950 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500';

/** What a profile means, in words (pure). */
export function profileLabel(p: { kind: string; kernel?: string; cmdline?: string }): string {
  if (p.kind === 'exit') return 'none — boots nothing until it gets one';
  const entry = catalogueOf(p);
  if (entry === 'live') return 'live (the default boot profile)';
  if (entry) return `${entry} (catalogue)`;
  if (p.kind === 'kernel') return `${p.kernel} ${p.cmdline ?? ''}`.trim();
  return 'custom iPXE script';
}

export function AddReservation({ canLive }: { canLive: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [mac, setMac] = useState('');
  const [ip, setIp] = useState('');
  const [hostname, setHostname] = useState('');
  const [live, setLive] = useState(canLive);
  const liveProfile = useMutation(trpc.pxe.catalogueProfile.mutationOptions());
  const set = useMutation(trpc.pxe.reservations.set.mutationOptions({
    onSuccess: async (r) => {
      if (live) await liveProfile.mutateAsync({ mac: r.mac, name: 'live' }).catch((e: unknown) => toast('error', `reserved, but the live profile failed: ${errorText(e)}`));
      toast('info', `reserved ${r.ip} for ${r.mac}`);
      setMac(''); setIp(''); setHostname('');
    },
    onError: (e) => toast('error', errorText(e)),
    onSettled: () => { void qc.invalidateQueries(); },
  }));
  return (
    <form className="flex flex-wrap items-end gap-2 text-sm" data-testid="add-reservation"
      onSubmit={(e) => { e.preventDefault(); set.mutate({ mac, ip, hostname, profile: { kind: 'exit' } }); }}>
      <label className="grid gap-1">MAC<input className={field} value={mac} onChange={(e) => setMac(e.target.value)} placeholder="52:54:00:aa:bb:cc" required /></label>
      <label className="grid gap-1">IP<input className={field} value={ip} onChange={(e) => setIp(e.target.value)} placeholder="192.168.100.30" required /></label>
      <label className="grid gap-1">Hostname<input className={field} value={hostname} onChange={(e) => setHostname(e.target.value)} placeholder="metal1" required /></label>
      <label className="flex items-center gap-1 pb-1.5" title={canLive ? undefined : 'the provisioner must run to serve the live image'}>
        <input type="checkbox" checked={live && canLive} disabled={!canLive} onChange={(e) => setLive(e.target.checked)} /> boot the default live profile
      </label>
      <Button type="submit" variant="primary" disabled={set.isPending || liveProfile.isPending}>{set.isPending || liveProfile.isPending ? 'Saving…' : 'Add reservation'}</Button>
    </form>
  );
}
