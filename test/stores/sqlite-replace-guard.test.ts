// The replacement guard of a version-3 store, from another SQLite client with recursive_triggers off
// (so that REPLACE's deletions fire no DELETE trigger; better-sqlite3 turns it on by default): every
// INSERT on an existing key is refused, whichever key it names, and the writer appends on after it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/pipeline/event.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { tempDir, testSigningKey } from '../helpers/audit.js';
import { inboxAgentStep } from '../helpers/inbox-agent-row.js';
import { createLegacyStore } from '../helpers/legacy-store.js';

const REFUSED = 'audit_events is append-only: replacing a row refused';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = tempDir();
  path = join(dir, 'audit.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function event(i: number): AuditEvent {
  return inboxAgentStep(i, 'g');
}

async function append(from: number, n: number): Promise<void> {
  const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointEvery: 2 });
  store.appendSync(Array.from({ length: n }, (_, i) => event(from + i)));
  await store.close();
}

/** Another client's connection, as an attacker with the file would open it. */
function attacker(fn: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    db.pragma('recursive_triggers = OFF');
    fn(db);
  } finally {
    db.close();
  }
}

type Row = Record<string, unknown>;
const rowAt = (db: Database.Database, seq: number) =>
  db.prepare('SELECT rowid AS row_id, * FROM audit_events WHERE seq = ?').get(seq) as Row;
const insertSql = (verb: string, row: Row, withRowid = false) => {
  const cols = Object.keys(row).filter((c) => c !== 'row_id');
  const names = withRowid ? ['rowid', ...cols] : cols;
  const values = withRowid ? ['@row_id', ...cols.map((c) => `@${c}`)] : cols.map((c) => `@${c}`);
  return `${verb} INTO audit_events (${names.join(', ')}) VALUES (${values.join(', ')})`;
};
const snapshot = (db: Database.Database) =>
  db.prepare('SELECT rowid, * FROM audit_events ORDER BY rowid').all();

async function verified(): Promise<{ ok: boolean; count: number; reason?: string }> {
  const store = new SqliteAuditStore(path, { readonly: true });
  try {
    return await verifyAuditStore(store);
  } finally {
    await store.close();
  }
}

describe('the replacement guard (schema version 3)', () => {
  beforeEach(() => append(1, 4));

  it('refuses INSERT OR REPLACE on an existing origin and seq, event_id, or rowid', () => {
    attacker((db) => {
      const before = snapshot(db);
      const original = rowAt(db, 2);
      const sameKey = { ...original, target: 'dana@acme.example' };
      expect(() => db.prepare(insertSql('INSERT OR REPLACE', sameKey)).run(sameKey)).toThrow(REFUSED);
      const sameEventId = { ...original, seq: 99, target: 'dana@acme.example' };
      expect(() => db.prepare(insertSql('INSERT OR REPLACE', sameEventId)).run(sameEventId)).toThrow(REFUSED);
      // A new origin, seq and event_id: only the rowid it names is an existing row's.
      const sameRowid = { ...original, seq: 99, event_id: 'evt-forged', target: 'dana@acme.example' };
      expect(() => db.prepare(insertSql('INSERT OR REPLACE', sameRowid, true)).run(sameRowid)).toThrow(
        REFUSED,
      );
      // Several rows in one statement: stopped at the first existing one, nothing replaced.
      expect(() =>
        db.exec(
          "INSERT OR REPLACE INTO audit_events SELECT seq, origin, event_id, record_type, timestamp, actor_type, actor_id, actor_name, owner_id, on_behalf_of, trigger_type, trigger_id, intent, session_id, delegation_chain, scopes, 'forged', target, risk_tier, result, policy_decision, policy_rule, approval_state, approved_by, provenance, tool_arguments, redactions, trace_id, span_id, parent_span_id, service_name, duration_ms, attributes, prev_hash, hash FROM audit_events",
        ),
      ).toThrow(REFUSED);
      // A plain INSERT of a copy is refused by the same guard, before the key constraint.
      expect(() => db.prepare(insertSql('INSERT', original)).run(original)).toThrow(REFUSED);
      expect(snapshot(db)).toEqual(before);
    });
  });

  it('refuses a checkpoint replaced by rowid and skips a meta row replaced by rowid', () => {
    attacker((db) => {
      const cp = db
        .prepare('SELECT rowid AS row_id, * FROM audit_checkpoints ORDER BY size LIMIT 1')
        .get() as Row;
      expect(() =>
        db
          .prepare(
            'INSERT OR REPLACE INTO audit_checkpoints (rowid, origin, size, root, note, state, created_at) VALUES (@row_id, @origin, 999, @root, @note, @state, @created_at)',
          )
          .run(cp),
      ).toThrow('audit_checkpoints is append-only: replacing a row refused');
      const meta = () => db.prepare('SELECT rowid, key, value FROM audit_meta ORDER BY rowid').all();
      const before = meta();
      const first = before[0] as { rowid: number };
      db.prepare("INSERT OR REPLACE INTO audit_meta (rowid, key, value) VALUES (?, 'purpose', 'x')").run(
        first.rowid,
      );
      expect(meta()).toEqual(before);
    });
  });

  it('leaves the log whole: the writer appends on and verify passes', async () => {
    attacker((db) => {
      const row = rowAt(db, 3);
      expect(() => db.prepare(insertSql('INSERT OR REPLACE', row, true)).run(row)).toThrow(REFUSED);
    });
    await append(5, 3);
    expect(await verified()).toMatchObject({ ok: true, count: 7 });
  });
});

describe('the replacement guard of a version-2 store', () => {
  it('refuses a replaced key; a replaced rowid it misses is still caught by verify', async () => {
    createLegacyStore(path, 'onbehalf/legacy-host/0001', '2');
    await append(1, 4);
    attacker((db) => {
      const original = rowAt(db, 2);
      const sameKey = { ...original, target: 'dana@acme.example' };
      expect(() => db.prepare(insertSql('INSERT OR REPLACE', sameKey)).run(sameKey)).toThrow(REFUSED);
      const sameRowid = { ...original, seq: 99, event_id: 'evt-forged' };
      db.prepare(insertSql('INSERT OR REPLACE', sameRowid, true)).run(sameRowid);
      expect(db.prepare('SELECT count(*) FROM audit_events WHERE seq = 2').pluck().get()).toBe(0);
    });
    const r = await verified();
    expect(r.ok).toBe(false);
  });
});
