/** How the PostgreSQL store names a connection and a driver error in its messages. */

/** A connection URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** A driver error as one line: its code, and "cannot connect" for a refused connection. */
export function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: unknown[] };
  // A refused connection to "localhost" is an AggregateError with an empty message.
  let msg = e?.message || (e?.errors?.length ? describe(e.errors[0]) : String(err));
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'ETIMEDOUT')
    msg = `cannot connect: ${msg}`;
  return e?.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}
