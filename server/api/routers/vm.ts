import { z } from 'zod';
import { publicProcedure, router } from '../trpc.ts';
import { vmName } from '../../lab/spec.ts';

const byName = z.object({ name: vmName });

export const vmRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.lab.listVms()),
  get: publicProcedure.input(byName).query(({ ctx, input }) => ctx.lab.getVm(input.name)),
  // The domain validates the whole create input (one schema for API, CLI and pages).
  create: publicProcedure.input(z.unknown()).mutation(({ ctx, input }) => ctx.lab.createVm(input)),
  start: publicProcedure.input(byName).mutation(({ ctx, input }) => ctx.lab.startVm(input.name)),
  stop: publicProcedure.input(byName.extend({ force: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => ctx.lab.vms.stop(input.name, { force: input.force })),
  clean: publicProcedure.input(byName).mutation(({ ctx, input }) => ctx.lab.cleanVm(input.name)),
  log: publicProcedure.input(byName.extend({ offset: z.number().int().default(0), limit: z.number().int().min(1).max(1 << 20).default(256 * 1024) }))
    .query(({ ctx, input }) => ctx.lab.vms.log(input.name, input.offset, input.limit)),
  sshCommand: publicProcedure.input(byName).query(({ ctx, input }) => {
    const argv = ctx.lab.sshArgv(input.name);
    return { argv, command: argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ') };
  }),
  events: publicProcedure.subscription(async function* ({ ctx, signal }) {
    yield* ctx.lab.bus.stream('vm', signal);
  }),
});
