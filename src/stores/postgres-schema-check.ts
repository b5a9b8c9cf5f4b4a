import type pg from 'pg';
import { fault, type VerificationFault, type VerificationFaultCode } from '../errors/verification-fault.js';
import { type KeyRow, keysFromRows } from './postgres-keys.js';
import {
  FUNCTION_SEARCH_PATH,
  POSTGRES_POLICIES,
  POSTGRES_SCHEMA_VERSION,
  POSTGRES_TABLES,
  POSTGRES_WRITER_ROLE,
  postgresFunctions,
  postgresTriggers,
  quoteIdent,
} from './postgres-schema.js';

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Where a store's tables are (else the schema they would be created in), and what version they are. */
export async function probePostgresStore(
  db: Queryable,
): Promise<{ schema: string; keysBound: boolean; events: boolean; version: string | undefined }> {
  const { rows } = await db.query<{ schema: string | null; current: string; keys_bound: boolean }>(
    `SELECT (SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE c.oid = to_regclass('audit_events')) AS schema,
            current_schema() AS current,
            EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = to_regclass('audit_keys')
                     AND a.attname = 'owner' AND NOT a.attisdropped) AS keys_bound`,
  );
  const found = rows[0]!;
  const schema = found.schema ?? found.current;
  if (!found.schema) return { schema, keysBound: false, events: false, version: undefined };
  const version = await db
    .query<{ value: string }>(
      `SELECT value FROM ${quoteIdent(schema)}.audit_meta WHERE key = 'schema_version'`,
    )
    .catch(() => ({ rows: [] as { value: string }[] }));
  return { schema, keysBound: found.keys_bound, events: true, version: version.rows[0]?.value };
}

/**
 * {@link postgresSchemaProblems}, and every `audit_keys` row that is not a usable key, in one read-only
 * transaction.
 */
export async function postgresIntegrityProblems(
  client: Queryable,
  schema: string,
  keysBound: boolean,
): Promise<VerificationFault[]> {
  try {
    await client.query('BEGIN TRANSACTION READ ONLY');
    const problems = await postgresSchemaProblems(client, schema);
    const keys = await client.query<KeyRow>(
      `SELECT kid, jwk${keysBound ? ', owner' : ''} FROM ${quoteIdent(schema)}.audit_keys ORDER BY added_at`,
    );
    const unusable = keysFromRows(keys.rows, 'audit_keys').problems;
    return [...problems, ...faults('store.key_unusable', unusable)];
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** What a writer must never be able to do to a table (SELECT too, except on `audit_meta`). */
const WRITER_FORBIDDEN = ['UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

/**
 * How the store's PostgreSQL schema differs from the migration's: every trigger, row-level security
 * policy and function, row-level security on every table, the schema version, and what the writer role
 * may do (no temporary tables, no objects in the schema, no UPDATE/DELETE/TRUNCATE, no reading). Runs
 * with the auditor's rights (catalog reads only); `client` must be inside a transaction, whose
 * `search_path` it sets to `pg_catalog` so PostgreSQL prints every name schema-qualified.
 *
 * @returns one fault per difference; none when the schema is the migration's.
 */
export async function postgresSchemaProblems(
  client: Queryable,
  schema: string,
): Promise<VerificationFault[]> {
  await client.query('SET LOCAL search_path = pg_catalog');
  const tableProblems: string[] = [];
  // PostgreSQL prints a name quoted only when it must be: ask it how.
  const printed = (await client.query<{ q: string }>('SELECT quote_ident($1) AS q', [schema])).rows[0]!.q;
  const roles = new Set(
    (await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname),
  );

  const tables = await client.query<{ relname: string; relrowsecurity: boolean; oid: number }>(
    `SELECT c.relname, c.relrowsecurity, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY($2)`,
    [schema, POSTGRES_TABLES],
  );
  const found = new Map(tables.rows.map((t) => [t.relname, t]));
  for (const table of POSTGRES_TABLES) {
    const t = found.get(table);
    if (!t) tableProblems.push(`table ${table} is missing`);
    else if (!t.relrowsecurity) tableProblems.push(`table ${table}: row-level security is off`);
  }

  const version = await client.query<{ value: string }>(
    `SELECT value FROM ${quoteIdent(schema)}.audit_meta WHERE key = 'schema_version'`,
  );
  const v = version.rows[0]?.value;
  const versionProblems =
    v === POSTGRES_SCHEMA_VERSION
      ? []
      : [
          `audit_meta schema_version is ${JSON.stringify(v ?? null)}, not "${POSTGRES_SCHEMA_VERSION}" (run the migration)`,
        ];

  return [
    ...faults('store.table_changed', tableProblems),
    ...faults('store.version_unknown', versionProblems),
    ...faults('store.trigger_changed', await triggerProblems(client, schema, printed)),
    ...faults('store.policy_changed', await policyProblems(client, schema, printed, roles)),
    ...faults('store.function_changed', await functionProblems(client, schema)),
    ...faults(
      'store.privilege_excess',
      roles.has(POSTGRES_WRITER_ROLE) ? await writerProblems(client, schema) : [],
    ),
  ];
}

/** Each check below names its differences in sentences; they are all faults of one code. */
function faults(code: VerificationFaultCode, messages: readonly string[]): VerificationFault[] {
  return messages.map((message) => fault(code, message));
}

async function triggerProblems(client: Queryable, schema: string, printed: string): Promise<string[]> {
  const problems: string[] = [];
  const rows = await client.query<{ table: string; name: string; definition: string; enabled: string }>(
    `SELECT c.relname AS table, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition, t.tgenabled AS enabled
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = ANY($2) AND NOT t.tgisinternal`,
    [schema, POSTGRES_TABLES],
  );
  for (const table of POSTGRES_TABLES) {
    const actual = rows.rows.filter((r) => r.table === table);
    const expected = postgresTriggers(schema, table).map((t) => ({
      ...t,
      definition: t.definition.replaceAll(quoteIdent(schema), printed),
    }));
    for (const e of expected) {
      const a = actual.find((r) => r.name === e.name);
      if (!a) problems.push(`table ${table}: trigger ${e.name} is missing`);
      else if (a.definition !== e.definition)
        problems.push(`table ${table}: trigger ${e.name} is not the migration's: ${a.definition}`);
      else if (a.enabled !== 'A')
        problems.push(`table ${table}: trigger ${e.name} is not always enabled (tgenabled ${a.enabled})`);
    }
    for (const a of actual.filter((r) => !expected.some((e) => e.name === r.name)))
      problems.push(`table ${table}: trigger ${a.name} is not the migration's: ${a.definition}`);
  }
  return problems;
}

async function policyProblems(
  client: Queryable,
  schema: string,
  printed: string,
  roles: Set<string>,
): Promise<string[]> {
  const problems: string[] = [];
  const rows = await client.query<{
    tablename: string;
    policyname: string;
    permissive: string;
    roles: string[];
    cmd: string;
    qual: string | null;
    with_check: string | null;
  }>(
    `SELECT tablename, policyname, permissive, roles::text[] AS roles, cmd, qual, with_check
       FROM pg_policies WHERE schemaname = $1`,
    [schema],
  );
  const expected = POSTGRES_POLICIES.filter((p) => roles.has(p.role));
  for (const p of expected) {
    const a = rows.rows.find((r) => r.tablename === p.table && r.policyname === p.name);
    if (!a) {
      problems.push(`table ${p.table}: policy ${p.name} is missing`);
      continue;
    }
    const expression = p.printed(printed);
    const same =
      a.permissive === 'PERMISSIVE' &&
      a.cmd === p.command &&
      a.roles.length === 1 &&
      a.roles[0] === p.role &&
      (p.command === 'INSERT' ? a.with_check === expression && a.qual === null : a.qual === expression);
    if (!same)
      problems.push(
        `table ${p.table}: policy ${p.name} is not the migration's: ${a.permissive} ${a.cmd} TO ${a.roles.join(', ')} USING (${a.qual}) WITH CHECK (${a.with_check})`,
      );
  }
  for (const a of rows.rows) {
    if (!expected.some((p) => p.table === a.tablename && p.name === a.policyname))
      problems.push(
        `table ${a.tablename}: policy ${a.policyname} is not the migration's: ${a.permissive} ${a.cmd} TO ${a.roles.join(', ')} USING (${a.qual}) WITH CHECK (${a.with_check})`,
      );
  }
  return problems;
}

async function functionProblems(client: Queryable, schema: string): Promise<string[]> {
  const problems: string[] = [];
  const specs = postgresFunctions(quoteIdent(schema));
  const rows = await client.query<{
    name: string;
    args: string;
    body: string;
    definer: boolean;
    config: string[] | null;
  }>(
    `SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args, p.prosrc AS body,
            p.prosecdef AS definer, p.proconfig AS config
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = ANY($2)`,
    [schema, specs.map((f) => f.name)],
  );
  for (const spec of specs) {
    const versions = rows.rows.filter((r) => r.name === spec.name);
    const args = spec.args.split(', ').filter(Boolean);
    const a = versions.find((r) => argTypes(r.args).join(', ') === args.join(', '));
    if (!a) {
      problems.push(`function ${spec.name}(${spec.args}) is missing`);
    } else {
      if (a.body !== spec.body)
        problems.push(`function ${spec.name}(${spec.args}): body is not the migration's`);
      if (a.definer !== spec.securityDefiner)
        problems.push(
          `function ${spec.name}(${spec.args}): ${a.definer ? 'SECURITY DEFINER' : 'SECURITY INVOKER'}, not the migration's`,
        );
      const config = a.config ?? [];
      if (config.length !== 1 || config[0] !== `search_path=${FUNCTION_SEARCH_PATH}`)
        problems.push(
          `function ${spec.name}(${spec.args}): settings ${JSON.stringify(config)}, not search_path=${FUNCTION_SEARCH_PATH}`,
        );
    }
    for (const other of versions.filter((r) => r !== a))
      problems.push(`function ${spec.name}(${other.args}) is not the migration's (an added overload)`);
  }
  return problems;
}

/** `p_origin text, p_after bigint` → `['text', 'bigint']`. */
function argTypes(identity: string): string[] {
  return identity
    .split(', ')
    .filter(Boolean)
    .map((a) => a.replace(/^p_\w+ /, ''));
}

async function writerProblems(client: Queryable, schema: string): Promise<string[]> {
  const problems: string[] = [];
  const w = POSTGRES_WRITER_ROLE;
  const db = await client.query<{ temp: boolean; create: boolean }>(
    `SELECT has_database_privilege($1, current_database(), 'TEMPORARY') AS temp,
            has_schema_privilege($1, $2, 'CREATE') AS create`,
    [w, schema],
  );
  if (db.rows[0]!.temp) problems.push(`role ${w} can create temporary tables (TEMPORARY on the database)`);
  if (db.rows[0]!.create) problems.push(`role ${w} can create objects in schema ${schema}`);
  for (const table of POSTGRES_TABLES) {
    const forbidden = table === 'audit_meta' ? WRITER_FORBIDDEN : ['SELECT', ...WRITER_FORBIDDEN];
    const granted = await client.query<{ privilege: string }>(
      `SELECT p AS privilege FROM unnest($3::text[]) p
        WHERE has_table_privilege($1, format('%I.%I', $2::text, $4::text), p)`,
      [w, schema, forbidden, table],
    );
    for (const { privilege } of granted.rows) problems.push(`role ${w} has ${privilege} on table ${table}`);
  }
  return problems;
}
