// Append-only and tamper-evident on a real SQLite file: the triggers refuse UPDATE/DELETE; once someone
// drops them, verifyAuditStore names the first bad seq, and the writer refuses a store whose tail broke.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogState } from '../../src/log-format/chain.js';
import {
  type AuditEvent,
  auditEvent,
  EVENT_COLUMNS,
  type StoredAuditEvent,
} from '../../src/pipeline/event.js';
import { StoreError } from '../../src/stores/audit-store.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { storeConnection, tempDir, testSigningKey } from '../helpers/audit.js';

const N = 10;
const CHECKPOINT_EVERY = 4;

let dir: string;
let path: string;
beforeEach(() => {
  dir = tempDir();
  path = join(dir, 'audit.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function event(i: number): AuditEvent {
  return auditEvent({
    event_id: `evt-${String(i).padStart(4, '0')}`,
    record_type: 'action',
    timestamp: new Date(Date.UTC(2026, 0, 1, 3, 14, i)).toISOString(),
    actor_type: i % 3 === 0 ? 'human' : 'agent',
    actor_id: i % 3 === 0 ? 'tom' : 'nhi:agent-7f3',
    actor_name: i % 3 === 0 ? null : 'inbox-agent',
    owner_id: i % 3 === 0 ? null : 'tom',
    on_behalf_of: 'tom',
    trigger_type: 'email',
    trigger_id: 'msg-8821',
    action: i === 5 ? 'send_mail' : `step_${i}`,
    target: i === 5 ? 'stranger@evil.example' : `item-${i}`,
    risk_tier: i === 5 ? 2 : 0,
    result: 'ok',
    policy_decision: 'not_evaluated',
    approval_state: 'not_required',
    provenance: 'local',
    service_name: 'inbox-agent',
    duration_ms: i,
  });
}

/** A store of N events, checkpointed every CHECKPOINT_EVERY and at close: sizes 4, 8, 10. */
async function buildStore(): Promise<void> {
  const store = new SqliteAuditStore(path, {
    signingKey: testSigningKey,
    checkpointEvery: CHECKPOINT_EVERY,
  });
  for (let i = 1; i <= N; i++) store.appendSync([event(i)]);
  await store.close();
}

/** A second, independent connection, with the append-only triggers dropped (as an attacker would). */
function attacker(): Database.Database {
  const db = new Database(path);
  const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {
    name: string;
  }[];
  for (const { name } of triggers) db.exec(`DROP TRIGGER ${name}`);
  return db;
}

function tamper(fn: (db: Database.Database) => void): void {
  const db = attacker();
  try {
    fn(db);
  } finally {
    db.close();
  }
}

async function verify() {
  const store = new SqliteAuditStore(path, { readonly: true });
  try {
    return await verifyAuditStore(store, { trustedKeys: undefined });
  } finally {
    await store.close();
  }
}

const row = (db: Database.Database, seq: number) =>
  db.prepare('SELECT * FROM audit_events WHERE seq = ?').get(seq) as StoredAuditEvent;

function setRow(db: Database.Database, seq: number, values: Partial<StoredAuditEvent>): void {
  const cols = Object.keys(values);
  db.prepare(
    `UPDATE audit_events SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE seq = @where_seq`,
  ).run({
    ...values,
    where_seq: seq,
  });
}

describe('append-only', () => {
  beforeEach(buildStore);

  const tables: [string, string][] = [
    ['audit_events', "UPDATE audit_events SET target = 'dana@acme.example' WHERE seq = 5"],
    ['audit_checkpoints', "UPDATE audit_checkpoints SET note = 'x' WHERE size = 4"],
    ['audit_keys', "UPDATE audit_keys SET jwk = '{}'"],
    ['audit_meta', "UPDATE audit_meta SET value = 'onbehalf/elsewhere/0000' WHERE key = 'origin'"],
  ];
  it.each(tables)('refuses UPDATE and DELETE on %s, naming the table', (table, update) => {
    const db = new Database(path);
    try {
      expect(() => db.exec(update)).toThrow(`${table} is append-only: UPDATE refused`);
      expect(() => db.exec(`DELETE FROM ${table}`)).toThrow(`${table} is append-only: DELETE refused`);
      expect((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it("refuses them on the writer's own connection too, and store.sql runs read-only statements only", async () => {
    const store = new SqliteAuditStore(path, { signingKey: testSigningKey });
    try {
      expect(() => storeConnection(store).exec('DELETE FROM audit_events')).toThrow(
        'audit_events is append-only: DELETE refused',
      );
      await expect(store.sql('DELETE FROM audit_events')).rejects.toThrow('only read-only statements');
      expect(await store.sql('SELECT count(*) AS n FROM audit_events')).toEqual([{ n: N }]);
    } finally {
      await store.close();
    }
  });

  it('refuses INSERT OR REPLACE, which would delete a row without firing a DELETE trigger', () => {
    const db = new Database(path);
    try {
      const original = row(db, 5);
      const forged = { ...original, target: 'dana@acme.example' };
      const cols = Object.keys(forged);
      const replace = db.prepare(
        `INSERT OR REPLACE INTO audit_events (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
      );
      expect(() => replace.run(forged)).toThrow('audit_events is append-only: replacing a row refused');
      expect(row(db, 5).target).toBe('stranger@evil.example');
      const cp = db.prepare('SELECT * FROM audit_checkpoints WHERE size = 4').get() as Record<
        string,
        unknown
      >;
      expect(() =>
        db
          .prepare(
            'INSERT OR REPLACE INTO audit_checkpoints (origin, size, root, note, state, created_at) VALUES (@origin, @size, @root, @note, @state, @created_at)',
          )
          .run({ ...cp, note: 'forged' }),
      ).toThrow('audit_checkpoints is append-only: replacing a row refused');
      // The writer re-inserts its meta and key with INSERT OR IGNORE on every open: skipped, not refused.
      const origin = () => db.prepare("SELECT value FROM audit_meta WHERE key = 'origin'").get();
      const before = origin();
      db.exec("INSERT OR REPLACE INTO audit_meta (key, value) VALUES ('origin', 'onbehalf/elsewhere/0000')");
      expect(origin()).toEqual(before);
      const keys = () => db.prepare('SELECT * FROM audit_keys').all();
      const keysBefore = keys();
      db.prepare("INSERT OR REPLACE INTO audit_keys (kid, jwk, added_at) VALUES (?, '{}', 'now')").run(
        (keysBefore[0] as { kid: string }).kid,
      );
      expect(keys()).toEqual(keysBefore);
    } finally {
      db.close();
    }
  });
});

describe('verifyAuditStore', () => {
  beforeEach(buildStore);

  it('passes on an untouched store, checking every checkpoint', async () => {
    const r = await verify();
    expect(r).toMatchObject({ ok: true, count: N, keySource: 'store' });
    expect(r.logs).toHaveLength(1);
    expect(r.logs[0]!.checkpointsVerified).toBe(3);
  });

  it('fails on a row edited, naming its seq', async () => {
    tamper((db) => setRow(db, 5, { target: 'dana@acme.example' }));
    const r = await verify();
    expect(r).toMatchObject({ ok: false, firstBadSeq: 5 });
    expect(r.logs[0]!.problems[0]).toEqual({
      code: 'row.hash_mismatch',
      origin: r.origin,
      seq: 5,
      message: 'seq 5: hash does not match its contents (row edited)',
    });
    expect(r.reason).toBe('seq 5: hash does not match its contents (row edited) [row.hash_mismatch]');
  });

  it('fails on a row deleted, naming its seq', async () => {
    tamper((db) => db.prepare('DELETE FROM audit_events WHERE seq = 5').run());
    const r = await verify();
    expect(r).toMatchObject({ ok: false, firstBadSeq: 5 });
    expect(r.reason).toMatch(/^seq 5: missing \(row deleted\)/);
  });

  it('fails on two rows whose contents were swapped, naming the first', async () => {
    tamper((db) => {
      const a = row(db, 3);
      const b = row(db, 4);
      const contents = (r: StoredAuditEvent) =>
        Object.fromEntries(EVENT_COLUMNS.map((c) => [c, r[c]])) as Partial<StoredAuditEvent>;
      // event_id is unique: park one first.
      setRow(db, 3, { event_id: 'parked' });
      setRow(db, 4, contents(a));
      setRow(db, 3, contents(b));
    });
    const r = await verify();
    expect(r).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(r.reason).toMatch(/^seq 3: /);
  });

  it('fails on two whole rows swapped (hashes included), naming the first', async () => {
    tamper((db) => {
      const a = row(db, 3);
      const b = row(db, 4);
      const { seq: _a, ...restA } = a;
      const { seq: _b, ...restB } = b;
      setRow(db, 3, { event_id: 'parked' });
      setRow(db, 4, restA);
      setRow(db, 3, restB);
    });
    const r = await verify();
    expect(r).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(r.reason).toMatch(/^seq 3: prev_hash does not link to seq 2/);
  });

  it('fails on an edited checkpoint, naming the size it covers', async () => {
    tamper((db) => {
      const { note } = db.prepare('SELECT note FROM audit_checkpoints WHERE size = 8').get() as {
        note: string;
      };
      db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = 8').run(note.replace('\n8\n', '\n7\n'));
    });
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.logs[0]!.problems.map((p) => p.code)).toEqual(['checkpoint.signature_invalid']);
    expect(r.reason).toMatch(
      /^checkpoint at size 7: signature .* does not verify \(checkpoint edited\) \[checkpoint\.signature_invalid\]$/,
    );
  });

  it('fails when a row was rewritten and the chain recomputed: the signed checkpoints catch it', async () => {
    tamper((db) => {
      const rows = db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as StoredAuditEvent[];
      const state = new LogState(rows[0]!.origin);
      for (const r of rows) {
        const contents = Object.fromEntries(EVENT_COLUMNS.map((c) => [c, r[c]])) as AuditEvent;
        if (r.seq === 6) contents.target = 'nobody@acme.example';
        const { integrity } = state.append(contents);
        setRow(db, r.seq, { ...contents, prev_hash: integrity.prev_hash, hash: integrity.hash });
      }
    });
    const r = await verify();
    // The checkpoint at 4 still matches, the one at 8 does not: the rewrite is in 5..8.
    expect(r).toMatchObject({ ok: false, firstBadSeq: 5 });
    expect(r.reason).toMatch(/^seq 5\.\.8: the Merkle root of the first 8 rows does not match/);
  });

  it('fails on a truncated log (rows removed from the end)', async () => {
    tamper((db) => db.prepare('DELETE FROM audit_events WHERE seq > 8').run());
    const r = await verify();
    expect(r).toMatchObject({ ok: false, firstBadSeq: 9 });
  });
});

describe('the writer refuses a broken store', () => {
  /** Rows 9..N are committed but no checkpoint covers them, as when the process died before closing. */
  async function buildCrashedStore(): Promise<void> {
    const store = new SqliteAuditStore(path, {
      signingKey: testSigningKey,
      checkpointEvery: CHECKPOINT_EVERY,
      checkpointIntervalMs: 0,
    });
    for (let i = 1; i <= N; i++) store.appendSync([event(i)]);
    storeConnection(store).close();
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT max(size) AS size FROM audit_checkpoints').get()).toEqual({ size: 8 });
    db.close();
  }

  const reopen = () => new SqliteAuditStore(path, { signingKey: testSigningKey });

  function expectTampered(fn: () => unknown, seq: number): void {
    let error: unknown;
    try {
      fn();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).kind).toBe('tampered');
    expect((error as StoreError).message).toContain(`seq ${seq}`);
    expect((error as StoreError).message).toContain('refusing to append');
  }

  it('reopens and appends after an untouched crash (catching up on the unsigned tail)', async () => {
    await buildCrashedStore();
    const store = reopen();
    store.appendSync([event(N + 1)]);
    await store.close();
    expect(await verify()).toMatchObject({ ok: true, count: N + 1 });
  });

  it('refuses a tail row edited after the last checkpoint', async () => {
    await buildCrashedStore();
    tamper((db) => setRow(db, 9, { result: 'error' }));
    expectTampered(reopen, 9);
  });

  it('refuses a tail row deleted after the last checkpoint', async () => {
    await buildCrashedStore();
    tamper((db) => db.prepare('DELETE FROM audit_events WHERE seq = 9').run());
    expectTampered(reopen, 9);
  });

  it('refuses a store whose last checkpointed row was replaced', async () => {
    await buildStore();
    tamper((db) => setRow(db, N, { hash: 'f'.repeat(64) }));
    expectTampered(reopen, N);
  });

  it('refuses a store whose last checkpoint was edited', async () => {
    await buildStore();
    tamper((db) => {
      const { note } = db.prepare(`SELECT note FROM audit_checkpoints WHERE size = ${N}`).get() as {
        note: string;
      };
      db.prepare(`UPDATE audit_checkpoints SET note = ? WHERE size = ${N}`).run(
        note.replace(`\n${N}\n`, `\n${N - 1}\n`),
      );
    });
    expect(reopen).toThrow(StoreError);
    try {
      reopen();
    } catch (err) {
      expect((err as StoreError).kind).toBe('tampered');
    }
  });

  it("with verifyOnOpen 'full', refuses a row edited in the middle, under a checkpoint", async () => {
    await buildStore();
    tamper((db) => setRow(db, 2, { actor_type: 'human' }));
    expectTampered(() => new SqliteAuditStore(path, { signingKey: testSigningKey, verifyOnOpen: 'full' }), 2);
  });
});
