// Verification hashes the canonical text SQLite renders for each row instead of decoding its columns.
// That text must equal the exact canonical bytes for every value a writer can store, and a row whose
// text does not hash to its chain must still be judged by the exact path, never by the rendering.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalEventBytes } from '../../src/log-format/canonical.js';
import { LogState, type PrerenderedRow, type StoredRow } from '../../src/log-format/chain.js';
import { type AuditEvent, auditEvent } from '../../src/pipeline/event.js';
import { PRERENDER_MATCHES_SCHEMA } from '../../src/stores/sqlite-prerendered.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { tempDir, testSigningKey } from '../helpers/audit.js';
import { createLegacyStore } from '../helpers/legacy-store.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('onbehalf-prerendered-');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('a\u0000b', '\u2028\u2029', '\u007f', '"\\/', '\ud800 lone', 'é😀', ''),
);
const eventArb = fc.record({
  target: fc.option(text),
  tool_arguments: fc.option(text),
  intent: fc.option(text),
  risk_tier: fc.option(fc.integer({ min: 0, max: 3 })),
  duration_ms: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })),
});

function storeOf(name: string): SqliteAuditStore {
  return new SqliteAuditStore(join(dir, `${name}.db`), {
    signingKey: testSigningKey,
    checkpointIntervalMs: 0,
  });
}

function prerendered(store: SqliteAuditStore): PrerenderedRow[] {
  return [...store.readLogPrerendered(store.origin)].flat() as PrerenderedRow[];
}

describe('SQLite-rendered canonical text', () => {
  it('is available for this schema', () => {
    expect(PRERENDER_MATCHES_SCHEMA).toBe(true);
  });

  it('equals the exact canonical bytes for any stored text and number (property)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 8 }), async (fields) => {
        const store = storeOf(`p${n++}`);
        try {
          const events: AuditEvent[] = fields.map((f, i) =>
            auditEvent({
              event_id: `evt-${i}`,
              record_type: 'action',
              timestamp: new Date(Date.UTC(2026, 0, 1, 3, 14, i)).toISOString(),
              action: 'send_mail',
              ...f,
            }),
          );
          const stored = await store.append(events);
          const rows = prerendered(store);
          expect(rows).toHaveLength(events.length);
          rows.forEach((row, i) => {
            expect(row.canonical).toBe(canonicalEventBytes(stored[i]!).toString('utf8'));
          });
          expect((await verifyAuditStore(store)).ok).toBe(true);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a BLOB written into a column of a pre-STRICT store makes the rendering fail: whole rows are read and the edit is caught', async () => {
    // STRICT tables refuse the BLOB; a store created by an earlier release (version 1) takes it.
    createLegacyStore(join(dir, 'blob.db'));
    const store = storeOf('blob');
    await store.append(
      [1, 2, 3].map((i) =>
        auditEvent({
          event_id: `e${i}`,
          record_type: 'action',
          timestamp: `2026-01-01T00:00:0${i}Z`,
          action: 'a',
        }),
      ),
    );
    await store.close();
    const db = new Database(join(dir, 'blob.db'));
    db.exec('DROP TRIGGER audit_events_no_update');
    db.prepare('UPDATE audit_events SET target = ? WHERE seq = 2').run(Buffer.from('target'));
    db.close();
    const reader = new SqliteAuditStore(join(dir, 'blob.db'), { readonly: true });
    expect(() => prerendered(reader)).not.toThrow();
    const result = await verifyAuditStore(reader);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 2 });
    expect(result.reason).toContain(
      'seq 2: contents cannot be canonicalized (target: a 6-byte blob where text belongs)',
    );
    // The database check names the row and column too.
    expect(result.database.map((p) => p.code)).toContain('row.type_invalid');
    expect(result.database.map((p) => p.message)).toContain(
      'seq 2: target holds blob a 6-byte blob where the schema has text or null (row edited)',
    );
    await reader.close();
  });
});

describe('LogState.appendStored with a prerendered row', () => {
  const origin = 'onbehalf/test/prerendered';
  const events = [1, 2].map((i) =>
    auditEvent({
      event_id: `e${i}`,
      record_type: 'action',
      timestamp: `2026-01-01T00:00:0${i}Z`,
      action: 'a',
    }),
  );
  const writer = new LogState(origin);
  const rows: StoredRow[] = events.map((e) => ({ ...e, ...writer.append(e).integrity }));
  const as = (row: StoredRow, canonical: string | undefined, full: StoredRow = row): PrerenderedRow => ({
    origin: row.origin,
    seq: Number(row.seq),
    prev_hash: String(row.prev_hash),
    hash: String(row.hash),
    canonical,
    full: () => full,
  });

  it('accepts a row whose rendered text hashes to its chain, without reading it again', () => {
    const state = new LogState(origin);
    let reads = 0;
    for (const row of rows) {
      const r = as(row, canonicalEventBytes(row).toString('utf8'));
      const full = () => {
        reads++;
        return row;
      };
      expect(state.appendStored({ ...r, full })).toBeUndefined();
    }
    expect(reads).toBe(0);
    expect(state.root()).toEqual(writer.root());
  });

  it('judges by the whole row when the rendering is wrong or missing: no false alarm', () => {
    const state = new LogState(origin);
    expect(state.appendStored(as(rows[0]!, '{"not":"the canonical text"}'))).toBeUndefined();
    expect(state.appendStored(as(rows[1]!, undefined))).toBeUndefined();
    expect(state.lastHash).toBe(writer.lastHash);
  });

  it('reports an edited row even when the rendering was wrong', () => {
    const state = new LogState(origin);
    const edited = { ...rows[0]!, target: 'someone else' };
    expect(state.appendStored(as(rows[0]!, 'garbage', edited))).toMatchObject({
      seq: 1,
      reason: 'seq 1: hash does not match its contents (row edited)',
    });
    expect(state.size).toBe(0);
  });
});
