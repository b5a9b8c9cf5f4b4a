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
export const SQLITE_SCHEMA_VERSION = '3';

/**
 * The schema versions a store may carry in `audit_meta`: `1` (tables without `STRICT`, written by
 * earlier releases, still read, verified and appended to: verify checks its column types row by
 * row), `2` (`STRICT` tables: SQLite itself refuses a value of the wrong type) and `3` (no
 * `audit_events_actor` index, and replacement guards that also cover an explicit rowid and cost an
 * insert no statement journal; docs/log-format.md, "SQLite indexes" and "The replacement guard").
 * A store keeps the version it was created with: its schema is never migrated.
 */
export const SQLITE_SCHEMA_VERSIONS = ['1', '2', '3'] as const;
export type SqliteSchemaVersion = (typeof SQLITE_SCHEMA_VERSIONS)[number];

/** Indexes a version no longer has: no query the CLI, report or verify runs is the better for them. */
const DROPPED_INDEXES: Record<SqliteSchemaVersion, readonly string[]> = {
  '1': [],
  '2': [],
  '3': ['audit_events_actor'],
};

/** The `CREATE INDEX` statements of `audit_events` in a version. */
function eventIndexes(version: SqliteSchemaVersion): string {
  return AUDIT_EVENT_INDEXES.trim()
    .split('\n')
    .filter((line) => !DROPPED_INDEXES[version].some((name) => line.includes(` ${name} ON `)))
    .join('\n');
}

const appendOnly = (table: string) => `
CREATE TRIGGER IF NOT EXISTS ${table}_no_update BEFORE UPDATE ON ${table}
BEGIN SELECT RAISE(ABORT, '${table} is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS ${table}_no_delete BEFORE DELETE ON ${table}
BEGIN SELECT RAISE(ABORT, '${table} is append-only: DELETE refused'); END;`;

/**
 * INSERT OR REPLACE deletes the row it conflicts with without firing DELETE triggers (unless the
 * attacker's own connection turns recursive_triggers on), so an insert on an existing key is stopped
 * before the conflict is resolved: refused, or skipped (IGNORE) where the writer itself re-inserts
 * with INSERT OR IGNORE on every open.
 *
 * Versions 1 and 2 refuse with ABORT and look up the declared keys only. From version 3 the rowid a
 * statement names is a key too (`INSERT OR REPLACE … (rowid, …)` replaces the row with that rowid;
 * SQLite sets NEW.rowid to -1 when it picks the rowid itself), and the refusal is FAIL: the statement
 * stops before the conflicting row as with ABORT, but it keeps the rows it already appended instead of
 * undoing them, so SQLite needs no statement journal for an insert that is also FAIL on conflict (the
 * writer's `INSERT OR FAIL`). Measured in docs/log-format.md, "The replacement guard".
 */
const noReplace = (
  table: string,
  existing: string,
  onExisting: 'refuse' | 'IGNORE',
  version: SqliteSchemaVersion,
) => {
  const before3 = version === '1' || version === '2';
  const keys = before3 ? existing : `${existing} OR rowid = NEW.rowid`;
  const refuse =
    onExisting === 'IGNORE'
      ? 'IGNORE'
      : `${before3 ? 'ABORT' : 'FAIL'}, '${table} is append-only: replacing a row refused'`;
  return `
CREATE TRIGGER IF NOT EXISTS ${table}_no_replace BEFORE INSERT ON ${table}
WHEN EXISTS (SELECT 1 FROM ${table} WHERE ${keys})
BEGIN SELECT RAISE(${refuse}); END;`;
};

/** The schema text of a version: the same tables, `STRICT` from version 2 on. Earlier versions' text never changes. */
export function sqliteSchema(version: SqliteSchemaVersion): string {
  const strict = version === '1' ? '' : ' STRICT';
  return `
CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)${strict};
CREATE TABLE IF NOT EXISTS audit_events (
${auditEventColumns('sqlite')},
  PRIMARY KEY (origin, seq)
)${strict};
${eventIndexes(version)}
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
${noReplace('audit_events', '(origin = NEW.origin AND seq = NEW.seq) OR event_id = NEW.event_id', 'refuse', version)}
${noReplace('audit_checkpoints', 'origin = NEW.origin AND size = NEW.size', 'refuse', version)}
${noReplace('audit_keys', 'kid = NEW.kid', 'IGNORE', version)}
${noReplace('audit_meta', 'key = NEW.key', 'IGNORE', version)}
`;
}

/** The schema a new store is created with. */
export const SQLITE_SCHEMA = sqliteSchema(SQLITE_SCHEMA_VERSION);

/**
 * Creates the schema of a new store, or of the version an existing store records: a store of an
 * earlier version is appended to as it is, never given a later version's indexes or triggers (verify
 * compares its schema with its own version's). A version this release does not know is refused.
 * Run inside the writer's first transaction.
 */
export function ensureSqliteSchema(db: SqliteDatabase, location: string): void {
  const meta = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit_meta'")
    .get() as { name: string } | undefined;
  const stored = meta
    ? (db.prepare("SELECT value FROM audit_meta WHERE key = 'schema_version'").get() as
        | { value: unknown }
        | undefined)
    : undefined;
  if (stored === undefined) {
    db.exec(SQLITE_SCHEMA);
    return;
  }
  const version = SQLITE_SCHEMA_VERSIONS.find((v) => v === stored.value);
  if (!version)
    throw new StoreError(
      `store ${location}: schema version ${JSON.stringify(stored.value)} is not one this release knows (${SQLITE_SCHEMA_VERSIONS.join(', ')}): not appending to it`,
      'unwritable',
    );
  db.exec(sqliteSchema(version));
}

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
