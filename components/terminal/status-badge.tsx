'use client';
// The state of a byte stream (components/terminal/stream-socket.ts) as a small badge with its reason.
import { useEffect, useState } from 'react';
import type { StreamState } from './stream-socket';

const STYLE: Record<StreamState['phase'], string> = {
  connecting: 'bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300',
  live: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300',
  reconnecting: 'bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300',
  closed: 'bg-zinc-200 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300',
};

/** Seconds until `at`, ticking while it is in the future. */
function useCountdown(at: number | undefined): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!at) return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [at]);
  if (!at) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export function StreamBadge({ state, label = 'stream' }: { state: StreamState; label?: string }) {
  const secs = useCountdown(state.phase === 'reconnecting' ? state.retryAt : undefined);
  const text = state.phase === 'reconnecting' && secs !== null && secs > 0 ? `reconnecting in ${secs} s` : state.phase;
  return (
    <span className="inline-flex min-w-0 items-center gap-2 text-xs" data-testid={`${label}-state`} data-phase={state.phase}
      title={state.reason ?? undefined}>
      <span className={`inline-flex shrink-0 items-center gap-1 rounded-full px-2 py-0.5 font-medium ${STYLE[state.phase]}`}>
        <span aria-hidden className={`h-1.5 w-1.5 rounded-full ${state.phase === 'live' ? 'bg-emerald-500' : state.phase === 'closed' ? 'bg-zinc-500' : 'animate-pulse bg-amber-500'}`} />
        {text}
      </span>
      {state.phase !== 'live' && state.reason && (
        <span className="truncate text-zinc-600 dark:text-zinc-400" data-testid={`${label}-reason`}>{state.reason}</span>
      )}
    </span>
  );
}
