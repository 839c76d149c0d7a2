import { z } from 'zod';
import { publicProcedure, router } from '../trpc.ts';
import { arch, hostArch } from '../../lab/spec.ts';

export const labRouter = router({
  clean: publicProcedure.input(z.object({ removeKey: z.boolean().default(false) }).default({ removeKey: false }))
    .mutation(({ ctx, input }) => ctx.lab.cleanLab(input)),
  config: publicProcedure.query(({ ctx }) => ctx.lab.config()),
  /** The provisioner back to its ready snapshot, every running target re-provisioned. */
  reset: publicProcedure.mutation(({ ctx }) => ctx.lab.resetLab()),
  /** Can the provisioner resume its ready snapshot, and why (not)? */
  warm: publicProcedure.query(({ ctx }) => ctx.lab.warmState()),
  /** "Start a lab": the default lab (pvmlab up) as a job; its id comes back at once. */
  up: publicProcedure.input(z.object({ arch: arch.optional(), targets: z.number().int().min(0).max(8).default(1), image: z.enum(['auto', 'offline', 'ubuntu-24.04']).default('auto') }))
    .mutation(({ ctx, input }) => ctx.lab.startLab(input)),
  upDefaults: publicProcedure.query(() => ({ arch: hostArch(), targets: 1, image: 'auto' as const })),
});

export const networkRouter = router({
  status: publicProcedure.query(({ ctx }) => ctx.lab.network().status()),
  start: publicProcedure.mutation(({ ctx }) => ctx.lab.network().start()),
  stop: publicProcedure.mutation(({ ctx }) => ctx.lab.network().stop()),
});

export const jobsRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.lab.jobs.list()),
  cancel: publicProcedure.input(z.object({ id: z.string().uuid() })).mutation(({ ctx, input }) => ctx.lab.jobs.cancel(input.id)),
  events: publicProcedure.subscription(async function* ({ ctx, signal }) {
    for await (const e of ctx.lab.bus.stream('job', signal)) {
      const job = ctx.lab.jobs.get(e.id);
      if (job) yield job;
    }
  }),
});
