import { DEFAULT_STORE } from '../config/env.js';
import type { AuditStore } from './audit-store.js';
import { PostgresAuditStore, type PostgresAuditStoreOptions } from './postgres-store.js';
import { SqliteAuditStore, type SqliteAuditStoreOptions } from './sqlite-store.js';

/** Options of {@link openAuditStore}: those of either store kind; each takes the ones it knows. */
export type OpenStoreOptions = SqliteAuditStoreOptions & PostgresAuditStoreOptions;

/** True when `location` names a PostgreSQL store rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * Opens the store a location names: a `postgres://` URL (PostgreSQL) or a file path (SQLite);
 * `ONBEHALF_STORE`, else `./onbehalf-audit.db`, when none is given.
 */
export async function openAuditStore(
  location: string = process.env.ONBEHALF_STORE || DEFAULT_STORE,
  options: OpenStoreOptions = {},
): Promise<AuditStore> {
  const store = createAuditStore(location, options);
  await store.ready?.();
  return store;
}

/**
 * {@link openAuditStore}, synchronously, for start-up code: a SQLite store is open when it returns; a
 * PostgreSQL store connects on first use (await `ready()` to know it can).
 */
export function createAuditStore(location: string, options: OpenStoreOptions = {}): AuditStore {
  if (isPostgresUrl(location)) return new PostgresAuditStore(location, options);
  return new SqliteAuditStore(location, options);
}
