// Domain errors, mapped to tRPC codes in server/api/trpc.ts and to one-line messages by the CLI.

/** Bad input: names the field and the fix. → BAD_REQUEST */
export class BadRequestError extends Error {
  constructor(readonly field: string, message: string) { super(`${field}: ${message.replace(new RegExp(`^${field}: `), '')}`); }
}
/** A state conflict (already running, name taken, busy). → CONFLICT */
export class ConflictError extends Error {}
/** → NOT_FOUND */
export class NotFoundError extends Error {}
