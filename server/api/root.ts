import { router } from './trpc.ts';
import { hostRouter } from './routers/host.ts';

export const appRouter = router({
  host: hostRouter,
});
export type AppRouter = typeof appRouter;
