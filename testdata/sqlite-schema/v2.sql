-- sqlite_master of a store of schema version 2, as the release that introduced the version created it.
-- Pinned: stores of this version are still read, verified and appended to, and verify compares their
-- schema with this text byte for byte.

-- table audit_checkpoints on audit_checkpoints
CREATE TABLE audit_checkpoints (
  origin TEXT NOT NULL,
  size INTEGER NOT NULL,
  root TEXT NOT NULL,
  note TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (origin, size)
) STRICT;

-- trigger audit_checkpoints_no_delete on audit_checkpoints
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused'); END;

-- trigger audit_checkpoints_no_replace on audit_checkpoints
CREATE TRIGGER audit_checkpoints_no_replace BEFORE INSERT ON audit_checkpoints
WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE origin = NEW.origin AND size = NEW.size)
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: replacing a row refused'); END;

-- trigger audit_checkpoints_no_update on audit_checkpoints
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused'); END;

-- table audit_events on audit_events
CREATE TABLE audit_events (
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
) STRICT;

-- index audit_events_actor on audit_events
CREATE INDEX audit_events_actor ON audit_events (actor_type, actor_id, timestamp);

-- trigger audit_events_no_delete on audit_events
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END;

-- trigger audit_events_no_replace on audit_events
CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events
WHEN EXISTS (SELECT 1 FROM audit_events WHERE (origin = NEW.origin AND seq = NEW.seq) OR event_id = NEW.event_id)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: replacing a row refused'); END;

-- trigger audit_events_no_update on audit_events
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END;

-- index audit_events_on_behalf_of on audit_events
CREATE INDEX audit_events_on_behalf_of ON audit_events (on_behalf_of, timestamp);

-- index audit_events_timestamp on audit_events
CREATE INDEX audit_events_timestamp ON audit_events (timestamp);

-- index audit_events_trigger on audit_events
CREATE INDEX audit_events_trigger ON audit_events (trigger_id, timestamp);

-- table audit_keys on audit_keys
CREATE TABLE audit_keys (kid TEXT PRIMARY KEY, jwk TEXT NOT NULL, added_at TEXT NOT NULL) STRICT;

-- trigger audit_keys_no_delete on audit_keys
CREATE TRIGGER audit_keys_no_delete BEFORE DELETE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only: DELETE refused'); END;

-- trigger audit_keys_no_replace on audit_keys
CREATE TRIGGER audit_keys_no_replace BEFORE INSERT ON audit_keys
WHEN EXISTS (SELECT 1 FROM audit_keys WHERE kid = NEW.kid)
BEGIN SELECT RAISE(IGNORE); END;

-- trigger audit_keys_no_update on audit_keys
CREATE TRIGGER audit_keys_no_update BEFORE UPDATE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only: UPDATE refused'); END;

-- table audit_meta on audit_meta
CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

-- trigger audit_meta_no_delete on audit_meta
CREATE TRIGGER audit_meta_no_delete BEFORE DELETE ON audit_meta
BEGIN SELECT RAISE(ABORT, 'audit_meta is append-only: DELETE refused'); END;

-- trigger audit_meta_no_replace on audit_meta
CREATE TRIGGER audit_meta_no_replace BEFORE INSERT ON audit_meta
WHEN EXISTS (SELECT 1 FROM audit_meta WHERE key = NEW.key)
BEGIN SELECT RAISE(IGNORE); END;

-- trigger audit_meta_no_update on audit_meta
CREATE TRIGGER audit_meta_no_update BEFORE UPDATE ON audit_meta
BEGIN SELECT RAISE(ABORT, 'audit_meta is append-only: UPDATE refused'); END;

-- index sqlite_autoindex_audit_checkpoints_1 on audit_checkpoints
-- (no sql: made by a constraint);

-- index sqlite_autoindex_audit_events_1 on audit_events
-- (no sql: made by a constraint);

-- index sqlite_autoindex_audit_events_2 on audit_events
-- (no sql: made by a constraint);

-- index sqlite_autoindex_audit_keys_1 on audit_keys
-- (no sql: made by a constraint);

-- index sqlite_autoindex_audit_meta_1 on audit_meta
-- (no sql: made by a constraint);
