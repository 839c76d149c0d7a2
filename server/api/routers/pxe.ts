import { z } from 'zod';
import { publicProcedure, router } from '../trpc.ts';
import { BOOT_CATALOGUE, bootProfile, catalogueName, reservation } from '../../lab/lab.ts';
import { arch, firmware, mac } from '../../lab/spec.ts';

export const provisionerRouter = router({
  docker: router({
    status: publicProcedure.query(({ ctx }) => ctx.lab.dockerStatus()),
    start: publicProcedure.mutation(({ ctx }) => ctx.lab.docker('start')),
    stop: publicProcedure.mutation(({ ctx }) => ctx.lab.docker('stop')),
    restart: publicProcedure.mutation(({ ctx }) => ctx.lab.docker('restart')),
    logs: publicProcedure.input(z.object({ tail: z.number().int().min(1).max(5000).default(200) }).default({ tail: 200 }))
      .query(({ ctx, input }) => ctx.lab.dockerLogs(input.tail)),
  }),
});

export const pxeRouter = router({
  reservations: router({
    list: publicProcedure.query(({ ctx }) => ctx.lab.reservations()),
    set: publicProcedure.input(reservation.omit({ profile: true }).extend({ profile: bootProfile.optional() })).mutation(({ ctx, input }) => ctx.lab.setReservation(input)),
    remove: publicProcedure.input(z.object({ mac })).mutation(({ ctx, input }) => ctx.lab.removeReservation(input.mac)),
  }),
  profile: publicProcedure.input(z.object({ mac, profile: bootProfile })).mutation(({ ctx, input }) => ctx.lab.setProfile(input.mac, input.profile)),
  /** A profile from the boot catalogue (lab/up/catalogue.ts CATALOGUE_NAMES; live is the default) for a reservation. */
  catalogueProfile: publicProcedure.input(z.object({ mac, name: catalogueName }))
    .mutation(({ ctx, input }) => ctx.lab.setCatalogueProfile(input.mac, input.name)),
  catalogue: publicProcedure.query(() => BOOT_CATALOGUE),
  /** Profile dry run for a MAC or target name: DHCP exchanges, boot files, script and kernel command line. */
  explain: publicProcedure.input(z.object({ who: z.string().trim().min(1).max(64), firmware: firmware.optional(), http: z.boolean().optional(), arch: arch.optional() }))
    .query(({ ctx, input }) => ctx.lab.explainBoot(input.who, { firmware: input.firmware, http: input.http, arch: input.arch })),
  leases: publicProcedure.query(({ ctx }) => ctx.lab.leases()),
  artifacts: router({
    list: publicProcedure.query(({ ctx }) => ctx.lab.artifacts()),
    remove: publicProcedure.input(z.object({ name: z.string() })).mutation(({ ctx, input }) => ctx.lab.removeArtifact(input.name)),
    // upload: POST /api/upload/artifact?name=<name> (streamed body; see server/http/upload.ts)
  }),
  callhome: publicProcedure.query(({ ctx }) => ctx.lab.callhomeLog()),
  events: publicProcedure.subscription(async function* ({ ctx, signal }) {
    yield* ctx.lab.bus.stream('pxe', signal);
  }),
});
