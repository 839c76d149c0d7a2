// tRPC init and context. Routers stay thin: they validate and call the domain (server/lab).
import { initTRPC } from '@trpc/server';
import type { Lab } from '../lab/services.ts';

export interface Context { lab: Lab }

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined;
    const fields = cause?.issues?.map((i) => ({ field: i.path.map(String).join('.'), message: i.message }));
    return { ...shape, data: { ...shape.data, stack: undefined, fields } };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
