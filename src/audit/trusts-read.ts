/**
 * The trusts whose patient data a route's answer holds, for that request's audit record. A route
 * whose trusts are known only from its answer (the precheck: where the comparable priors were
 * found) notes them here; the auth middleware (src/auth/middleware.ts) reads them when it writes
 * the record, so it never has to parse the answer again.
 */
import type { Context } from "hono";

const noted = new WeakMap<Context, string | null>();

/** Records the trusts read while answering this request (sorted, distinct; none → null). */
export function noteTrustsRead(c: Context, trusts: Iterable<string>): void {
  const list = [...new Set(trusts)].sort();
  noted.set(c, list.length ? list.join(",") : null);
}

/** What the route noted: a comma-separated list, null for none, undefined if it noted nothing. */
export function trustsRead(c: Context): string | null | undefined {
  return noted.get(c);
}
