// Two writers on one SQLite file (as two processes of one service would be): each catches up on the
// other's rows before appending, so the file keeps one valid chain, and each one's checkpoints verify.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditEvent, auditEvent } from '../../src/pipeline/event.js';
import { StoreError } from '../../src/stores/audit-store.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { readRows, tempDir } from '../helpers/audit.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = tempDir();
  path = join(dir, 'audit.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function event(writer: string, i: number): AuditEvent {
  return auditEvent({
    event_id: `evt-${writer}-${i}`,
    record_type: 'action',
    timestamp: new Date(Date.UTC(2026, 0, 1, 9, 0, 0, i)).toISOString(),
    actor_type: 'agent',
    actor_id: `nhi:${writer}`,
    actor_name: writer,
    owner_id: 'tom',
    on_behalf_of: 'tom',
    trigger_type: 'email',
    trigger_id: 'msg-8821',
    action: 'label_mail',
    target: `msg-${i}`,
    risk_tier: 1,
    result: 'ok',
    policy_decision: 'not_evaluated',
    approval_state: 'not_required',
    provenance: 'local',
    service_name: writer,
    duration_ms: 1,
  });
}

async function verify() {
  const reader = new SqliteAuditStore(path, { readonly: true });
  try {
    return await verifyAuditStore(reader);
  } finally {
    await reader.close();
  }
}

describe('two writers on one file', () => {
  it('appending alternately keeps one valid chain, whoever checkpoints', async () => {
    // Default key handling: the first writer creates <store>.keys/, the second loads the same key.
    const a = new SqliteAuditStore(path, { checkpointEvery: 5, checkpointIntervalMs: 0 });
    const b = new SqliteAuditStore(path, { checkpointEvery: 5, checkpointIntervalMs: 0 });
    expect(b.origin).toBe(a.origin);
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [writer, name] = i % 2 === 0 ? [a, 'a'] : [b, 'b'];
      // Batches of varying size, so the writers' views fall behind each other by varying amounts.
      const batch = Array.from({ length: 1 + (i % 3) }, (_, k) => event(name, i * 10 + k));
      seqs.push(...writer.appendSync(batch).map((r) => r.seq));
    }
    await a.close();
    await b.close();
    const rows = readRows(path);
    expect(seqs).toEqual(rows.map((r) => r.seq));
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    expect(new Set(rows.map((r) => r.actor_name))).toEqual(new Set(['a', 'b']));
    const r = await verify();
    expect(r).toMatchObject({ ok: true, count: rows.length });
    expect(r.logs[0]!.checkpointsVerified).toBeGreaterThanOrEqual(2);
  });

  it('a writer reopened after the other wrote continues the same chain', async () => {
    const a = new SqliteAuditStore(path);
    a.appendSync([event('a', 1), event('a', 2)]);
    await a.close();
    const b = new SqliteAuditStore(path);
    const [stored] = b.appendSync([event('b', 3)]);
    expect(stored).toMatchObject({ seq: 3 });
    const again = new SqliteAuditStore(path);
    b.appendSync([event('b', 4)]);
    const [next] = again.appendSync([event('a', 5)]);
    expect(next).toMatchObject({ seq: 5 });
    await b.close();
    await again.close();
    expect(await verify()).toMatchObject({ ok: true, count: 5 });
  });

  it("refuses to append on top of another writer's tampered row", async () => {
    const a = new SqliteAuditStore(path, { checkpointIntervalMs: 0 });
    const b = new SqliteAuditStore(path, { checkpointIntervalMs: 0 });
    a.appendSync([event('a', 1)]);
    b.appendSync([event('b', 2)]);
    // A row arrives that does not link (a forged insert by a third party that bypasses the chain).
    const forged = { ...readRows(path)[1]!, seq: 3, event_id: 'evt-forged' };
    const db = new Database(path);
    const cols = Object.keys(forged);
    db.prepare(
      `INSERT INTO audit_events (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
    ).run(forged);
    db.close();
    let error: unknown;
    try {
      a.appendSync([event('a', 4)]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).kind).toBe('tampered');
    expect((error as StoreError).message).toMatch(/seq 3: .*refusing to append/);
    expect(readRows(path)).toHaveLength(3);
    await a.close().catch(() => undefined);
    await b.close().catch(() => undefined);
    expect(await verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });
});
