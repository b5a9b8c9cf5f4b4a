/**
 * The SQLite schema of an audit store. `audit_events` keeps the seed's column names so its queries run
 * as written; every table refuses UPDATE and DELETE by trigger (access control: the evidence is the
 * hash chain, which `verify` checks whatever the triggers say).
 */
export const SQLITE_SCHEMA_VERSION = '1';

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

export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_events (
  seq INTEGER NOT NULL,
  origin TEXT NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  record_type TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  actor_type TEXT,
  actor_id TEXT,
  actor_name TEXT,
  owner_id TEXT,
  on_behalf_of TEXT,
  trigger_type TEXT,
  trigger_id TEXT,
  intent TEXT,
  session_id TEXT,
  delegation_chain TEXT,
  scopes TEXT,
  action TEXT NOT NULL,
  target TEXT,
  risk_tier INTEGER,
  result TEXT,
  policy_decision TEXT,
  policy_rule TEXT,
  approval_state TEXT,
  approved_by TEXT,
  provenance TEXT,
  tool_arguments TEXT,
  redactions TEXT,
  trace_id TEXT,
  span_id TEXT,
  parent_span_id TEXT,
  service_name TEXT,
  duration_ms REAL,
  attributes TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (origin, seq)
);
CREATE INDEX IF NOT EXISTS audit_events_timestamp ON audit_events (timestamp);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor_type, actor_id, timestamp);
CREATE INDEX IF NOT EXISTS audit_events_trigger ON audit_events (trigger_id, timestamp);
CREATE INDEX IF NOT EXISTS audit_events_on_behalf_of ON audit_events (on_behalf_of, timestamp);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  origin TEXT NOT NULL,
  size INTEGER NOT NULL,
  root TEXT NOT NULL,
  note TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (origin, size)
);
CREATE TABLE IF NOT EXISTS audit_keys (kid TEXT PRIMARY KEY, jwk TEXT NOT NULL, added_at TEXT NOT NULL);
${appendOnly('audit_events')}
${appendOnly('audit_checkpoints')}
${appendOnly('audit_keys')}
${appendOnly('audit_meta')}
${noReplace('audit_events', '(origin = NEW.origin AND seq = NEW.seq) OR event_id = NEW.event_id', 'ABORT')}
${noReplace('audit_checkpoints', 'origin = NEW.origin AND size = NEW.size', 'ABORT')}
${noReplace('audit_keys', 'kid = NEW.kid', 'IGNORE')}
${noReplace('audit_meta', 'key = NEW.key', 'IGNORE')}
`;
