import { z } from 'zod';
import { accelMode, cpuModel } from '../../lab/lab.ts';
import { publicProcedure, router } from '../trpc.ts';

export const hostRouter = router({
  doctor: publicProcedure.query(({ ctx }) => ctx.lab.doctor()),
  recheck: publicProcedure.mutation(({ ctx }) => ctx.lab.recheck()),
  /** The lab's accelerator override: auto (the probe's choice), kvm, hvf or tcg, with an optional `-cpu` model. */
  setAccelerator: publicProcedure
    .input(z.object({ mode: accelMode, cpu: cpuModel.nullable().optional() }).strict())
    .mutation(({ ctx, input }) => ctx.lab.setAccelerator(input)),
  home: publicProcedure.query(({ ctx }) => ctx.lab.homeInfo()),
  events: publicProcedure.subscription(async function* ({ ctx, signal }) {
    yield* ctx.lab.bus.stream('host', signal);
  }),
});
