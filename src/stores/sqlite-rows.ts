import type { StoredAuditEvent } from '../pipeline/event.js';
import { TABLE_COLUMNS } from './query-sql.js';
import { RAW_ROWS_MATCH_SCHEMA, rowsFromColumns } from './row-from-columns.js';
import type { SqliteDatabase } from './sqlite-driver.js';
import { rangeBound, type SeqRange } from './sqlite-prerendered.js';

/**
 * One origin's whole rows in seq order, in batches: all of them after `range.after`, or only those up
 * to `range.upTo`. The store reads its log through it, and so do verification's worker threads, each
 * on its own connection and its own range.
 */
export function* readWholeRows(
  db: SqliteDatabase,
  origin: string,
  batchSize: number,
  range: SeqRange,
  guard: <T>(fn: () => T) => T,
): Generator<StoredAuditEvent[]> {
  const upTo = range.upTo === undefined ? '' : ` AND seq <= ${rangeBound(range.upTo)}`;
  const stmt = db.prepare(
    `SELECT ${TABLE_COLUMNS.join(', ')} FROM audit_events WHERE origin = ? AND seq > ?${upTo} ORDER BY seq LIMIT ?`,
  );
  if (RAW_ROWS_MATCH_SCHEMA) stmt.raw(true);
  let after = range.after;
  for (;;) {
    const rows = guard(() =>
      RAW_ROWS_MATCH_SCHEMA
        ? rowsFromColumns(stmt.all(origin, after, batchSize) as unknown[][])
        : (stmt.all(origin, after, batchSize) as StoredAuditEvent[]),
    );
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]!.seq;
    if (rows.length < batchSize) return;
  }
}
