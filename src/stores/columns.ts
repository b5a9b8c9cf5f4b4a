import { TABLE_COLUMNS } from './query-sql.js';

type TableColumn = (typeof TABLE_COLUMNS)[number];
type ColumnType = 'text' | 'integer' | 'bigint' | 'real';

interface ColumnSpec {
  type?: ColumnType;
  notNull?: boolean;
  unique?: boolean;
  /** Compared as bytes: ISO 8601 UTC text then sorts as time whatever the database's locale. */
  bytewise?: boolean;
}

/** What differs from a nullable text column; every other column of `audit_events` is one. */
const SPECS: Partial<Record<TableColumn, ColumnSpec>> = {
  seq: { type: 'bigint', notNull: true },
  origin: { notNull: true, bytewise: true },
  event_id: { notNull: true, unique: true },
  record_type: { notNull: true },
  timestamp: { notNull: true, bytewise: true },
  action: { notNull: true },
  risk_tier: { type: 'integer' },
  duration_ms: { type: 'real' },
  prev_hash: { notNull: true },
  hash: { notNull: true },
};

const TYPES: Record<'sqlite' | 'postgres', Record<ColumnType, string>> = {
  sqlite: { text: 'TEXT', integer: 'INTEGER', bigint: 'INTEGER', real: 'REAL' },
  postgres: { text: 'text', integer: 'integer', bigint: 'bigint', real: 'double precision' },
};

/**
 * The column definitions of `audit_events` in a dialect, from one list, so both stores always have
 * the same columns in the same order (the order raw row reads rely on).
 */
export function auditEventColumns(dialect: 'sqlite' | 'postgres'): string {
  return TABLE_COLUMNS.map((column) => {
    const spec = SPECS[column] ?? {};
    const collate = dialect === 'postgres' && spec.bytewise ? ' COLLATE "C"' : '';
    const notNull = spec.notNull ? ' NOT NULL' : '';
    const unique = spec.unique ? ' UNIQUE' : '';
    return `  ${column} ${TYPES[dialect][spec.type ?? 'text']}${collate}${notNull}${unique}`;
  }).join(',\n');
}

/**
 * The indexes of `audit_events` that the seed's queries and the CLI's filters use: PostgreSQL's, and
 * SQLite's up to schema version 2 (version 3 leaves out `audit_events_actor`: sqlite-schema.ts).
 */
export const AUDIT_EVENT_INDEXES = `
CREATE INDEX IF NOT EXISTS audit_events_timestamp ON audit_events (timestamp);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor_type, actor_id, timestamp);
CREATE INDEX IF NOT EXISTS audit_events_trigger ON audit_events (trigger_id, timestamp);
CREATE INDEX IF NOT EXISTS audit_events_on_behalf_of ON audit_events (on_behalf_of, timestamp);`;
