// onbehalf/stores: the tamper-evident audit stores, SQLite embedded and PostgreSQL for a fleet.

export type { AuditEvent, StoredAuditEvent } from '../pipeline/event.js';
export {
  type AuditQuery,
  type AuditStore,
  type AuditStoreOptions,
  type StoredCheckpoint,
  StoreError,
  type StructureProblem,
} from './audit-store.js';
export {
  type AuditLogReader,
  type AuditLogWriter,
  isSyncReader,
  type QueryableAuditStore,
  type SyncAuditLogReader,
  type SyncAuditLogWriter,
} from './capabilities.js';
export { createAuditStore, type OpenStoreOptions, openAuditStore } from './open.js';
export { POSTGRES_AUDITOR_ROLE, POSTGRES_SCHEMA_VERSION, POSTGRES_WRITER_ROLE } from './postgres-schema.js';
export { POSTGRES_KEY_DIR, PostgresAuditStore, type PostgresAuditStoreOptions } from './postgres-store.js';
export { SqliteAuditStore, type SqliteAuditStoreOptions } from './sqlite-store.js';
