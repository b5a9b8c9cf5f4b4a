// The SQLite store on both drivers: node:sqlite (Node >= 22.13, nothing compiled) and better-sqlite3
// (the native addon, where node:sqlite is missing). A store either driver wrote is the same file, read
// and verified the same way by the other.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSqliteDriver, openSqlite, type SqliteDriverName } from '../../src/stores/sqlite-driver.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { tempDir, testSigningKey } from '../helpers/audit.js';
import { seedEvent } from '../helpers/postgres-db.js';

function available(driver: SqliteDriverName): boolean {
  try {
    openSqlite(':memory:', { driver }).close();
    return true;
  } catch {
    return false;
  }
}
const hasNodeSqlite = available('node:sqlite');
const hasBetter = available('better-sqlite3');
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the default driver', () => {
  it('is node:sqlite wherever Node ships it (>= 22.13), better-sqlite3 before', () => {
    const nodeHasIt = major > 22 || (major === 22 && minor >= 13);
    expect(defaultSqliteDriver({})).toBe(nodeHasIt ? 'node:sqlite' : 'better-sqlite3');
    expect(defaultSqliteDriver({ ONBEHALF_SQLITE_DRIVER: 'better-sqlite3' })).toBe('better-sqlite3');
    expect(() => defaultSqliteDriver({ ONBEHALF_SQLITE_DRIVER: 'sqlite4' })).toThrow(
      /ONBEHALF_SQLITE_DRIVER must be node:sqlite or better-sqlite3, got "sqlite4"/,
    );
  });
});

describe.skipIf(!hasNodeSqlite || !hasBetter)('node:sqlite and better-sqlite3 on one store file', () => {
  for (const [writer, reader] of [
    ['node:sqlite', 'better-sqlite3'],
    ['better-sqlite3', 'node:sqlite'],
  ] as const) {
    it(`a store ${writer} wrote, ${reader} reads row for row and verifies`, async () => {
      const dir = tempDir();
      dirs.push(dir);
      const path = join(dir, 'audit.db');
      const store = new SqliteAuditStore(path, { driver: writer, signingKey: testSigningKey });
      const stored = store.appendSync([seedEvent(0), seedEvent(1), seedEvent(2), seedEvent(4)]);
      expect(await store.checkpoint()).toBeDefined();
      await store.close();

      const read = new SqliteAuditStore(path, { driver: reader, readonly: true });
      try {
        const rows = await read.query({ order: 'asc' });
        expect(rows.map((r) => ({ ...r }))).toEqual(stored.map((r) => ({ ...r })));
        const result = await verifyAuditStore(read);
        expect(result.ok).toBe(true);
        expect(result.count).toBe(4);
        expect(result.logs[0]?.checkpointsVerified).toBe(1);
      } finally {
        await read.close();
      }
      // And the other way round: a writer on the other driver resumes the chain.
      const resumed = new SqliteAuditStore(path, { driver: reader, signingKey: testSigningKey });
      resumed.appendSync([seedEvent(5)]);
      await resumed.close();
      const again = new SqliteAuditStore(path, { readonly: true });
      expect((await verifyAuditStore(again)).ok).toBe(true);
      await again.close();
    });
  }
});

describe.each([
  ['node:sqlite', hasNodeSqlite],
  ['better-sqlite3', hasBetter],
] as const)('%s', (driver, present) => {
  it.skipIf(!present)('sql refuses a statement that writes, even where the driver cannot tell', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'audit.db');
    const store = new SqliteAuditStore(path, { driver, signingKey: testSigningKey });
    store.appendSync([seedEvent(0)]);
    try {
      await expect(store.sql('CREATE TABLE planted (a)')).rejects.toThrow(/read-only|readonly|no rows/);
      await expect(
        store.sql("INSERT INTO audit_meta (key, value) VALUES ('x', 'y') RETURNING key"),
      ).rejects.toThrow(/read-only|readonly|attempt to write/);
      // A setting PRAGMA returns a row and looks read-only to SQLite, yet changes the file's journal.
      await expect(store.sql('PRAGMA journal_mode = DELETE')).rejects.toThrow(/PRAGMA that sets a value/);
      await expect(store.sql('pragma  journal_mode(delete)')).rejects.toThrow(/PRAGMA that sets a value/);
      expect(await store.sql('SELECT journal_mode FROM pragma_journal_mode')).toEqual([
        { journal_mode: 'wal' },
      ]);
      expect(await store.sql('SELECT count(*) AS n FROM audit_events')).toEqual([{ n: 1 }]);
      // The connection writes again afterwards: query_only was for the one statement.
      store.appendSync([seedEvent(1)]);
      expect(await store.sql("SELECT count(*) AS n FROM audit_meta WHERE key = 'x'")).toEqual([{ n: 0 }]);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!present)('a rolled-back append leaves neither rows nor chain state behind', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'audit.db');
    const store = new SqliteAuditStore(path, { driver, signingKey: testSigningKey });
    store.appendSync([seedEvent(0)]);
    const duplicate = seedEvent(1);
    expect(() => store.appendSync([duplicate, { ...duplicate }])).toThrow();
    store.appendSync([seedEvent(2)]);
    await store.close();
    const read = new SqliteAuditStore(path, { readonly: true, driver });
    const result = await verifyAuditStore(read);
    await read.close();
    expect(result.ok).toBe(true);
    expect(result.count).toBe(2);
  });
});
