import { AUDIT_EVENT_INDEXES, auditEventColumns } from './columns.js';

/**
 * The PostgreSQL schema of an audit store (PostgreSQL 14 or later). `audit_events` has the same columns
 * as the SQLite store's, so the seed's queries and `onbehalf verify` work alike. Every table refuses
 * UPDATE, DELETE and TRUNCATE by trigger, even for its owner; and two group roles separate duties:
 *
 * - {@link POSTGRES_WRITER_ROLE}: INSERT only, under row-level security on every table: a writer appends
 *   rows, checkpoints and keys for the origins it registered and reads back nothing but its own log,
 *   through SECURITY DEFINER functions whose `search_path` is fixed (`pg_catalog, pg_temp`) and whose
 *   every name is schema-qualified, so that no temporary table or function can stand in for a real one.
 *   It cannot create temporary tables (the migration revokes TEMP on the database from PUBLIC).
 * - {@link POSTGRES_AUDITOR_ROLE}: SELECT only.
 *
 * Grant them to login roles (`GRANT onbehalf_writer TO agent_host_1`). The triggers, policies and grants
 * are access control; the evidence is the hash chain, which `verify` checks whatever they say, and
 * `verify` also reports any trigger, policy or function that is not the migration's
 * ({@link postgresSchemaProblems}). Specified in docs/log-format.md.
 */
export const POSTGRES_SCHEMA_VERSION = '2';

/** The INSERT-only group role agent hosts log in as members of. */
export const POSTGRES_WRITER_ROLE = 'onbehalf_writer';

/** The read-only group role for auditors (`onbehalf verify`, `query`, `sql`). */
export const POSTGRES_AUDITOR_ROLE = 'onbehalf_auditor';

/** The tables of an audit store; each is append-only and under row-level security. */
export const POSTGRES_TABLES = [
  'audit_meta',
  'audit_origins',
  'audit_events',
  'audit_checkpoints',
  'audit_keys',
] as const;

/** A schema name as a quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The fixed `search_path` of every function of the migration: nothing a session can create comes first. */
export const FUNCTION_SEARCH_PATH = 'pg_catalog, pg_temp';

/** One function of the migration, as created and as `verify` expects to find it. */
export interface PostgresFunctionSpec {
  name: string;
  /** Argument types, as `regprocedure` prints them (`text, bigint`). */
  args: string;
  /** The body, exactly as `pg_proc.prosrc` holds it. */
  body: string;
  securityDefiner: boolean;
}

/** The functions of the migration in schema `s` (already quoted). */
export function postgresFunctions(s: string): PostgresFunctionSpec[] {
  const ownsOrigin = `${s}.onbehalf_owns_origin`;
  return [
    {
      name: 'onbehalf_refuse_change',
      args: '',
      securityDefiner: false,
      body: `
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END `,
    },
    {
      // A writer may write and read back its own log (to resume its chain), never another's.
      name: 'onbehalf_owns_origin',
      args: 'text',
      securityDefiner: true,
      body: `
  SELECT EXISTS (SELECT 1 FROM ${s}.audit_origins o WHERE o.origin OPERATOR(pg_catalog.=) p_origin
    AND o.owner OPERATOR(pg_catalog.=) pg_catalog."session_user"())
`,
    },
    {
      name: 'onbehalf_check_own_origin',
      args: 'text',
      securityDefiner: true,
      body: `
BEGIN
  IF NOT ${ownsOrigin}(p_origin) THEN
    RAISE EXCEPTION 'origin % is not registered to %', p_origin, pg_catalog."session_user"()
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END `,
    },
    {
      name: 'onbehalf_own_rows',
      args: 'text, bigint, integer',
      securityDefiner: true,
      body: `
BEGIN
  PERFORM ${s}.onbehalf_check_own_origin(p_origin);
  RETURN QUERY SELECT * FROM ${s}.audit_events e
    WHERE e.origin OPERATOR(pg_catalog.=) p_origin AND e.seq OPERATOR(pg_catalog.>) p_after
    ORDER BY e.seq LIMIT p_limit;
END `,
    },
    {
      name: 'onbehalf_own_checkpoint',
      args: 'text',
      securityDefiner: true,
      body: `
BEGIN
  PERFORM ${s}.onbehalf_check_own_origin(p_origin);
  RETURN QUERY SELECT c.size, c.note, c.state FROM ${s}.audit_checkpoints c
    WHERE c.origin OPERATOR(pg_catalog.=) p_origin ORDER BY c.size DESC LIMIT 1;
END `,
    },
    {
      name: 'onbehalf_own_origin_owner',
      args: 'text',
      securityDefiner: true,
      body: `
  SELECT o.owner FROM ${s}.audit_origins o WHERE o.origin OPERATOR(pg_catalog.=) p_origin
`,
    },
    {
      // The keys this writer recorded (and those recorded before keys were bound to writers).
      name: 'onbehalf_public_keys',
      args: '',
      securityDefiner: true,
      body: `
  SELECT * FROM ${s}.audit_keys k
    WHERE k.owner OPERATOR(pg_catalog.=) pg_catalog."session_user"() OR k.owner IS NULL
    ORDER BY k.added_at
`,
    },
  ];
}

const SIGNATURES: Record<string, string> = {
  onbehalf_refuse_change: '() RETURNS trigger LANGUAGE plpgsql',
  onbehalf_owns_origin: '(p_origin text) RETURNS boolean LANGUAGE sql STABLE',
  onbehalf_check_own_origin: '(p_origin text) RETURNS void LANGUAGE plpgsql STABLE',
  onbehalf_own_rows:
    '(p_origin text, p_after bigint, p_limit integer) RETURNS SETOF %s.audit_events LANGUAGE plpgsql STABLE',
  onbehalf_own_checkpoint:
    '(p_origin text) RETURNS TABLE (size bigint, note text, state text) LANGUAGE plpgsql STABLE',
  onbehalf_own_origin_owner: '(p_origin text) RETURNS name LANGUAGE sql STABLE',
  onbehalf_public_keys: '() RETURNS SETOF %s.audit_keys LANGUAGE sql STABLE',
};

function createFunction(s: string, fn: PostgresFunctionSpec): string {
  const signature = SIGNATURES[fn.name]!.replace('%s', s);
  const definer = fn.securityDefiner ? ' SECURITY DEFINER' : '';
  return `CREATE OR REPLACE FUNCTION ${s}.${fn.name}${signature}${definer}
  SET search_path = ${FUNCTION_SEARCH_PATH} AS $$${fn.body}$$;`;
}

/** One row-level security policy, as created and as `pg_policies` shows it (search_path `pg_catalog`). */
export interface PostgresPolicySpec {
  table: (typeof POSTGRES_TABLES)[number];
  name: string;
  command: 'SELECT' | 'INSERT';
  role: string;
  /** The USING or WITH CHECK expression as written… */
  expression: string;
  /** …and as PostgreSQL prints it back, given the schema name as PostgreSQL prints it. */
  printed: (schema: string) => string;
}

const ownsOriginPrinted = (schema: string) => `${schema}.onbehalf_owns_origin(origin)`;
const ownerIsSessionUser = {
  expression: 'owner = session_user',
  printed: () => '(owner = SESSION_USER)',
};

/** The policies of the migration: writers insert under their own name and origin; auditors read all. */
export const POSTGRES_POLICIES: readonly PostgresPolicySpec[] = [
  ...(['audit_events', 'audit_checkpoints'] as const).map((table) => ({
    table,
    name: 'writer_own_origin',
    command: 'INSERT' as const,
    role: POSTGRES_WRITER_ROLE,
    expression: '%s.onbehalf_owns_origin(origin)',
    printed: ownsOriginPrinted,
  })),
  ...(['audit_origins', 'audit_keys'] as const).map((table) => ({
    table,
    name: 'writer_own_name',
    command: 'INSERT' as const,
    role: POSTGRES_WRITER_ROLE,
    ...ownerIsSessionUser,
  })),
  {
    table: 'audit_meta',
    name: 'writer_reads_meta',
    command: 'SELECT',
    role: POSTGRES_WRITER_ROLE,
    expression: 'true',
    printed: () => 'true',
  },
  ...POSTGRES_TABLES.map((table) => ({
    table,
    name: 'auditor_reads_all',
    command: 'SELECT' as const,
    role: POSTGRES_AUDITOR_ROLE,
    expression: 'true',
    printed: () => 'true',
  })),
];

/** The triggers of each table, as `pg_get_triggerdef` prints them (search_path `pg_catalog`). */
export function postgresTriggers(schema: string, table: string): { name: string; definition: string }[] {
  const s = quoteIdent(schema);
  const fn = `EXECUTE FUNCTION ${s}.onbehalf_refuse_change()`;
  return [
    {
      name: `${table}_append_only`,
      definition: `CREATE TRIGGER ${table}_append_only BEFORE DELETE OR UPDATE ON ${s}.${table} FOR EACH ROW ${fn}`,
    },
    {
      name: `${table}_no_truncate`,
      definition: `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${s}.${table} FOR EACH STATEMENT ${fn}`,
    },
  ];
}

// Timestamps and origins are compared as bytes (COLLATE "C"): ISO 8601 UTC text then sorts as time,
// whatever the database's locale. Key rows name the login role that recorded them (`owner`): rows
// from before keys were bound to writers have none.
const tablesSql = (s: string) => `
CREATE TABLE IF NOT EXISTS ${s}.audit_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.audit_origins (
  origin text COLLATE "C" PRIMARY KEY,
  owner name NOT NULL DEFAULT session_user,
  created_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.audit_events (
${auditEventColumns('postgres')},
  PRIMARY KEY (origin, seq)
);
${AUDIT_EVENT_INDEXES.trim()}
CREATE TABLE IF NOT EXISTS ${s}.audit_checkpoints (
  origin text COLLATE "C" NOT NULL,
  size bigint NOT NULL,
  root text NOT NULL,
  note text NOT NULL,
  state text NOT NULL,
  created_at text NOT NULL,
  PRIMARY KEY (origin, size)
);
CREATE TABLE IF NOT EXISTS ${s}.audit_keys (kid text PRIMARY KEY, jwk text NOT NULL, added_at text NOT NULL);
ALTER TABLE ${s}.audit_keys ADD COLUMN IF NOT EXISTS owner name;
ALTER TABLE ${s}.audit_keys ALTER COLUMN owner SET DEFAULT session_user;
`;

const triggersSql = (s: string, schema: string) =>
  POSTGRES_TABLES.map(
    (table) => `
CREATE OR REPLACE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${s}.${table}
  FOR EACH ROW EXECUTE FUNCTION ${s}.onbehalf_refuse_change();
CREATE OR REPLACE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${s}.${table}
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.onbehalf_refuse_change();
ALTER TABLE ${s}.${table} ENABLE ALWAYS TRIGGER ${postgresTriggers(schema, table)[0]!.name};
ALTER TABLE ${s}.${table} ENABLE ALWAYS TRIGGER ${postgresTriggers(schema, table)[1]!.name};`,
  ).join('');

const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

// CREATE ROLE needs CREATEROLE: without it the tables still work for their owner, and an
// administrator creates the roles later by running the migration again.
const rolesSql = (s: string) => {
  const fns = postgresFunctions(s)
    .map((f) => `${s}.${f.name}(${f.args})`)
    .join(', ');
  const writerFns = postgresFunctions(s)
    .filter((f) => f.securityDefiner)
    .map((f) => `${s}.${f.name}(${f.args})`)
    .join(', ');
  const tables = POSTGRES_TABLES.map((t) => `${s}.${t}`).join(', ');
  const policies = POSTGRES_POLICIES.map((p) => {
    const clause = p.command === 'INSERT' ? 'WITH CHECK' : 'USING';
    const create = `CREATE POLICY ${p.name} ON ${s}.${p.table} FOR ${p.command} TO ${p.role} ${clause} (${p.expression.replace('%s', s)})`;
    return `
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${p.role}') THEN
    EXECUTE ${sqlText(`DROP POLICY IF EXISTS ${p.name} ON ${s}.${p.table}`)};
    EXECUTE ${sqlText(create)};
  END IF;`;
  }).join('');
  return `
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
BEGIN
  ${POSTGRES_TABLES.map((t) => `EXECUTE ${sqlText(`ALTER TABLE ${s}.${t} ENABLE ROW LEVEL SECURITY`)};`).join('\n  ')}
  EXECUTE ${sqlText(`REVOKE ALL ON ${tables} FROM PUBLIC`)};
  EXECUTE ${sqlText(`REVOKE EXECUTE ON FUNCTION ${fns} FROM PUBLIC`)};
  -- No session may put an object of its own before the store's (PostgreSQL 15 does this by default).
  EXECUTE ${sqlText(`REVOKE CREATE ON SCHEMA ${s} FROM PUBLIC`)};
  -- A temporary table cannot shadow anything now, but a writer has no use for one either.
  BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'onbehalf: cannot revoke TEMPORARY on database %: %', current_database(), SQLERRM;
  END;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${POSTGRES_WRITER_ROLE}') THEN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM ${POSTGRES_WRITER_ROLE}', current_database());
    EXECUTE ${sqlText(`REVOKE ALL ON ${tables} FROM ${POSTGRES_WRITER_ROLE}`)};
    EXECUTE ${sqlText(`GRANT USAGE ON SCHEMA ${s} TO ${POSTGRES_WRITER_ROLE}`)};
    -- Not the owner columns: they are always the login role that inserts the row.
    EXECUTE ${sqlText(`GRANT INSERT (origin, created_at) ON ${s}.audit_origins TO ${POSTGRES_WRITER_ROLE}`)};
    EXECUTE ${sqlText(`GRANT INSERT (kid, jwk, added_at) ON ${s}.audit_keys TO ${POSTGRES_WRITER_ROLE}`)};
    EXECUTE ${sqlText(`GRANT INSERT ON ${s}.audit_events, ${s}.audit_checkpoints TO ${POSTGRES_WRITER_ROLE}`)};
    EXECUTE ${sqlText(`GRANT SELECT ON ${s}.audit_meta TO ${POSTGRES_WRITER_ROLE}`)};
    EXECUTE ${sqlText(`GRANT EXECUTE ON FUNCTION ${writerFns} TO ${POSTGRES_WRITER_ROLE}`)};
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${POSTGRES_AUDITOR_ROLE}') THEN
    EXECUTE ${sqlText(`GRANT USAGE ON SCHEMA ${s} TO ${POSTGRES_AUDITOR_ROLE}`)};
    EXECUTE ${sqlText(`GRANT SELECT ON ${tables} TO ${POSTGRES_AUDITOR_ROLE}`)};
  END IF;${policies}
END $$;
`;
};

/**
 * The whole migration into `schema` (default `public`), idempotent: tables, append-only triggers, the
 * writer's own-origin functions, the two roles, their grants and policies. It upgrades a store made by
 * an earlier version in place. Run it in one transaction under an advisory lock (several writers may
 * start at once); {@link PostgresAuditStore} does so when the schema is missing or older.
 */
export function postgresMigration(schema = 'public'): string {
  const s = quoteIdent(schema);
  return `SET LOCAL search_path = ${s}, pg_catalog;
${tablesSql(s)}
${postgresFunctions(s)
  .map((f) => createFunction(s, f))
  .join('\n')}
${triggersSql(s, schema)}
${rolesSql(s)}
INSERT INTO ${s}.audit_meta (key, value) VALUES ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
  ON CONFLICT (key) DO NOTHING;
-- The one change the migration makes to a row: the schema version of an upgraded store.
ALTER TABLE ${s}.audit_meta DISABLE TRIGGER audit_meta_append_only;
INSERT INTO ${s}.audit_meta (key, value) VALUES ('schema_version', '${POSTGRES_SCHEMA_VERSION}')
  ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
ALTER TABLE ${s}.audit_meta ENABLE ALWAYS TRIGGER audit_meta_append_only;
`;
}

/** {@link postgresMigration} into schema `public`. */
export const POSTGRES_MIGRATION = postgresMigration('public');

/** Key of the advisory lock the migration runs under (any constant; "onbehalf" in ASCII). */
export const POSTGRES_MIGRATION_LOCK = 0x6f6e6265;
