import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bus } from './bus.ts';
import { Jobs, type JobView } from './jobs.ts';

afterEach(() => { vi.useRealTimers(); });

function setup() {
  const bus = new Bus();
  const jobs = new Jobs(bus);
  const events: string[] = [];
  bus.on('job', (e) => events.push(e.id));
  return { bus, jobs, events };
}

/** A job that runs until the test lets it finish. */
function deferred<T = void>() {
  let resolve!: (v: T) => void, reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

describe('Jobs', () => {
  it('records stages, progress and log lines, and ends done with the value', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-01T10:00:00.000Z'));
    const { jobs, events } = setup();
    const gate = deferred();
    const seen: string[] = [];
    const run = jobs.run({ kind: 'image', title: 'Download debian', vm: 'vm1' }, async (h) => {
      h.stage('download');
      vi.setSystemTime(new Date('2026-03-01T10:00:01.000Z'));
      h.progress({ done: 10, total: 100, unit: 'bytes' });
      h.log('fetched headers');
      await gate.promise;
      h.stage('verify');
      return 'sha256:ok';
    }, (v) => seen.push(`${v.state}:${v.stage}`));
    const id = jobs.list()[0].id;
    expect(jobs.get(id)).toMatchObject({ state: 'running', stage: 'download', progress: { done: 10, total: 100, unit: 'bytes' }, log: ['fetched headers'] });
    vi.setSystemTime(new Date('2026-03-01T10:00:02.000Z'));
    gate.resolve();
    expect(await run).toBe('sha256:ok');
    const v = jobs.get(id)!;
    expect(v).toEqual({
      id, kind: 'image', title: 'Download debian', vm: 'vm1', state: 'done', stage: 'verify',
      stages: [{ name: 'download', at: '2026-03-01T10:00:00.000Z' }, { name: 'verify', at: '2026-03-01T10:00:02.000Z' }],
      progress: null, error: null, log: ['fetched headers'], startedAt: '2026-03-01T10:00:00.000Z', endedAt: '2026-03-01T10:00:02.000Z',
    } satisfies JobView);
    // start, download, progress (1 s later), log throttled (same instant), verify, end
    expect(seen).toEqual(['running:starting', 'running:download', 'running:download', 'running:verify', 'done:verify']);
    expect(events).toEqual(Array(5).fill(id));
  });

  it('throttles progress events to 5 per second but never drops a stage or the end', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-01T10:00:00.000Z'));
    const { jobs, events } = setup();
    let n = 0;
    await jobs.run({ kind: 'k', title: 't' }, async (h) => {
      for (let ms = 0; ms < 1000; ms += 50) { // 20 updates over one second
        vi.setSystemTime(new Date(Date.parse('2026-03-01T10:00:00.000Z') + ms));
        h.progress({ done: ms, total: 1000, unit: 'bytes' });
        n++;
      }
      h.stage('next');
    });
    expect(n).toBe(20);
    // the start (t=0) swallows the update at t=0; then t=200,400,600,800 pass; the stage and the end always.
    expect(events.length).toBe(1 + 4 + 1 + 1);
  });

  it('reports a failure with its message and rethrows it', async () => {
    const { jobs } = setup();
    const err = new Error('disk full: free 2 GiB and retry');
    await expect(jobs.run({ kind: 'k', title: 't' }, async (h) => { h.stage('write'); throw err; })).rejects.toBe(err);
    expect(jobs.list()[0]).toMatchObject({ state: 'failed', stage: 'write', error: 'disk full: free 2 GiB and retry' });
    expect(jobs.list()[0].endedAt).not.toBe(null);
  });

  it('cancels a running job through its signal; a finished or unknown job cannot be cancelled', async () => {
    const { jobs } = setup();
    let id = '';
    const run = jobs.run({ kind: 'k', title: 't' }, (h) => {
      id = h.id;
      return new Promise((_, reject) => h.signal.addEventListener('abort', () => reject(h.signal.reason)));
    });
    expect(jobs.get(id)!.state).toBe('running');
    expect(jobs.cancel(id)).toBe(true);
    await expect(run).rejects.toThrow('cancelled');
    expect(jobs.get(id)).toMatchObject({ state: 'cancelled', error: 'cancelled' });
    expect(jobs.cancel(id)).toBe(false);
    expect(jobs.cancel('no-such-job')).toBe(false);
    await jobs.run({ kind: 'k', title: 'done' }, async () => 1);
    expect(jobs.cancel(jobs.list().find((j) => j.title === 'done')!.id)).toBe(false);
  });

  it('keeps the last 200 log lines', async () => {
    const { jobs } = setup();
    await jobs.run({ kind: 'k', title: 't' }, async (h) => { for (let i = 0; i < 250; i++) h.log(`line ${i}`); });
    const log = jobs.list()[0].log;
    expect(log.length).toBe(200);
    expect(log[0]).toBe('line 50');
    expect(log[199]).toBe('line 249');
  });

  it('prunes the oldest finished jobs beyond 50, never a running one, and lists newest first', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { jobs } = setup();
    const t0 = Date.parse('2026-03-01T10:00:00.000Z');
    vi.setSystemTime(t0);
    const gate = deferred();
    const long = jobs.run({ kind: 'k', title: 'long' }, () => gate.promise);
    for (let i = 0; i < 55; i++) {
      vi.setSystemTime(t0 + (i + 1) * 1000);
      await jobs.run({ kind: 'k', title: `job ${i}` }, async () => i).catch(() => {});
    }
    const titles = jobs.list().map((j) => j.title);
    expect(titles.length).toBe(51);
    expect(titles[0]).toBe('job 54');
    expect(titles[49]).toBe('job 5'); // jobs 0–4 pruned
    expect(titles[50]).toBe('long'); // the oldest, still running, kept
    vi.setSystemTime(t0 + 100_000);
    gate.resolve();
    await long;
    const after = jobs.list().map((j) => j.title);
    expect(after.length).toBe(50);
    expect(after).not.toContain('job 5'); // the oldest finished one went when 'long' finished
    expect(after).toContain('long');
  });
});
