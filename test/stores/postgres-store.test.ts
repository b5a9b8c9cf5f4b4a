// PostgresAuditStore against the real server on 127.0.0.1:5432: the same columns and verify as SQLite,
// append-only by trigger and by grants, the seed's queries as written, and the writer role's limits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/keys/keys.js';
import { StoreError } from '../../src/stores/audit-store.js';
import { createAuditStore, openAuditStore } from '../../src/stores/open.js';
import { POSTGRES_AUDITOR_ROLE, POSTGRES_WRITER_ROLE } from '../../src/stores/postgres-schema.js';
import { PostgresAuditStore } from '../../src/stores/postgres-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { createTestDatabase, seedEvent, type TestDatabase } from '../helpers/postgres-db.js';

const signingKey = generateSigningKey();
let db: TestDatabase;
let keyDir: string;

beforeAll(async () => {
  db = await createTestDatabase('store');
  keyDir = mkdtempSync(join(tmpdir(), 'onbehalf-pg-keys-'));
});
afterAll(async () => {
  await db?.drop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

async function asRole<T>(role: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.urlAs(role) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('PostgresAuditStore', () => {
  it('is opened by a postgres:// URL, appends a chain per origin, and verifies', async () => {
    const store = await openAuditStore(db.url, { signingKey, checkpointEvery: 5 });
    expect(store.kind).toBe('postgres');
    const checkpoints: number[] = [];
    store.onCheckpoint((cp) => checkpoints.push(cp.size));
    const appended: number[] = [];
    store.onAppend?.((rows) => appended.push(rows.length));
    const stored = await store.append([seedEvent(0), seedEvent(1), seedEvent(2)]);
    expect(stored.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(stored[0]!.prev_hash).toBe('0'.repeat(64));
    expect(stored[1]!.prev_hash).toBe(stored[0]!.hash);
    await store.append([seedEvent(3), seedEvent(4), seedEvent(5)]);
    expect(appended).toEqual([3, 3]);
    // Read back exactly as written: the chain hashes the canonical bytes of what the server returns.
    const result = await verifyAuditStore(store);
    expect(result).toMatchObject({ ok: true, count: 6 });
    await store.close();
    expect(checkpoints).toContain(6);
    const again = await openAuditStore(db.url, { readonly: true });
    const cps = await again.checkpoints(store.origin);
    expect(cps.at(-1)).toMatchObject({ origin: store.origin, size: 6 });
    expect(await again.origins()).toContain(store.origin);
    await again.close();
  });

  it("runs the seed's two queries as written", async () => {
    const store = await openAuditStore(db.url, { signingKey });
    await store.append(Array.from({ length: 10 }, (_, i) => seedEvent(i, 'seed')));
    const agents = await store.sql(
      "select * from audit_events where actor_type = 'agent' order by timestamp desc;",
    );
    expect(agents.length).toBeGreaterThan(0);
    expect(agents.every((r) => r.actor_type === 'agent')).toBe(true);
    const times = agents.map((r) => r.timestamp as string);
    expect([...times].sort().reverse()).toEqual(times);
    const trigger = await store.sql(
      "select * from audit_events where trigger_id = 'msg-8821' order by timestamp asc;",
    );
    expect(trigger.length).toBeGreaterThanOrEqual(4);
    expect(trigger.every((r) => r.trigger_id === 'msg-8821')).toBe(true);
    expect(Object.keys(trigger[0]!)).toEqual(
      expect.arrayContaining(['event_id', 'on_behalf_of', 'seq', 'hash']),
    );
    // The query builder shared with SQLite filters alike.
    const q = await store.query({ trigger: 'email:msg-8821', actorType: 'agent', order: 'desc' });
    expect(q.length).toBeGreaterThan(0);
    expect(q.every((r) => r.trigger_id === 'msg-8821' && r.actor_type === 'agent')).toBe(true);
    await expect(store.sql('delete from audit_events')).rejects.toThrow(/only read-only/);
    await expect(store.sql('select 1; delete from audit_events')).rejects.toThrow(StoreError);
    await store.close();
  });

  it('refuses UPDATE, DELETE and TRUNCATE by trigger, even for the owner', async () => {
    const store = await openAuditStore(db.url, { signingKey });
    await store.append([seedEvent(0, 'trig')]);
    await store.close();
    for (const table of ['audit_events', 'audit_checkpoints', 'audit_keys', 'audit_origins', 'audit_meta']) {
      await expect(db.admin(`DELETE FROM ${table}`), table).rejects.toThrow(
        `${table} is append-only: DELETE refused`,
      );
    }
    await expect(db.admin("UPDATE audit_events SET result = 'denied'")).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(db.admin('DELETE FROM audit_events')).rejects.toThrow(/append-only: DELETE refused/);
    await expect(db.admin('TRUNCATE audit_events')).rejects.toThrow(/append-only: TRUNCATE refused/);
    await expect(db.admin('DELETE FROM audit_checkpoints')).rejects.toThrow(/append-only/);
    await expect(db.admin('TRUNCATE audit_keys')).rejects.toThrow(/append-only/);
  });

  it('lets the writer role INSERT its own log only: no UPDATE, DELETE, TRUNCATE or reading', async () => {
    const writer = await db.createLoginRole(POSTGRES_WRITER_ROLE);
    const other = await db.createLoginRole(POSTGRES_WRITER_ROLE);
    // Keys are bound to the login role that records them: each writer has its own.
    const writerKey = generateSigningKey();
    const store = await openAuditStore(db.urlAs(writer), { signingKey: writerKey, keyDir });
    await store.append([seedEvent(0, 'writer'), seedEvent(1, 'writer')]);
    expect(await store.checkpoint()).toMatchObject({ size: 2 });
    // The store itself cannot read: reads go through the auditor role.
    await expect(store.query({})).rejects.toThrow(/permission denied/);
    await store.close();

    await asRole(writer, async (c) => {
      for (const sql of [
        'SELECT * FROM audit_events',
        'SELECT count(*) FROM audit_checkpoints',
        'SELECT * FROM audit_origins',
        "UPDATE audit_events SET result = 'denied'",
        'DELETE FROM audit_events',
        'TRUNCATE audit_events',
        'DELETE FROM audit_checkpoints',
        'ALTER TABLE audit_events DISABLE TRIGGER USER',
        'DROP TABLE audit_events',
      ]) {
        await expect(c.query(sql), sql).rejects.toThrow(/permission denied|must be owner/);
      }
    });
    // Another writer cannot read the first one's log through the writer's own-origin functions,
    // nor append to it.
    await asRole(other, async (c) => {
      await expect(c.query('SELECT * FROM onbehalf_own_rows($1, 0, 10)', [store.origin])).rejects.toThrow(
        /not registered to/,
      );
      const row = (await db.admin('SELECT * FROM audit_events WHERE origin = $1 AND seq = 2', [store.origin]))
        .rows[0];
      await expect(
        c.query(
          'INSERT INTO audit_events (seq, origin, event_id, record_type, timestamp, action, prev_hash, hash) VALUES (3, $1, $2, $3, $4, $5, $6, $7)',
          [store.origin, 'evt-forged', 'action', row.timestamp, 'send_mail', row.hash, row.hash],
        ),
      ).rejects.toThrow(/row-level security/);
      await expect(
        c.query("INSERT INTO audit_origins (origin, owner, created_at) VALUES ('x', 'postgres', 'now')"),
      ).rejects.toThrow(/permission denied/);
    });
    // The same writer resumes its own origin, verifying the tail, and the chain goes on.
    const resumed = new PostgresAuditStore(db.urlAs(writer), { signingKey: writerKey, origin: store.origin });
    const [next] = await resumed.append([seedEvent(2, 'writer')]);
    expect(next!.seq).toBe(3);
    await resumed.close();
    const stolen = new PostgresAuditStore(db.urlAs(other), {
      signingKey: generateSigningKey(),
      origin: store.origin,
    });
    await expect(stolen.ready()).rejects.toThrow(/belongs to another writer/);
    await stolen.close();

    // The auditor reads everything and verifies, but writes nothing.
    const auditor = await db.createLoginRole(POSTGRES_AUDITOR_ROLE);
    const audit = await openAuditStore(db.urlAs(auditor), { readonly: true });
    const result = await verifyAuditStore(audit);
    expect(result.ok).toBe(true);
    expect(result.logs.find((l) => l.origin === store.origin)?.count).toBe(3);
    await audit.close();
    await asRole(auditor, async (c) => {
      await expect(c.query("INSERT INTO audit_keys VALUES ('k', '{}', 'now')")).rejects.toThrow(
        /permission denied/,
      );
    });
  });

  it('fails with a StoreError naming the store, never its password, when the server is unreachable', async () => {
    const store = createAuditStore('postgres://agent:s3cret-pw@127.0.0.1:1/audit', { signingKey });
    const err = await store.append([seedEvent(0)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(/store postgres:\/\/agent:\*\*\*@127\.0\.0\.1:1\/audit/);
    expect((err as StoreError).message).toMatch(/ECONNREFUSED/);
    expect((err as StoreError).message).not.toContain('s3cret-pw');
    await store.close();
  });

  it('keeps what PostgreSQL text cannot hold verifiable (NUL, unpaired surrogates)', async () => {
    const store = await openAuditStore(db.url, { signingKey });
    const odd = { ...seedEvent(0, 'odd'), target: 'a\u0000b\uD800c' };
    const [row] = await store.append([odd]);
    expect(row!.target).toBe('a\uFFFDb\uFFFDc');
    const log = (await verifyAuditStore(store)).logs.find((l) => l.origin === store.origin);
    expect(log).toMatchObject({ ok: true, count: 1 });
    await store.close();
  });
});
