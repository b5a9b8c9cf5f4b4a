import type { StructureProblem } from './audit-store.js';
import { openSqlite, type SqliteDatabase } from './sqlite-driver.js';
import { SQLITE_SCHEMA_VERSIONS, type SqliteSchemaVersion, sqliteSchema } from './sqlite-schema.js';

/**
 * What `verify` checks of a SQLite file besides the rows' chain: that the file is the one the rows'
 * hashes were checked in. Verify reads a log through the primary-key index and queries read through
 * the other indexes or the table itself; an attacker with the file and `writable_schema` can make
 * them disagree (an index rebuilt with a `WHERE`, an index pointed at another b-tree), so that a row
 * is seen by one and not the other. `PRAGMA integrity_check` compares every index with its table;
 * the schema must be the migration's, byte for byte; every value must have its column's type (a
 * store created before tables were `STRICT` relies on this check alone); and every row must sit in
 * a chain (`seq` ≥ 1, the store's own origin).
 */

type Row = Record<string, unknown>;

/** The keys `audit_meta` may hold, and those it must. */
const META_KEYS = new Set(['origin', 'schema_version', 'created_at', 'purpose']);
const REQUIRED_META = ['origin', 'schema_version', 'created_at'];
/** Each table's row identity, to name the row a problem is in. */
const ROW_KEY: Record<string, readonly string[]> = {
  audit_events: ['origin', 'seq'],
  audit_checkpoints: ['origin', 'size'],
  audit_keys: ['kid'],
  audit_meta: ['key'],
};
const TABLES = Object.keys(ROW_KEY);
/** At most this many problems of one kind are listed: a damaged file can have millions. */
const LIMIT = 20;
/** SQLite reports every row of a swapped index: enough to reach rows past the first few. */
const INTEGRITY_LIMIT = 200;

interface SchemaEntry {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
}

interface Migration {
  entries: Map<string, SchemaEntry>;
  columns: Map<string, ColumnInfo[]>;
}

const migrations = new Map<SqliteSchemaVersion, Migration>();

/** The schema a version's migration makes, read back from a scratch in-memory database. */
function migration(version: SqliteSchemaVersion): Migration {
  let m = migrations.get(version);
  if (m) return m;
  const db = openSqlite(':memory:');
  try {
    db.exec(sqliteSchema(version));
    const entries = new Map(
      (db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master').all() as SchemaEntry[]).map((e) => [
        e.name,
        e,
      ]),
    );
    const columns = new Map(
      TABLES.map((t) => [t, db.prepare(`PRAGMA table_info(${t})`).all() as ColumnInfo[]]),
    );
    m = { entries, columns };
  } finally {
    db.close();
  }
  migrations.set(version, m);
  return m;
}

const quote = (v: unknown) => {
  const text =
    typeof v === 'string'
      ? JSON.stringify(v)
      : v instanceof Uint8Array
        ? `a ${v.length}-byte blob`
        : String(v);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
};

/** The SQLite type names `typeof()` returns that a column of this declaration may hold. */
function allowedTypes(column: ColumnInfo): string[] {
  const base =
    column.type.toUpperCase() === 'INTEGER'
      ? 'integer'
      : column.type.toUpperCase() === 'REAL'
        ? 'real'
        : 'text';
  return column.notnull ? [base] : [base, 'null'];
}

/** Problems with `PRAGMA integrity_check`, each row it names located by origin and seq. */
function integrityProblems(db: SqliteDatabase): StructureProblem[] {
  const rows = db.prepare(`PRAGMA integrity_check(${INTEGRITY_LIMIT})`).all() as {
    integrity_check: string;
  }[];
  const messages = rows.map((r) => String(Object.values(r)[0]));
  if (messages.length === 1 && messages[0] === 'ok') return [];
  const locate = db.prepare('SELECT origin, seq FROM audit_events WHERE rowid = ?');
  const code = 'store.integrity_failed';
  return messages.map((message) => {
    const reason = `database integrity check: ${message} (the file was edited below SQL or is damaged: queries and verify may read different rows)`;
    const row = /^row (\d+) missing from index (\S+)/.exec(message);
    // The row number is a rowid of the index's own table: only audit_events' rows have a seq.
    const ofEvents = row !== null && /^(sqlite_autoindex_)?audit_events_/.test(row[2]!);
    const at = ofEvents
      ? (locate.get(Number(row[1])) as { origin: unknown; seq: unknown } | undefined)
      : undefined;
    if (at && typeof at.origin === 'string' && typeof at.seq === 'number') {
      const message = `seq ${at.seq}: ${reason}`;
      return { code, origin: at.origin, seq: at.seq, message, hidesRows: true };
    }
    return { code, message: reason, hidesRows: true };
  });
}

/** The schema version in `audit_meta`, if it is one this release knows. */
function storedVersion(db: SqliteDatabase): SqliteSchemaVersion | undefined {
  const row = db.prepare("SELECT value FROM audit_meta WHERE key = 'schema_version'").get() as
    | Row
    | undefined;
  return SQLITE_SCHEMA_VERSIONS.find((v) => v === row?.value);
}

/** Every difference between the file's schema and the migration's: dropped, added or edited objects. */
function schemaProblems(db: SqliteDatabase, version: SqliteSchemaVersion): StructureProblem[] {
  const expected = migration(version).entries;
  const actual = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master').all() as SchemaEntry[];
  const problems: StructureProblem[] = [];
  const seen = new Set<string>();
  for (const e of actual) {
    seen.add(e.name);
    // ANALYZE's statistics steer the planner, never results; integrity_check covers them.
    if (e.type === 'table' && /^sqlite_stat\d$/.test(e.name)) continue;
    const want = expected.get(e.name);
    if (!want) {
      problems.push({
        code: 'store.schema_changed',
        message: `schema: ${e.type} ${quote(e.name)} is not part of the store's schema (added)`,
        hidesRows: e.type !== 'trigger',
      });
    } else if (want.type !== e.type || want.tbl_name !== e.tbl_name || want.sql !== e.sql) {
      problems.push({
        code: 'store.schema_changed',
        message: `schema: ${want.type} ${e.name} differs from the store's schema version ${version} (edited, e.g. through writable_schema)`,
        hidesRows: want.type !== 'trigger',
      });
    }
  }
  for (const want of expected.values()) {
    if (!seen.has(want.name)) {
      problems.push({
        code: 'store.schema_changed',
        message: `schema: ${want.type} ${want.name} is missing (dropped)`,
        hidesRows: want.type !== 'trigger',
      });
    }
  }
  return problems;
}

/** `audit_meta` must hold exactly the keys the store writes, as text. */
function metaProblems(db: SqliteDatabase): StructureProblem[] {
  const rows = db.prepare('SELECT key, value FROM audit_meta').all() as Row[];
  const problems: StructureProblem[] = [];
  for (const r of rows) {
    if (!META_KEYS.has(r.key as string))
      problems.push({
        code: 'store.meta_changed',
        message: `audit_meta: unknown key ${quote(r.key)} (added)`,
        hidesRows: false,
      });
  }
  for (const key of REQUIRED_META) {
    if (!rows.some((r) => r.key === key))
      problems.push({
        code: 'store.meta_changed',
        message: `audit_meta: ${key} is missing (deleted)`,
        hidesRows: false,
      });
  }
  const version = rows.find((r) => r.key === 'schema_version')?.value;
  if (version !== undefined && !SQLITE_SCHEMA_VERSIONS.some((v) => v === version)) {
    problems.push({
      code: 'store.version_unknown',
      message: `audit_meta: schema_version ${quote(version)} is not one this release knows`,
      hidesRows: true,
    });
  }
  return problems;
}

/** Values whose type is not their column's (a legacy, non-STRICT table stores text in an INTEGER column). */
function typeProblems(db: SqliteDatabase, version: SqliteSchemaVersion): StructureProblem[] {
  const problems: StructureProblem[] = [];
  for (const [table, columns] of migration(version).columns) {
    const checks = columns.map((c) => ({ name: c.name, types: allowedTypes(c) }));
    const bad = checks
      .map(
        (c) => `WHEN typeof(${c.name}) NOT IN (${c.types.map((t) => `'${t}'`).join(', ')}) THEN '${c.name}'`,
      )
      .join(' ');
    const key = ROW_KEY[table]!;
    const rows = db
      .prepare(
        `SELECT ${key.join(', ')}, bad_column FROM (SELECT ${key.join(', ')}, CASE ${bad} END AS bad_column FROM ${table}) WHERE bad_column IS NOT NULL LIMIT ${LIMIT}`,
      )
      .all() as Row[];
    for (const r of rows) {
      const column = String(r.bad_column);
      const value = (db
        .prepare(
          `SELECT ${column} AS v, typeof(${column}) AS t FROM ${table} WHERE ${key.map((k) => `${k} IS ?`).join(' AND ')}`,
        )
        .get(...key.map((k) => r[k])) as Row) ?? { v: null, t: '?' };
      const want = checks.find((c) => c.name === column)!.types.join(' or ');
      const what = `${column} holds ${value.t} ${quote(value.v)} where the schema has ${want}`;
      if (table === 'audit_events' && typeof r.origin === 'string' && typeof r.seq === 'number') {
        problems.push({
          origin: r.origin,
          seq: r.seq,
          column,
          code: 'row.type_invalid',
          message: `seq ${r.seq}: ${what} (row edited)`,
          hidesRows: true,
        });
      } else {
        const id = key.map((k) => `${k}=${quote(r[k])}`).join(', ');
        const message = `${table} row ${id}: ${what} (row edited)`;
        problems.push({ column, code: 'store.value_invalid', message, hidesRows: true });
      }
    }
  }
  return problems;
}

/** Rows no chain holds: a `seq` below 1 (verify reads each log from seq 1), or another store's origin. */
function chainlessRows(db: SqliteDatabase): StructureProblem[] {
  const problems: StructureProblem[] = [];
  const low = db
    .prepare(`SELECT origin, seq FROM audit_events WHERE typeof(seq) = 'integer' AND seq < 1 LIMIT ${LIMIT}`)
    .all() as Row[];
  for (const r of low) {
    problems.push({
      origin: String(r.origin),
      seq: Number(r.seq),
      code: 'row.outside_chain',
      message: `seq ${r.seq}: a row below seq 1 is outside the chain (row inserted where verify does not read)`,
      hidesRows: true,
    });
  }
  const meta = db.prepare("SELECT value FROM audit_meta WHERE key = 'origin'").get() as Row | undefined;
  const foreign = db
    .prepare(
      `SELECT origin, min(seq) AS first, count(*) AS n FROM audit_events WHERE origin IS NOT ? GROUP BY origin LIMIT ${LIMIT}`,
    )
    .all(meta?.value ?? null) as Row[];
  for (const r of foreign) {
    problems.push({
      origin: String(r.origin),
      seq: Number(r.first),
      code: 'row.foreign_log',
      message: `seq ${r.first}: log ${quote(r.origin)} (${r.n} row(s)) is not this store's origin ${quote(meta?.value)}: every writer of a SQLite store appends to its one log (rows planted)`,
      // Verify reads and judges that log too: queries see no row it does not.
      hidesRows: false,
    });
  }
  return problems;
}

/**
 * Every structural problem of an open SQLite audit store: empty when the file is sound, i.e. every
 * query reads exactly the rows verify checks, typed as they were hashed.
 */
export function sqliteStructureProblems(db: SqliteDatabase): StructureProblem[] {
  const integrity = integrityProblems(db);
  // A file whose indexes disagree cannot be read reliably any further.
  if (integrity.length > 0) return integrity;
  const meta = metaProblems(db);
  const version = storedVersion(db);
  if (!version) return meta;
  return [...schemaProblems(db, version), ...meta, ...typeProblems(db, version), ...chainlessRows(db)];
}
