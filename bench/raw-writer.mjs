// The raw durable insert the audit benchmarks compare against: the same row into the same table
// (same schema, indexes, triggers, driver and pragmas as SqliteAuditStore), with none of onbehalf's
// work. Rows are built as fast as JavaScript allows: one positional bind array made once, copied,
// and three slots (seq, event_id, hash) set per row; no object, no UUID.

import { TABLE_COLUMNS } from '../dist/stores/query-sql.js';
import { openSqlite } from '../dist/stores/sqlite-driver.js';
import { SQLITE_SCHEMA } from '../dist/stores/sqlite-schema.js';

const HASH = 'a'.repeat(64);

/**
 * Opens `path` and returns a writer of `event`'s row in a commit mode:
 * - `batch(n)`: n rows now; `per-event`/`strict` one autocommit each, `group` one transaction.
 * - `write()`: one row, durable as the mode says when the promise resolves: `per-event` at once,
 *   `turn` after one transaction for every row written in this event-loop turn, `group` queued
 *   (resolves at once, committed every 10 ms).
 */
export function rawDurableWriter(path, commit, { event, durability = 'normal' }) {
  const db = openSqlite(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'strict' ? 'FULL' : 'NORMAL'}`);
  db.pragma('temp_store = MEMORY');
  db.exec(SQLITE_SCHEMA);
  // The store's own statement: OR FAIL (see SqliteAuditStore).
  const insert = db.prepare(
    `INSERT OR FAIL INTO audit_events (${TABLE_COLUMNS.join(', ')}) VALUES (${TABLE_COLUMNS.map(() => '?').join(', ')})`,
  );
  const template = TABLE_COLUMNS.map((c) =>
    c === 'origin' ? 'raw' : c === 'prev_hash' || c === 'hash' ? HASH : (event?.[c] ?? null),
  );
  const SEQ = TABLE_COLUMNS.indexOf('seq');
  const ID = TABLE_COLUMNS.indexOf('event_id');
  let seq = 0;
  const one = () => {
    const values = template.slice();
    seq++;
    values[SEQ] = seq;
    values[ID] = `evt-raw-${seq}`;
    insert.run(...values);
  };
  const many = db.transaction((n) => {
    for (let i = 0; i < n; i++) one();
  });
  let queued = 0;
  let turn;
  let timer;
  const commitQueued = () => {
    const n = queued;
    queued = 0;
    if (n) many.immediate(n);
  };
  return {
    batch:
      commit === 'group'
        ? (n) => many.immediate(n)
        : (n) => {
            for (let i = 0; i < n; i++) one();
          },
    write() {
      if (commit === 'per-event') {
        one();
        return Promise.resolve();
      }
      queued++;
      if (commit === 'group') {
        timer ??= setTimeout(() => {
          timer = undefined;
          commitQueued();
        }, 10);
        return Promise.resolve();
      }
      turn ??= new Promise((resolve) =>
        setImmediate(() => {
          turn = undefined;
          commitQueued();
          resolve();
        }),
      );
      return turn;
    },
    /** Commits what is queued, closes, and returns how many rows were written. */
    async close() {
      if (timer) clearTimeout(timer);
      await turn;
      commitQueued();
      db.close();
      return seq;
    },
  };
}
