// `onbehalf sql postgres://…` on the real server: one read-only statement, under a statement timeout
// (pg_sleep and an endless recursive CTE are cancelled, whatever the statement sets), and never as a
// role that can run programs or read files on the database server (COPY … TO PROGRAM).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/keys/keys.js';
import type { AuditStore } from '../../src/stores/audit-store.js';
import { openAuditStore } from '../../src/stores/open.js';
import { POSTGRES_AUDITOR_ROLE } from '../../src/stores/postgres-schema.js';
import { createTestDatabase, seedEvent, type TestDatabase } from '../helpers/postgres-db.js';
import { runProcess } from '../helpers/run-process.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
let db: TestDatabase;
let auditor: string;

beforeAll(async () => {
  db = await createTestDatabase('sql');
  const owner = await openAuditStore(db.url, { signingKey: generateSigningKey() });
  await owner.append([seedEvent(0), seedEvent(1)]);
  await owner.close();
  auditor = await db.createLoginRole(POSTGRES_AUDITOR_ROLE);
});
afterAll(() => db?.drop());

async function withStore<T>(role: string, fn: (s: AuditStore) => Promise<T>): Promise<T> {
  const store = await openAuditStore(db.urlAs(role), { readonly: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const sqlCli = (url: string, text: string) =>
  runProcess(process.execPath, [CLI, 'sql', url, text, '--format', 'json']);

describe('sql on PostgreSQL', () => {
  it('runs a read-only statement as an auditor, and refuses writes and a second statement', async () => {
    await withStore(auditor, async (store) => {
      expect(await store.sql('SELECT count(*)::int AS n FROM audit_events', { untrusted: true })).toEqual([
        { n: 2 },
      ]);
      await expect(store.sql('DELETE FROM audit_events WHERE seq = 1', { untrusted: true })).rejects.toThrow(
        /only read-only statements/,
      );
      await expect(store.sql('SELECT 1; SELECT 2', { untrusted: true })).rejects.toThrow(
        /cannot insert multiple commands/,
      );
    });
    const cli = await sqlCli(db.urlAs(auditor), 'SELECT count(*)::int AS n FROM audit_events');
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual([{ n: 2 }]);
  });

  it('cancels pg_sleep and an endless recursive CTE at the timeout, even if the statement lifts it', async () => {
    await withStore(auditor, async (store) => {
      for (const text of [
        'SELECT pg_sleep(600)',
        'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r',
        "SELECT set_config('statement_timeout', '0', true), pg_sleep(600)",
        "SELECT pg_sleep(600) FROM (SELECT set_config('statement_timeout', '0', false)) s",
      ]) {
        await expect(store.sql(text, { untrusted: true, timeoutMs: 300 }), text).rejects.toThrow(
          'sql: statement cancelled after the 300 ms timeout',
        );
      }
      // The next statement on the same pool runs normally.
      expect(await store.sql('SELECT 1 AS one', { untrusted: true })).toEqual([{ one: 1 }]);
    });
  });

  it('refuses a superuser URL and roles that reach the server: files, programs, role creation', async () => {
    const copy = "COPY (SELECT 1) TO PROGRAM 'touch /tmp/onbehalf-pwned'";
    const cli = await sqlCli(db.url, copy);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/sql: refused: role postgres is a superuser .*COPY … TO PROGRAM/);
    expect(cli.stderr).toMatch(/connect as a member of onbehalf_auditor/);
    expect(cli.stderr).not.toMatch(/\n\s+at /);

    const program = await db.createLoginRole(POSTGRES_AUDITOR_ROLE, 'pg_execute_server_program');
    const files = await db.createLoginRole('pg_read_server_files');
    const creator = await db.createLoginRole(POSTGRES_AUDITOR_ROLE);
    await db.admin(`ALTER ROLE ${creator} CREATEROLE`);
    const reader = await db.createLoginRole(POSTGRES_AUDITOR_ROLE);
    await db.admin(`GRANT EXECUTE ON FUNCTION pg_read_file(text) TO ${reader}`);
    for (const [role, why] of [
      [program, /is a member of pg_execute_server_program/],
      [files, /is a member of pg_read_server_files/],
      [creator, /can create roles/],
      [reader, /can execute pg_read_file\(text\)/],
    ] as const) {
      await withStore(role, async (store) => {
        await expect(store.sql('SELECT 1', { untrusted: true }), role).rejects.toThrow(why);
        // onbehalf's own queries (verify's row count, gap summary) still run.
        expect(await store.sql('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      });
    }
  });
});
