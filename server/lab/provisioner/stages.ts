// Staged readiness as data: each stage is a check polled until it passes or its deadline passes, run in order by
// one generic runner (testable without VMs). The provisioner's stages live in readiness.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobHandle } from '../jobs.ts';

/** One stage: `check` is polled every `pollMs` until it returns true; a throw counts as "not yet" unless it is a StageFailure. */
export interface StageSpec<S extends string> {
  name: S;
  /** Seconds before the stage times out. */
  timeoutS: number;
  check: () => Promise<boolean>;
  /** The last lines of whatever log tells why the stage hangs (console, journal, build output). */
  tail: () => Promise<string>;
}

export class StageTimeout extends Error {
  constructor(readonly stage: string, seconds: number, tail: string) {
    super(`provisioner not ready: stage '${stage}' did not finish within ${seconds} s. Last lines:\n${tail}`);
  }
}

/** A stage that cannot pass (e.g. cloud-init reported an error): thrown by a check, it ends the run at once. */
export class StageFailure extends StageTimeout {}


/**
 * Run stages in order, each reported to the job (`job.stage(name)` when it starts; the job keeps the times).
 * Errors: 'cancelled' when the job's signal aborts, StageTimeout (with the stage's log tail) past a deadline,
 * a StageFailure thrown by a check as it is.
 */
export async function runStages<S extends string>(job: JobHandle, stages: StageSpec<S>[], pollMs = 1000): Promise<void> {
  for (const s of stages) {
    job.stage(s.name);
    const end = Date.now() + s.timeoutS * 1000;
    for (;;) {
      if (job.signal.aborted) throw new Error('cancelled');
      const ok = await s.check().catch((e) => { if (e instanceof StageFailure) throw e; return false; });
      if (ok) break;
      if (Date.now() > end) throw new StageTimeout(s.name, s.timeoutS, await s.tail().catch(() => '(no log)'));
      await sleep(pollMs);
    }
  }
}
