import { createRequire } from 'node:module';
import type pg from 'pg';

const requireHere = createRequire(import.meta.url);
let loaded: typeof pg | undefined;

/**
 * The pg driver, loaded when a PostgreSQL store is first made rather than when onbehalf is imported:
 * an application that audits to SQLite, or only attributes, does not pay for it.
 */
export function pgDriver(): typeof pg {
  loaded ??= requireHere('pg') as typeof pg;
  return loaded;
}
