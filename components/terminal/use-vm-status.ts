'use client';
// A VM's status, live: the first answer of vm.get, then the tRPC event subscription (one per tab).
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useTRPC } from '../trpc';
import type { StreamSocket, StreamState } from './stream-socket';

export interface VmStatusInfo {
  /** undefined while unknown; 'missing' when there is no such VM. */
  status: string | undefined;
  /** Bumped every time the VM (re)enters 'running'. */
  runs: number;
}

export function useVmStatus(name: string): VmStatusInfo {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.vm.get.queryOptions({ name }), retry: false, staleTime: 0 });
  const [live, setLive] = useState<string | undefined>(undefined);
  const [runs, setRuns] = useState(0);
  const last = useRef<string | undefined>(undefined);
  useSubscription(trpc.vm.events.subscriptionOptions(undefined, {
    onData: (e) => {
      if (e.name !== name) return;
      const status = e.status === 'removed' ? 'missing' : e.status;
      setLive(status);
    },
  }));
  const status = live ?? (q.isError ? 'missing' : q.data?.status);
  useEffect(() => {
    if (status === 'running' && last.current !== 'running' && last.current !== undefined) setRuns((n) => n + 1);
    last.current = status;
  }, [status]);
  return { status, runs };
}

/**
 * Connect a console again when its VM (re)starts. Returns an onState handler that also covers the race
 * where the server refused (4409, "not running") just as the VM came up: a few spaced retries while the
 * panel says the VM runs.
 */
export function useReconnectOnRun(status: string | undefined, runs: number, sock: RefObject<StreamSocket | null>): (s: StreamState) => void {
  const statusRef = useRef(status);
  statusRef.current = status;
  const retries = useRef(0);
  useEffect(() => {
    retries.current = 0;
    if (runs > 0) sock.current?.reconnectNow();
  }, [runs, sock]);
  return useCallback((s: StreamState) => {
    if (s.phase === 'live') return;
    if (s.phase !== 'closed' || s.code !== 4409 || statusRef.current !== 'running' || retries.current >= 5) return;
    const delay = 500 * 2 ** retries.current++;
    setTimeout(() => { if (statusRef.current === 'running') sock.current?.reconnectNow(); }, delay);
  }, [sock]);
}
