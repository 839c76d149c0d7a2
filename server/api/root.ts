import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { router } from './trpc.ts';
import { hostRouter } from './routers/host.ts';
import { vmRouter } from './routers/vm.ts';
import { jobsRouter, labRouter, networkRouter } from './routers/lab.ts';
import { provisionerRouter, pxeRouter } from './routers/pxe.ts';

export const appRouter = router({
  host: hostRouter,
  vm: vmRouter,
  lab: labRouter,
  network: networkRouter,
  jobs: jobsRouter,
  provisioner: provisionerRouter,
  pxe: pxeRouter,
});
export type AppRouter = typeof appRouter;

/** What each procedure takes and returns, inferred from the routers: pages type their data with these. */
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
