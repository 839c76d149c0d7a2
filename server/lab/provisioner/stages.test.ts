import { describe, expect, it } from 'vitest';
import type { JobHandle } from '../jobs.ts';
import { runStages, StageFailure, StageTimeout } from './stages.ts';

function job(): JobHandle & { stages: string[]; ctl: AbortController } {
  const ctl = new AbortController();
  const stages: string[] = [];
  return { id: 'j', signal: ctl.signal, ctl, stages, stage: (n) => stages.push(n), progress: () => {}, log: () => {} };
}

describe('runStages (readiness stages as data)', () => {
  it('runs the stages in order, polling each check until it passes; a throwing check counts as not yet', async () => {
    const j = job();
    let calls = 0;
    await runStages(j, [
      { name: 'a', timeoutS: 5, check: async () => ++calls >= 3, tail: async () => '' },
      { name: 'b', timeoutS: 5, check: async () => { if (calls++ < 4) throw new Error('not up'); return true; }, tail: async () => '' },
    ], 5);
    expect(j.stages).toEqual(['a', 'b']);
    expect(calls).toBe(5);
  });

  it('a stage past its deadline is a StageTimeout naming it, with its log tail', async () => {
    const j = job();
    const err = await runStages(j, [{ name: 'ssh', timeoutS: 0.05, check: async () => false, tail: async () => 'last console line' }], 10).catch((e) => e);
    expect(err).toBeInstanceOf(StageTimeout);
    expect(err.message).toBe("provisioner not ready: stage 'ssh' did not finish within 0.05 s. Last lines:\nlast console line");
  });

  it('a StageFailure ends the run at once (no polling to the deadline), and later stages never start', async () => {
    const j = job();
    const t0 = Date.now();
    const err = await runStages(j, [
      { name: 'cloud-init', timeoutS: 60, check: async () => { throw new StageFailure('cloud-init', 0, 'status: error'); }, tail: async () => '' },
      { name: 'docker', timeoutS: 60, check: async () => true, tail: async () => '' },
    ], 10).catch((e) => e);
    expect(err).toBeInstanceOf(StageFailure);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(j.stages).toEqual(['cloud-init']);
  });

  it('a cancelled job stops between polls', async () => {
    const j = job();
    setTimeout(() => j.ctl.abort(), 30);
    await expect(runStages(j, [{ name: 'x', timeoutS: 60, check: async () => false, tail: async () => '' }], 10)).rejects.toThrow('cancelled');
  });
});
