import { publicProcedure, router } from '../trpc.ts';

export const hostRouter = router({
  doctor: publicProcedure.query(({ ctx }) => ctx.lab.doctor()),
  recheck: publicProcedure.mutation(({ ctx }) => ctx.lab.recheck()),
  home: publicProcedure.query(({ ctx }) => ctx.lab.homeInfo()),
  events: publicProcedure.subscription(async function* ({ ctx, signal }) {
    yield* ctx.lab.bus.stream('host', signal);
  }),
});
