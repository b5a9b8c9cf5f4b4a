// A SQLite store as the release before STRICT tables created it: schema version 1, the same tables
// without STRICT. Later releases must still read, verify and append to it.
import Database from 'better-sqlite3';
import { sqliteSchema } from '../../src/stores/sqlite-schema.js';

/** Creates the file at `path` with the version-1 schema and metadata; open it with `SqliteAuditStore` after. */
export function createLegacyStore(path: string, origin = 'onbehalf/legacy-host/0001'): string {
  const db = new Database(path);
  try {
    db.exec(sqliteSchema('1'));
    const put = db.prepare('INSERT INTO audit_meta (key, value) VALUES (?, ?)');
    put.run('origin', origin);
    put.run('schema_version', '1');
    put.run('created_at', '2026-01-01T00:00:00.000Z');
  } finally {
    db.close();
  }
  return path;
}
