import { z } from 'zod';
import { publicProcedure, router } from '../trpc.ts';
import { snapshotName, vmCreateInput, vmName } from '../../lab/spec.ts';

const byName = z.object({ name: vmName });

export const vmRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.lab.listVms()),
  /** Record files that cannot be read: file, reason, and how to remove them (the rest of the lab works). */
  broken: publicProcedure.query(({ ctx }) => ctx.lab.brokenRecords()),
  get: publicProcedure.input(byName).query(({ ctx, input }) => ctx.lab.getVm(input.name)),
  /** A PXE target's last boot path from dnsmasq's log (null: none seen, or the provisioner is not running). */
  bootPath: publicProcedure.input(byName).query(async ({ ctx, input }) => (await ctx.lab.bootPaths())[input.name] ?? null),
  // One schema for API, CLI and pages (spec.ts); the domain checks what needs the lab (names, MACs, IPs taken).
  create: publicProcedure.input(vmCreateInput).mutation(({ ctx, input }) => ctx.lab.createVm(input)),
  start: publicProcedure.input(byName.extend({ cold: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => ctx.lab.startVm(input.name, { cold: input.cold })),
  /** Fresh disk, same MAC/IP/reservation/profile, boots again. */
  reprovision: publicProcedure.input(byName).mutation(({ ctx, input }) => ctx.lab.reprovisionVm(input.name)),
  snapshots: router({
    list: publicProcedure.input(byName).query(({ ctx, input }) => ctx.lab.listSnapshots(input.name)),
    take: publicProcedure.input(byName.extend({ snapshot: snapshotName })).mutation(({ ctx, input }) => ctx.lab.takeSnapshot(input.name, input.snapshot)),
    revert: publicProcedure.input(byName.extend({ snapshot: snapshotName })).mutation(({ ctx, input }) => ctx.lab.revertSnapshot(input.name, input.snapshot)),
    remove: publicProcedure.input(byName.extend({ snapshot: snapshotName })).mutation(({ ctx, input }) => ctx.lab.removeSnapshot(input.name, input.snapshot)),
  }),
  stop: publicProcedure.input(byName.extend({ force: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => ctx.lab.stopVm(input.name, { force: input.force })),
  clean: publicProcedure.input(byName).mutation(({ ctx, input }) => ctx.lab.cleanVm(input.name)),
  log: publicProcedure.input(byName.extend({ offset: z.number().int().default(0), limit: z.number().int().min(1).max(1 << 20).default(256 * 1024) }))
    .query(({ ctx, input }) => ctx.lab.consoleLog(input.name, input.offset, input.limit)),
  /** The boot flight recorder (boot: 0 = first in the console log, -1 = last). */
  timeline: publicProcedure.input(byName.extend({ boot: z.number().int().min(-10_000).max(10_000).default(-1) }))
    .query(({ ctx, input }) => ctx.lab.vmTimeline(input.name, { boot: input.boot })),
  sshCommand: publicProcedure.input(byName).query(({ ctx, input }) => ctx.lab.sshCommand(input.name)),
  events: publicProcedure.subscription(async function* ({ ctx, signal }) {
    yield* ctx.lab.bus.stream('vm', signal);
  }),
});
