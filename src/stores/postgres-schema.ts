import { AUDIT_EVENT_INDEXES, auditEventColumns } from './columns.js';

/**
 * The PostgreSQL schema of an audit store (PostgreSQL 14 or later). `audit_events` has the same columns
 * as the SQLite store's, so the seed's queries and `onbehalf verify` work alike. Every table refuses
 * UPDATE, DELETE and TRUNCATE by trigger, even for its owner; and two group roles separate duties:
 *
 * - {@link POSTGRES_WRITER_ROLE}: INSERT only. It reads nothing of the log but its own origin's rows,
 *   through SECURITY DEFINER functions that check the origin was registered by the same login role.
 * - {@link POSTGRES_AUDITOR_ROLE}: SELECT only.
 *
 * Grant them to login roles (`GRANT onbehalf_writer TO agent_host_1`). The triggers and grants are
 * access control; the evidence is the hash chain, which `verify` checks whatever they say.
 */
export const POSTGRES_SCHEMA_VERSION = '1';

/** The INSERT-only group role agent hosts log in as members of. */
export const POSTGRES_WRITER_ROLE = 'onbehalf_writer';

/** The read-only group role for auditors (`onbehalf verify`, `query`, `sql`). */
export const POSTGRES_AUDITOR_ROLE = 'onbehalf_auditor';

const TABLES = ['audit_meta', 'audit_origins', 'audit_events', 'audit_checkpoints', 'audit_keys'];

const appendOnly = (table: string) => `
CREATE OR REPLACE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
  FOR EACH ROW EXECUTE FUNCTION onbehalf_refuse_change();
CREATE OR REPLACE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION onbehalf_refuse_change();`;

// Timestamps and origins are compared as bytes (COLLATE "C"): ISO 8601 UTC text then sorts as time,
// whatever the database's locale.
const TABLES_SQL = `
CREATE TABLE IF NOT EXISTS audit_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS audit_origins (
  origin text COLLATE "C" PRIMARY KEY,
  owner name NOT NULL DEFAULT session_user,
  created_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_events (
${auditEventColumns('postgres')},
  PRIMARY KEY (origin, seq)
);
${AUDIT_EVENT_INDEXES.trim()}
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  origin text COLLATE "C" NOT NULL,
  size bigint NOT NULL,
  root text NOT NULL,
  note text NOT NULL,
  state text NOT NULL,
  created_at text NOT NULL,
  PRIMARY KEY (origin, size)
);
CREATE TABLE IF NOT EXISTS audit_keys (kid text PRIMARY KEY, jwk text NOT NULL, added_at text NOT NULL);

CREATE OR REPLACE FUNCTION onbehalf_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
${TABLES.map(appendOnly).join('\n')}

-- A writer may write and read back its own log (to resume its chain), never another's.
CREATE OR REPLACE FUNCTION onbehalf_owns_origin(p_origin text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, public AS $$
  SELECT EXISTS (SELECT 1 FROM audit_origins o WHERE o.origin = p_origin AND o.owner = session_user)
$$;
CREATE OR REPLACE FUNCTION onbehalf_check_own_origin(p_origin text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, public AS $$
BEGIN
  IF NOT onbehalf_owns_origin(p_origin) THEN
    RAISE EXCEPTION 'origin % is not registered to %', p_origin, session_user
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END $$;
CREATE OR REPLACE FUNCTION onbehalf_own_rows(p_origin text, p_after bigint, p_limit integer)
RETURNS SETOF audit_events
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, public AS $$
BEGIN
  PERFORM onbehalf_check_own_origin(p_origin);
  RETURN QUERY SELECT * FROM audit_events e
    WHERE e.origin = p_origin AND e.seq > p_after ORDER BY e.seq LIMIT p_limit;
END $$;
CREATE OR REPLACE FUNCTION onbehalf_own_checkpoint(p_origin text)
RETURNS TABLE (size bigint, note text, state text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, public AS $$
BEGIN
  PERFORM onbehalf_check_own_origin(p_origin);
  RETURN QUERY SELECT c.size, c.note, c.state FROM audit_checkpoints c
    WHERE c.origin = p_origin ORDER BY c.size DESC LIMIT 1;
END $$;
CREATE OR REPLACE FUNCTION onbehalf_own_origin_owner(p_origin text) RETURNS name
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, public AS $$
  SELECT o.owner FROM audit_origins o WHERE o.origin = p_origin
$$;
CREATE OR REPLACE FUNCTION onbehalf_public_keys() RETURNS SETOF audit_keys
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, public AS $$
  SELECT * FROM audit_keys ORDER BY added_at
$$;
`;

// CREATE ROLE needs CREATEROLE: without it the tables still work for their owner, and an
// administrator creates the roles later by running the migration again.
const ROLES_SQL = `
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['${POSTGRES_WRITER_ROLE}', '${POSTGRES_AUDITOR_ROLE}'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL;
        WHEN insufficient_privilege THEN RAISE NOTICE 'onbehalf: cannot create role %: %', r, SQLERRM;
      END;
    END IF;
  END LOOP;
END $$;
DO $$
DECLARE fns text := 'onbehalf_owns_origin(text), onbehalf_check_own_origin(text), '
  'onbehalf_own_rows(text, bigint, integer), '
  'onbehalf_own_checkpoint(text), onbehalf_own_origin_owner(text), onbehalf_public_keys()';
BEGIN
  EXECUTE 'ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY';
  EXECUTE 'ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY';
  EXECUTE 'REVOKE ALL ON audit_meta, audit_origins, audit_events, audit_checkpoints, audit_keys FROM PUBLIC';
  EXECUTE 'REVOKE EXECUTE ON FUNCTION ' || fns || ' FROM PUBLIC';
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${POSTGRES_WRITER_ROLE}') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${POSTGRES_WRITER_ROLE}', current_schema());
    -- Not the owner column: it is always the login role that registers the origin.
    EXECUTE 'GRANT INSERT (origin, created_at) ON audit_origins TO ${POSTGRES_WRITER_ROLE}';
    EXECUTE 'GRANT INSERT ON audit_events, audit_checkpoints, audit_keys TO ${POSTGRES_WRITER_ROLE}';
    -- Row-level security: a writer appends to its own origins only (the owner bypasses it).
    EXECUTE 'DROP POLICY IF EXISTS writer_own_origin ON audit_events';
    EXECUTE 'CREATE POLICY writer_own_origin ON audit_events FOR INSERT TO ${POSTGRES_WRITER_ROLE} WITH CHECK (onbehalf_owns_origin(origin))';
    EXECUTE 'DROP POLICY IF EXISTS writer_own_origin ON audit_checkpoints';
    EXECUTE 'CREATE POLICY writer_own_origin ON audit_checkpoints FOR INSERT TO ${POSTGRES_WRITER_ROLE} WITH CHECK (onbehalf_owns_origin(origin))';
    EXECUTE 'GRANT SELECT ON audit_meta TO ${POSTGRES_WRITER_ROLE}';
    EXECUTE 'GRANT EXECUTE ON FUNCTION ' || fns || ' TO ${POSTGRES_WRITER_ROLE}';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${POSTGRES_AUDITOR_ROLE}') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${POSTGRES_AUDITOR_ROLE}', current_schema());
    EXECUTE 'GRANT SELECT ON audit_meta, audit_origins, audit_events, audit_checkpoints, audit_keys TO ${POSTGRES_AUDITOR_ROLE}';
    EXECUTE 'DROP POLICY IF EXISTS auditor_reads_all ON audit_events';
    EXECUTE 'CREATE POLICY auditor_reads_all ON audit_events FOR SELECT TO ${POSTGRES_AUDITOR_ROLE} USING (true)';
    EXECUTE 'DROP POLICY IF EXISTS auditor_reads_all ON audit_checkpoints';
    EXECUTE 'CREATE POLICY auditor_reads_all ON audit_checkpoints FOR SELECT TO ${POSTGRES_AUDITOR_ROLE} USING (true)';
  END IF;
END $$;
`;

/**
 * The whole migration, idempotent: tables, append-only triggers, the writer's own-origin functions,
 * the two roles and their grants. Run it in one transaction under an advisory lock (several writers
 * may start at once); {@link PostgresAuditStore} does so when the schema is missing.
 */
export const POSTGRES_MIGRATION = `${TABLES_SQL}
${ROLES_SQL}
INSERT INTO audit_meta (key, value) VALUES ('schema_version', '${POSTGRES_SCHEMA_VERSION}')
  ON CONFLICT (key) DO NOTHING;
INSERT INTO audit_meta (key, value) VALUES ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
  ON CONFLICT (key) DO NOTHING;
`;

/** Key of the advisory lock the migration runs under (any constant; "onbehalf" in ASCII). */
export const POSTGRES_MIGRATION_LOCK = 0x6f6e6265;
