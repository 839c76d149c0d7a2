'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button, Card, StatusChip } from '../ui/bits';
import { errorText, useToast } from '../ui/toast';

export function NetworkCard() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const status = useQuery(trpc.network.status.queryOptions());
  const cfg = useQuery(trpc.lab.config.queryOptions());
  const opts = { onError: (e: unknown) => toast('error', errorText(e)), onSuccess: () => qc.invalidateQueries({ queryKey: trpc.network.status.queryKey() }) };
  const start = useMutation(trpc.network.start.mutationOptions(opts));
  const stop = useMutation(trpc.network.stop.mutationOptions(opts));
  const s = status.data;
  const n = cfg.data?.network;
  return (
    <Card title="Network service" actions={<>
      <Button onClick={() => start.mutate()} disabled={start.isPending}>Start</Button>
      <Button onClick={() => stop.mutate()} disabled={stop.isPending}>Stop</Button>
      <Button onClick={() => status.refetch()}>Status</Button>
    </>}>
      {s && (
        <div className="grid gap-1 text-sm" data-testid="network">
          <p><span className="mono">{s.backend}</span> <StatusChip status={s.running ? 'running' : 'stopped'} /> — {s.detail}</p>
          {s.hint && <p className="text-zinc-500">Next: <span className="mono">{s.hint}</span></p>}
          {s.backend === 'userspace' && (
            <p className="text-amber-700 dark:text-amber-400" data-testid="network-exposure">
              Shared with every local user: any process on this computer, of any user, can join the lab&apos;s multicast
              group on 127.0.0.1 and read or inject the private network&apos;s frames (DHCP, TFTP, boot files). Use it where
              you trust the local users — see docs/network-threat.md.
            </p>
          )}
          {n && <p className="text-zinc-500">Private network <span className="mono">{n.subnet}</span>, provisioner <span className="mono">{n.provisionerIp}</span>, DHCP range <span className="mono">{n.dhcpStart}–{n.dhcpEnd}</span></p>}
        </div>
      )}
    </Card>
  );
}
