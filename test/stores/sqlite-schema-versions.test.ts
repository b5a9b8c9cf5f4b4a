// Schema versions of the SQLite store on real files: a new store gets version 3; stores of versions 1
// and 2 keep their own schema when appended to, and verify holds each file to its own version's text
// (refusing an index or trigger of another version, a dropped trigger or an index rebuilt to hide rows).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/pipeline/event.js';
import { StoreError } from '../../src/stores/audit-store.js';
import {
  SQLITE_SCHEMA_VERSION,
  type SqliteSchemaVersion,
  sqliteSchema,
} from '../../src/stores/sqlite-schema.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { tempDir, testSigningKey } from '../helpers/audit.js';
import { inboxAgentStep } from '../helpers/inbox-agent-row.js';
import { createLegacyStore } from '../helpers/legacy-store.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function event(i: number): AuditEvent {
  return inboxAgentStep(i, 'v');
}

type Entry = { type: string; name: string; tbl_name: string; sql: string | null };

function schemaOf(db: Database.Database): Entry[] {
  return db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name').all() as Entry[];
}

function fileSchema(path: string): Entry[] {
  const db = new Database(path, { readonly: true });
  try {
    return schemaOf(db);
  } finally {
    db.close();
  }
}

function versionSchema(version: SqliteSchemaVersion): Entry[] {
  const db = new Database(':memory:');
  try {
    db.exec(sqliteSchema(version));
    return schemaOf(db);
  } finally {
    db.close();
  }
}

/** The pinned dump format of testdata/sqlite-schema/v*.sql. */
function dump(version: SqliteSchemaVersion): string {
  const text = versionSchema(version)
    .map((r) => `-- ${r.type} ${r.name} on ${r.tbl_name}\n${r.sql ?? '-- (no sql: made by a constraint)'};\n`)
    .join('\n');
  return `-- sqlite_master of a store of schema version ${version}, as the release that introduced the version created it.\n-- Pinned: stores of this version are still read, verified and appended to, and verify compares their\n-- schema with this text byte for byte.\n\n${text}`;
}

async function append(path: string, from: number, n: number): Promise<void> {
  const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
  store.appendSync(Array.from({ length: n }, (_, i) => event(from + i)));
  await store.close();
}

async function problemsOf(path: string): Promise<string[]> {
  const store = new SqliteAuditStore(path, { readonly: true });
  try {
    return (await store.structureProblems()).map((p) => p.message);
  } finally {
    await store.close();
  }
}

function edit(path: string, fn: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

describe('SQLite schema versions', () => {
  it('keeps the text of versions 1 and 2 as the releases that introduced them created it', () => {
    for (const v of ['1', '2'] as const) {
      expect(dump(v), `version ${v}`).toBe(
        readFileSync(new URL(`../../testdata/sqlite-schema/v${v}.sql`, import.meta.url), 'utf8'),
      );
    }
  });

  it('creates a new store with version 3: no actor index, FAIL guards that look up the rowid too', async () => {
    expect(SQLITE_SCHEMA_VERSION).toBe('3');
    const path = join(dir, 'new.db');
    await append(path, 1, 3);
    const schema = fileSchema(path);
    expect(schema).toEqual(versionSchema('3'));
    const names = schema.map((e) => e.name);
    expect(names).not.toContain('audit_events_actor');
    expect(names).toEqual(expect.arrayContaining(['audit_events_timestamp', 'audit_events_trigger']));
    const guard = schema.find((e) => e.name === 'audit_events_no_replace')!.sql!;
    expect(guard).toContain('OR rowid = NEW.rowid');
    expect(guard).toContain("RAISE(FAIL, 'audit_events is append-only: replacing a row refused')");
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT value FROM audit_meta WHERE key = 'schema_version'").pluck().get()).toBe('3');
    db.close();
    expect(await problemsOf(path)).toEqual([]);
  });

  for (const version of ['1', '2'] as const) {
    it(`appends to a version-${version} store as it is, and verifies it`, async () => {
      const path = createLegacyStore(join(dir, `v${version}.db`), 'onbehalf/legacy-host/0001', version);
      await append(path, 1, 5);
      await append(path, 6, 3);
      expect(fileSchema(path)).toEqual(versionSchema(version));
      expect(fileSchema(path).map((e) => e.name)).toContain('audit_events_actor');
      const store = new SqliteAuditStore(path, { readonly: true });
      try {
        const r = await verifyAuditStore(store);
        expect(r.reason).toBeUndefined();
        expect(r).toMatchObject({ ok: true, count: 8 });
        expect(r.database).toEqual([]);
      } finally {
        await store.close();
      }
      const db = new Database(path, { readonly: true });
      expect(db.prepare("SELECT value FROM audit_meta WHERE key = 'schema_version'").pluck().get()).toBe(
        version,
      );
      db.close();
    });
  }

  it('refuses to append to a store whose version it does not know', () => {
    const path = createLegacyStore(join(dir, 'v9.db'), 'onbehalf/legacy-host/0001', '9');
    expect(() => new SqliteAuditStore(path, { signingKey: testSigningKey })).toThrow(StoreError);
    expect(() => new SqliteAuditStore(path, { signingKey: testSigningKey })).toThrow(
      /schema version "9" is not one this release knows \(1, 2, 3\)/,
    );
  });

  it("holds each store to its own version's schema: another version's objects are tampering", async () => {
    const v2 = createLegacyStore(join(dir, 'v2.db'), 'onbehalf/legacy-host/0001', '2');
    await append(v2, 1, 3);
    const v3 = join(dir, 'v3.db');
    await append(v3, 1, 3);
    expect(await problemsOf(v2)).toEqual([]);
    expect(await problemsOf(v3)).toEqual([]);

    // A version-2 store without its actor index, or with version 3's guard, is not a version-2 store.
    const actor = versionSchema('2').find((e) => e.name === 'audit_events_actor')!.sql!;
    edit(v2, (db) => db.exec('DROP INDEX audit_events_actor'));
    expect(await problemsOf(v2)).toEqual(['schema: index audit_events_actor is missing (dropped)']);
    edit(v2, (db) => {
      db.exec(actor);
      db.exec('DROP TRIGGER audit_events_no_replace');
      db.exec(versionSchema('3').find((e) => e.name === 'audit_events_no_replace')!.sql!);
    });
    expect(await problemsOf(v2)).toEqual([
      "schema: trigger audit_events_no_replace differs from the store's schema version 2 (edited, e.g. through writable_schema)",
    ]);

    // A version-3 store given version 2's actor index, or its guard dropped.
    edit(v3, (db) => db.exec(actor));
    expect(await problemsOf(v3)).toEqual([
      'schema: index "audit_events_actor" is not part of the store\'s schema (added)',
    ]);
    edit(v3, (db) => {
      db.exec('DROP INDEX audit_events_actor');
      db.exec('DROP TRIGGER audit_events_no_replace');
    });
    expect(await problemsOf(v3)).toEqual(['schema: trigger audit_events_no_replace is missing (dropped)']);
  });

  it('refuses a version-3 index rebuilt with a WHERE to hide rows', async () => {
    const path = join(dir, 'hidden.db');
    await append(path, 1, 4);
    edit(path, (db) => {
      db.exec(`DROP INDEX audit_events_trigger;
        CREATE INDEX audit_events_trigger ON audit_events (trigger_id, timestamp) WHERE action <> 'step_2';`);
    });
    const problems = await problemsOf(path);
    expect(problems).toEqual([
      "schema: index audit_events_trigger differs from the store's schema version 3 (edited, e.g. through writable_schema)",
    ]);
  });
});
