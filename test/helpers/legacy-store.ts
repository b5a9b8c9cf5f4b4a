// A SQLite store as an earlier release created it: schema version 1 (the tables without STRICT) or 2
// (STRICT, with the `audit_events_actor` index and the ABORT replacement guards). Later releases must
// still read, verify and append to it.
import Database from 'better-sqlite3';
import { SQLITE_SCHEMA_VERSIONS, sqliteSchema } from '../../src/stores/sqlite-schema.js';

/**
 * Creates the file at `path` with an earlier version's schema and metadata (version 1 unless told);
 * open it with `SqliteAuditStore` after. `version` may also be one no release knows (recorded over the
 * version-2 schema), to see it refused.
 */
export function createLegacyStore(path: string, origin = 'onbehalf/legacy-host/0001', version = '1'): string {
  const db = new Database(path);
  try {
    db.exec(sqliteSchema(SQLITE_SCHEMA_VERSIONS.find((v) => v === version) ?? '2'));
    const put = db.prepare('INSERT INTO audit_meta (key, value) VALUES (?, ?)');
    put.run('origin', origin);
    put.run('schema_version', version);
    put.run('created_at', '2026-01-01T00:00:00.000Z');
  } finally {
    db.close();
  }
  return path;
}
