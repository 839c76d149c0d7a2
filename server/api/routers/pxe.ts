import { z } from 'zod';
import { BOOT_CATALOGUE } from '../../lab/up/catalogue.ts';
import { publicProcedure, router } from '../trpc.ts';
import { mac } from '../../lab/spec.ts';

export const provisionerRouter = router({
  docker: router({
    status: publicProcedure.query(async ({ ctx }) => {
      const stack = ctx.lab.provisioner.stack();
      return { container: await stack.state(), containers: await stack.containers() };
    }),
    start: publicProcedure.mutation(async ({ ctx }) => { await ctx.lab.provisioner.stack().start(); ctx.lab.bus.emit('pxe', { kind: 'docker', at: new Date().toISOString() }); }),
    stop: publicProcedure.mutation(async ({ ctx }) => { await ctx.lab.provisioner.stack().stop(); ctx.lab.bus.emit('pxe', { kind: 'docker', at: new Date().toISOString() }); }),
    restart: publicProcedure.mutation(async ({ ctx }) => { await ctx.lab.provisioner.stack().restart(); ctx.lab.bus.emit('pxe', { kind: 'docker', at: new Date().toISOString() }); }),
    logs: publicProcedure.input(z.object({ tail: z.number().int().min(1).max(5000).default(200) }).default({ tail: 200 }))
      .query(({ ctx, input }) => ctx.lab.provisioner.stack().logs(input.tail)),
  }),
});

export const pxeRouter = router({
  reservations: router({
    list: publicProcedure.query(({ ctx }) => ctx.lab.provisioner.reservations()),
    set: publicProcedure.input(z.unknown()).mutation(({ ctx, input }) => ctx.lab.provisioner.setReservation(input)),
    remove: publicProcedure.input(z.object({ mac })).mutation(({ ctx, input }) => ctx.lab.provisioner.removeReservation(input.mac)),
  }),
  profile: publicProcedure.input(z.object({ mac, profile: z.unknown() })).mutation(({ ctx, input }) => ctx.lab.provisioner.setProfile(input.mac, input.profile)),
  /** A profile from the boot catalogue (live — the default —, debian-12-installer, netboot.xyz) for a reservation. */
  catalogueProfile: publicProcedure.input(z.object({ mac, name: z.enum(['live', 'debian-12-installer', 'netboot.xyz']) }))
    .mutation(({ ctx, input }) => ctx.lab.setCatalogueProfile(input.mac, input.name)),
  catalogue: publicProcedure.query(() => BOOT_CATALOGUE),
  leases: publicProcedure.query(({ ctx }) => ctx.lab.provisioner.leases()),
  artifacts: router({
    list: publicProcedure.query(({ ctx }) => ctx.lab.provisioner.artifacts()),
    remove: publicProcedure.input(z.object({ name: z.string() })).mutation(({ ctx, input }) => ctx.lab.provisioner.removeArtifact(input.name)),
    // upload: POST /api/upload/artifact?name=<name> (streamed body; see server/main.ts)
  }),
  callhome: publicProcedure.query(({ ctx }) => ctx.lab.provisioner.callhomeLog()),
  events: publicProcedure.subscription(async function* ({ ctx, signal }) {
    yield* ctx.lab.bus.stream('pxe', signal);
  }),
});
