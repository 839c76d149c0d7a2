// Domain errors, mapped to tRPC codes in server/api/trpc.ts and to one-line messages by the CLI.

/** Bad input: names the field and the fix. → BAD_REQUEST */
export class BadRequestError extends Error {
  constructor(readonly field: string, message: string) { super(`${field}: ${message.replace(new RegExp(`^${field}: `), '')}`); }
}
/** A state conflict (already running, name taken, busy). → CONFLICT */
export class ConflictError extends Error {}
/** → NOT_FOUND */
export class NotFoundError extends Error {}
/** A body over a size limit. → 413 */
export class PayloadTooLargeError extends Error {}

/**
 * The one error → status map: tRPC (server/api/trpc.ts) and the plain HTTP endpoints (server/http/) both
 * use it. Zod errors count as bad input. Anything else is a 500 (a bug, or the host failing).
 */
export type ErrorKind = 'BAD_REQUEST' | 'CONFLICT' | 'NOT_FOUND' | 'PAYLOAD_TOO_LARGE';
export const HTTP_STATUS: Record<ErrorKind, number> = { BAD_REQUEST: 400, CONFLICT: 409, NOT_FOUND: 404, PAYLOAD_TOO_LARGE: 413 };

export function errorKind(e: unknown): ErrorKind | null {
  if (e instanceof BadRequestError) return 'BAD_REQUEST';
  if (e instanceof ConflictError) return 'CONFLICT';
  if (e instanceof NotFoundError) return 'NOT_FOUND';
  if (e instanceof PayloadTooLargeError) return 'PAYLOAD_TOO_LARGE';
  if (e instanceof Error && e.name === 'ZodError' && Array.isArray((e as { issues?: unknown }).issues)) return 'BAD_REQUEST';
  return null;
}

/** One line for people: zod issues as "field: message; …", other errors as their first line. */
export function errorLine(e: unknown): string {
  const issues = (e as { issues?: { path: PropertyKey[]; message: string }[] })?.issues;
  if (e instanceof Error && e.name === 'ZodError' && Array.isArray(issues)) {
    return issues.map((i) => `${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; ');
  }
  return String((e as Error)?.message ?? e).split('\n')[0];
}
