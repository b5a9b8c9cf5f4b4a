import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { StoreError } from './audit-store.js';
import { AUDIT_EVENT_INDEXES, auditEventColumns } from './columns.js';
import type { SqliteDatabase } from './sqlite-driver.js';

/**
 * The SQLite schema of an audit store. `audit_events` keeps the seed's column names so its queries run
 * as written; every table refuses UPDATE and DELETE by trigger (access control: the evidence is the
 * hash chain, which `verify` checks whatever the triggers say).
 */
export const SQLITE_SCHEMA_VERSION = '2';

/**
 * The schema versions a store may carry in `audit_meta`: `1` (tables without `STRICT`, written by
 * earlier releases, still read, verified and appended to: verify checks its column types row by
 * row) and `2` (`STRICT` tables: SQLite itself refuses a value of the wrong type).
 */
export const SQLITE_SCHEMA_VERSIONS = ['1', '2'] as const;
export type SqliteSchemaVersion = (typeof SQLITE_SCHEMA_VERSIONS)[number];

const appendOnly = (table: string) => `
CREATE TRIGGER IF NOT EXISTS ${table}_no_update BEFORE UPDATE ON ${table}
BEGIN SELECT RAISE(ABORT, '${table} is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS ${table}_no_delete BEFORE DELETE ON ${table}
BEGIN SELECT RAISE(ABORT, '${table} is append-only: DELETE refused'); END;`;

/**
 * INSERT OR REPLACE deletes the row it conflicts with without firing DELETE triggers (unless the
 * attacker's own connection turns recursive_triggers on), so an insert on an existing key is stopped
 * before the conflict is resolved: refused (ABORT), or skipped (IGNORE) where the writer itself
 * re-inserts with INSERT OR IGNORE on every open.
 */
const noReplace = (table: string, existing: string, onExisting: 'ABORT' | 'IGNORE') => `
CREATE TRIGGER IF NOT EXISTS ${table}_no_replace BEFORE INSERT ON ${table}
WHEN EXISTS (SELECT 1 FROM ${table} WHERE ${existing})
BEGIN SELECT RAISE(${onExisting === 'ABORT' ? `ABORT, '${table} is append-only: replacing a row refused'` : 'IGNORE'}); END;`;

/** The schema text of a version: the same tables, `STRICT` from version 2 on. */
export function sqliteSchema(version: SqliteSchemaVersion): string {
  const strict = version === '1' ? '' : ' STRICT';
  return `
CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)${strict};
CREATE TABLE IF NOT EXISTS audit_events (
${auditEventColumns('sqlite')},
  PRIMARY KEY (origin, seq)
)${strict};
${AUDIT_EVENT_INDEXES.trim()}
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  origin TEXT NOT NULL,
  size INTEGER NOT NULL,
  root TEXT NOT NULL,
  note TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (origin, size)
)${strict};
CREATE TABLE IF NOT EXISTS audit_keys (kid TEXT PRIMARY KEY, jwk TEXT NOT NULL, added_at TEXT NOT NULL)${strict};
${appendOnly('audit_events')}
${appendOnly('audit_checkpoints')}
${appendOnly('audit_keys')}
${appendOnly('audit_meta')}
${noReplace('audit_events', '(origin = NEW.origin AND seq = NEW.seq) OR event_id = NEW.event_id', 'ABORT')}
${noReplace('audit_checkpoints', 'origin = NEW.origin AND size = NEW.size', 'ABORT')}
${noReplace('audit_keys', 'kid = NEW.kid', 'IGNORE')}
${noReplace('audit_meta', 'key = NEW.key', 'IGNORE')}
`;
}

/** The schema a new store is created with. */
export const SQLITE_SCHEMA = sqliteSchema(SQLITE_SCHEMA_VERSION);

/**
 * The store's origin from `audit_meta`, recorded on first open with the schema version, creation time
 * and purpose. Another process may create the store at the same moment: the first origin written wins.
 */
export function initStoreMeta(db: SqliteDatabase, purpose: string | undefined): string {
  const get = db.prepare('SELECT value FROM audit_meta WHERE key = ?');
  const origin = (get.get('origin') as { value: string } | undefined)?.value;
  if (origin) return origin;
  const created = `onbehalf/${hostname()}/${randomBytes(4).toString('hex')}`;
  const put = db.prepare('INSERT OR IGNORE INTO audit_meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    put.run('origin', created);
    put.run('schema_version', SQLITE_SCHEMA_VERSION);
    put.run('created_at', new Date().toISOString());
    if (purpose) put.run('purpose', purpose);
  })();
  return (get.get('origin') as { value: string }).value;
}

/** The origin of an existing store opened read-only; a file that is no audit store is refused. */
export function storedOrigin(db: SqliteDatabase, location: string): string {
  const table = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'")
    .get() as { name: string } | undefined;
  if (!table) throw new StoreError(`store ${location}: not an onbehalf audit store (no audit_events table)`);
  const origin = (
    db.prepare("SELECT value FROM audit_meta WHERE key = 'origin'").get() as { value: string } | undefined
  )?.value;
  if (!origin)
    throw new StoreError(`store ${location}: not an onbehalf audit store (no origin in audit_meta)`);
  return origin;
}
