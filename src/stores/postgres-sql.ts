import type pg from 'pg';
import { type SqlOptions, StoreError } from './audit-store.js';
import { POSTGRES_AUDITOR_ROLE } from './postgres-schema.js';

/** The statement timeout of SQL a person typed (`onbehalf sql`), unless {@link SqlOptions.timeoutMs} says otherwise. */
export const DEFAULT_SQL_TIMEOUT_MS = 30_000;

type Row = Record<string, unknown>;

/** Roles whose members can read or write the server's files or run programs on it. */
const SERVER_ACCESS_ROLES = ['pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files'];
/** Functions that reach the server's files or another connection (which a read-only transaction does not bind). */
const SERVER_ACCESS_FUNCTIONS = [
  'pg_read_file(text)',
  'pg_read_binary_file(text)',
  'pg_ls_dir(text)',
  'pg_stat_file(text)',
  'lo_import(text)',
  'lo_export(oid,text)',
];
const REMOTE_FUNCTIONS = ['dblink', 'dblink_exec', 'dblink_connect', 'dblink_connect_u'];

/**
 * Why the session's login role must not run SQL a person typed, or undefined when it may: a superuser
 * (or a member of one), a role that can create roles (it could grant itself any of the others), a
 * member of a role that can run programs or read and write the server's files (`COPY … TO PROGRAM`),
 * or one that can execute a function reaching the server's files or another connection.
 */
export async function privilegedRoleReason(
  client: Pick<pg.ClientBase, 'query'>,
): Promise<string | undefined> {
  const { rows } = await client.query<{
    role: string;
    superuser: boolean;
    createrole: boolean;
    roles: string[];
    functions: string[];
  }>(
    `SELECT r.rolname AS role,
            r.rolsuper OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles s
                                   WHERE s.rolsuper AND pg_catalog.pg_has_role(r.oid, s.oid, 'MEMBER')) AS superuser,
            r.rolcreaterole AS createrole,
            ARRAY(SELECT x FROM unnest($1::text[]) x
                   WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_roles g WHERE g.rolname = x)
                     AND pg_catalog.pg_has_role(r.oid, x, 'MEMBER')) AS roles,
            ARRAY(SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
                   WHERE (p.oid::regprocedure::text = ANY($2) OR p.proname = ANY($3))
                     AND pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE')) AS functions
       FROM pg_catalog.pg_roles r WHERE r.rolname = session_user`,
    [SERVER_ACCESS_ROLES, SERVER_ACCESS_FUNCTIONS, REMOTE_FUNCTIONS],
  );
  const r = rows[0];
  if (!r) return 'the login role is not in pg_roles';
  const why = r.superuser
    ? 'is a superuser (it can run programs and read files on the database server: COPY … TO PROGRAM)'
    : r.createrole
      ? 'can create roles (it can grant itself the right to run programs on the database server)'
      : r.roles.length
        ? `is a member of ${r.roles.join(', ')} (it can reach the database server's files or programs)`
        : r.functions.length
          ? `can execute ${r.functions.join(', ')} (it reaches the server's files or another connection)`
          : undefined;
  return why && `role ${r.role} ${why}; connect as a member of ${POSTGRES_AUDITOR_ROLE} instead`;
}

/**
 * Runs one statement in a READ ONLY transaction under a statement timeout; the extended protocol
 * refuses a second statement. With {@link SqlOptions.untrusted} (text a person typed), a login role
 * that could reach beyond the database ({@link privilegedRoleReason}) is refused first.
 */
export async function runReadOnlySql(
  client: pg.PoolClient,
  text: string,
  options: SqlOptions,
): Promise<Row[]> {
  const timeoutMs = options.timeoutMs ?? (options.untrusted ? DEFAULT_SQL_TIMEOUT_MS : undefined);
  if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0))
    throw new StoreError(`sql: timeout ${timeoutMs} ms is not a whole number of milliseconds`);
  if (options.untrusted) {
    const reason = await privilegedRoleReason(client);
    if (reason) throw new StoreError(`sql: refused: ${reason}`);
  }
  try {
    await client.query('BEGIN TRANSACTION READ ONLY');
    // Armed when the statement starts: the statement itself cannot lift it (set_config is too late).
    if (timeoutMs !== undefined) await client.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
    const query: pg.QueryConfig & { queryMode: 'extended' } = { text, queryMode: 'extended' };
    const result = await client.query(query);
    if (!result.fields?.length) throw new StoreError('sql: the statement returns no rows');
    return result.rows as Row[];
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '25006') throw new StoreError('sql: only read-only statements are allowed (SELECT, WITH …)');
    if (code === '57014') throw new StoreError(`sql: statement cancelled after the ${timeoutMs} ms timeout`);
    throw err;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}
