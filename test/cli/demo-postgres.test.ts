import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAuditStore } from '../../src/stores/postgres-store.js';
import { createTestDatabase, seedEvent, type TestDatabase } from '../helpers/postgres-db.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('demo');
});
afterAll(async () => {
  await db?.drop();
});

describe('onbehalf demo --store postgres://…', () => {
  it('runs the story on PostgreSQL, twice, each run under its own origin, and verifies', () => {
    for (const _ of [1, 2]) {
      const r = run('demo', '--store', db.url);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/on_behalf_of=tom {2}action=send_mail/);
      // This run's rows only, though the database keeps the earlier run.
      expect(r.stdout).toMatch(/and origin = 'onbehalf-demo\//);
      expect(r.stdout.match(/email:msg-8821 +delete_mail .* denied/g)).toHaveLength(2);
    }
    const verified = run('verify', db.url);
    expect(verified.status).toBe(0);
    expect(verified.stdout.match(/^intact {2}onbehalf-demo\//gm)).toHaveLength(2);
  });

  it('refuses a database that holds another writer’s audit trail, naming it, and writes nothing', async () => {
    const other = await createTestDatabase('demo_foreign');
    try {
      const writer = new PostgresAuditStore(other.url, { origin: 'onbehalf/prod-host/1' });
      await writer.append([seedEvent(0)]);
      await writer.close();
      const r = run('demo', '--store', other.url);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/holds the audit trail of 1 other writer\(s\)/);
      const rows = await other.admin('SELECT origin FROM audit_events');
      expect(rows.rows).toEqual([{ origin: 'onbehalf/prod-host/1' }]);
    } finally {
      await other.drop();
    }
  });
});

describe('onbehalf verify on an empty store', () => {
  it('says plainly that nothing was ever recorded', () => {
    const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
    const store = join(dir, 'empty.db');
    const created = spawnSync(
      process.execPath,
      [
        '-e',
        `import(${JSON.stringify(join(import.meta.dirname, '../../dist/stores/sqlite-store.js'))}).then(async (m) => { await new m.SqliteAuditStore(${JSON.stringify(store)}).close(); })`,
      ],
      { encoding: 'utf8' },
    );
    expect(created.status, created.stderr).toBe(0);
    const r = run('verify', store);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^empty: nothing was ever recorded in this store/m);
    expect(r.stdout).not.toMatch(/^intact/m);
  });
});
