'use client';
// A progress bar for long operations: determinate when the total is known, indeterminate otherwise,
// with the amount, the rate and the time left in words.

export interface ProgressValue { done: number; total: number | null; unit: 'bytes' | 'steps'; rate?: number; etaSeconds?: number | null }

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '—';
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function amount(p: ProgressValue): string {
  const f = p.unit === 'bytes' ? formatBytes : (n: number) => String(n);
  const done = f(p.done);
  return p.total != null ? `${done} of ${f(p.total)}${p.unit === 'steps' ? ' steps' : ''}` : `${done}${p.unit === 'steps' ? ' steps' : ''}`;
}

export function Progress({ value, label }: { value: ProgressValue | null; label?: string }) {
  const pct = value?.total ? Math.min(100, Math.max(0, (value.done / value.total) * 100)) : null;
  const details = value ? [
    amount(value),
    value.rate ? `${value.unit === 'bytes' ? formatBytes(value.rate) : value.rate.toFixed(1)}/s` : null,
    value.etaSeconds != null ? `${formatDuration(value.etaSeconds)} left` : null,
  ].filter(Boolean).join(' · ') : null;
  return (
    <div className="grid gap-1" data-testid="progress">
      <div
        role="progressbar"
        aria-label={label ?? 'progress'}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct == null ? undefined : Math.round(pct)}
        aria-valuetext={details ?? 'working'}
        className="relative h-2 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      >
        {pct == null
          ? <div className="absolute inset-y-0 left-0 w-1/3 animate-pulse rounded-full bg-sky-500/70" />
          : <div className="h-full rounded-full bg-sky-500 transition-[width] duration-300" style={{ width: `${pct}%` }} />}
      </div>
      {(details || pct != null) && (
        <div className="flex gap-2 text-xs text-zinc-500">
          {pct != null && <span className="font-medium tabular-nums">{pct.toFixed(pct < 10 ? 1 : 0)}%</span>}
          {details && <span className="mono tabular-nums">{details}</span>}
        </div>
      )}
    </div>
  );
}
