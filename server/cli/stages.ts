// Stage lines for long CLI operations: a line when a stage ENDS, with how long it took
// ("  ✓ prov ssh                     12.3 s"), so a line never reads as if something were ready before it is.
import type { JobHandle } from '../lab/lab.ts';

/** "850 ms", "12.3 s", "2 min 05 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** One finished stage as a line (pure). */
export function stageLine(name: string, ms: number, ok = true): string {
  return ok ? `  ✓ ${name.padEnd(30)} ${formatDuration(ms).padStart(10)}` : `  ✗ ${name.padEnd(30)} failed after ${formatDuration(ms)}`;
}

export interface StagePrinter {
  /** Wraps a job handle: each stage() call ends the previous stage (printed) and starts the next. */
  handle: JobHandle;
  /** Ends the current stage now (✓), e.g. before printing something that follows it; the next stage() starts afresh. */
  flush(): void;
  /** Ends the last stage (✓ or ✗); returns the whole duration in ms. */
  finish(ok: boolean): number;
}

/** Print stage ends to `out` (stderr by default); log lines that matter to people (`keep`) are printed too. */
export function stagePrinter(inner: JobHandle, opts: { out?: (line: string) => void; keep?: (line: string) => boolean; now?: () => number } = {}): StagePrinter {
  const out = opts.out ?? ((l: string) => process.stderr.write(l + '\n'));
  const now = opts.now ?? Date.now;
  const t0 = now();
  let current: { name: string; at: number } | null = null;
  const end = (ok: boolean) => { if (current) out(stageLine(current.name, now() - current.at, ok)); current = null; };
  const handle: JobHandle = {
    id: inner.id,
    signal: inner.signal,
    stage(name) { end(true); current = { name, at: now() }; inner.stage(name); },
    progress(p) { inner.progress(p); },
    log(line) { if (opts.keep?.(line)) out(`    ${line}`); inner.log(line); },
  };
  return { handle, flush() { end(true); }, finish(ok) { end(ok); return now() - t0; } };
}
