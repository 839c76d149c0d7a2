// tRPC init and context. Routers stay thin: they validate and call the domain (server/lab).
import { TRPCError, initTRPC } from '@trpc/server';
import { ZodError } from 'zod';
import type { Lab } from '../lab/lab.ts';
import { BadRequestError, errorKind, errorLine } from '../lab/errors.ts';

export interface Context { lab: Lab }

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    let fields: { field: string; message: string }[] | undefined;
    if (cause instanceof ZodError) fields = cause.issues.map((i) => ({ field: i.path.map(String).join('.') || 'input', message: i.message }));
    else if (cause instanceof BadRequestError) fields = [{ field: cause.field, message: cause.message }];
    return { ...shape, data: { ...shape.data, stack: undefined, fields } };
  },
});

/** Domain errors become the right tRPC codes: validation → BAD_REQUEST, state → CONFLICT, unknown name → NOT_FOUND. */
const mapErrors = t.middleware(async ({ next }) => {
  const r = await next();
  if (r.ok) return r;
  const e = r.error.cause ?? r.error;
  // The one map (lab/errors.ts); zod issues become one "field: message" line.
  const kind = errorKind(e);
  if (kind) throw new TRPCError({ code: kind, message: e instanceof ZodError ? errorLine(e) : (e as Error).message, cause: e });
  return r;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(mapErrors);
export const createCallerFactory = t.createCallerFactory;
