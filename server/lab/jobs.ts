// Long operations (downloads, image builds, VM starts with stages): progress, cancel, events on the bus.
import crypto from 'node:crypto';
import type { Bus } from './bus.ts';

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

export interface JobProgress { done: number; total: number | null; unit: 'bytes' | 'steps'; rate?: number; etaSeconds?: number | null }

export interface JobView {
  id: string;
  kind: string;
  title: string;
  vm: string | null;
  state: JobState;
  stage: string;
  stages: { name: string; at: string }[];
  progress: JobProgress | null;
  error: string | null;
  log: string[];
  startedAt: string;
  endedAt: string | null;
}

export interface JobHandle {
  readonly id: string;
  readonly signal: AbortSignal;
  stage(name: string): void;
  progress(p: JobProgress): void;
  log(line: string): void;
}

const KEEP_FINISHED = 50;
const LOG_LINES = 200;

export class Jobs {
  private jobs = new Map<string, { view: JobView; ctl: AbortController }>();
  constructor(private bus: Bus) {}

  list(): JobView[] {
    return [...this.jobs.values()].map((j) => j.view).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  get(id: string): JobView | null { return this.jobs.get(id)?.view ?? null; }

  cancel(id: string): boolean {
    const j = this.jobs.get(id);
    if (j?.view.state !== 'running') return false;
    j.ctl.abort(new Error('cancelled'));
    return true;
  }

  /** Cancel every running job of a VM (a stopped VM's readiness must not go on polling). */
  cancelFor(vm: string): number {
    let n = 0;
    for (const j of this.jobs.values()) if (j.view.vm === vm && j.view.state === 'running') { j.ctl.abort(new Error('cancelled: the VM was stopped')); n++; }
    return n;
  }

  /** Run fn as a job; resolves with fn's value (or rejects) while the job's view records how it went. */
  async run<T>(meta: { kind: string; title: string; vm?: string }, fn: (h: JobHandle) => Promise<T>, listener?: (v: JobView) => void): Promise<T> {
    const id = crypto.randomUUID();
    const ctl = new AbortController();
    const now = () => new Date().toISOString();
    const view: JobView = { id, kind: meta.kind, title: meta.title, vm: meta.vm ?? null, state: 'running', stage: 'starting', stages: [],
      progress: null, error: null, log: [], startedAt: now(), endedAt: null };
    this.jobs.set(id, { view, ctl });
    let last = 0;
    const changed = (force = false) => {
      const t = Date.now();
      if (!force && t - last < 200) return; // progress at most 5×/s
      last = t;
      this.bus.emit('job', { id });
      listener?.(view);
    };
    const handle: JobHandle = {
      id,
      signal: ctl.signal,
      stage(name) { view.stage = name; view.stages.push({ name, at: now() }); view.progress = null; changed(true); },
      progress(p) { view.progress = p; changed(); },
      log(line) { view.log.push(line); if (view.log.length > LOG_LINES) view.log.shift(); changed(); },
    };
    changed(true);
    try {
      const r = await fn(handle);
      view.state = 'done';
      return r;
    } catch (e) {
      view.state = ctl.signal.aborted ? 'cancelled' : 'failed';
      view.error = (e as Error).message;
      throw e;
    } finally {
      view.endedAt = now();
      changed(true);
      this.prune();
    }
  }

  private prune(): void {
    // Oldest by end time: a long job that just finished is news, even if it started before the others.
    const finished = [...this.jobs.values()].filter((j) => j.view.state !== 'running')
      .sort((a, b) => a.view.endedAt!.localeCompare(b.view.endedAt!));
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.view.id);
  }
}
