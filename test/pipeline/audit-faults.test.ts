// An audit store that cannot take writes never takes the host down: the action still runs and returns,
// the failure is counted and reported, queued events are stored once the store is back, and what
// could not be queued leaves a gap record. The outage is real: another connection holds the write lock.
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import type { StoredAuditEvent } from '../../src/pipeline/event.js';
import { openSqlite, type SqliteDatabase } from '../../src/stores/sqlite-driver.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { inboxAgent } from '../fixtures/seed.js';
import {
  type AuditPipeline,
  type AuditPipelineOptions,
  readRows,
  setupAuditPipeline,
} from '../helpers/audit.js';

let p: AuditPipeline | undefined;
let lock: SqliteDatabase | undefined;
afterEach(async () => {
  if (lock?.open) {
    try {
      lock.exec('ROLLBACK');
    } catch {
      // Not in a transaction any more.
    }
    lock.close();
  }
  lock = undefined;
  diag.disable();
  await p?.teardown();
  p = undefined;
});

/** A pipeline whose store gives up on a locked file quickly, as a 5 s default would slow every test. */
function pipeline(audit: AuditPipelineOptions['audit'] = {}, store: AuditPipelineOptions['store'] = {}) {
  p = setupAuditPipeline({ store: { busyTimeoutMs: 20, ...store }, audit });
  return p;
}

/**
 * Another connection takes the write lock and keeps it: every write to the store fails with SQLITE_BUSY.
 * It uses the store's own driver: two SQLite libraries in one process do not see each other's locks.
 */
function holdWriteLock(path: string): SqliteDatabase {
  lock = openSqlite(path);
  lock.exec('BEGIN EXCLUSIVE');
  return lock;
}

function release(): void {
  lock?.exec('ROLLBACK');
}

const act = (i: number, riskTier: 0 | 2 = 0) =>
  withAttribution(inboxAgent, () =>
    audited('label_mail', { target: `msg-${i}`, riskTier }, () => `done-${i}`),
  );

const gapOf = (row: StoredAuditEvent) =>
  JSON.parse(row.attributes!) as { lost: number; reasons: string[]; from: string; to: string };

async function verifyOk(path: string): Promise<void> {
  const reader = new SqliteAuditStore(path, { readonly: true });
  try {
    expect(await verifyAuditStore(reader)).toMatchObject({ ok: true });
  } finally {
    await reader.close();
  }
}

describe('an unwritable store (per-event commit)', () => {
  it('keeps the host running, counts and reports, and stores the queued events once writable', async () => {
    const pl = pipeline();
    await act(0);
    holdWriteLock(pl.path);

    const results = [];
    for (let i = 1; i <= 4; i++) results.push(await act(i, i === 4 ? 2 : 0));
    expect(results).toEqual(['done-1', 'done-2', 'done-3', 'done-4']);
    // Nothing new is committed, nothing is lost yet: 3 actions + started and action of the tier-2 one.
    expect(readRows(pl.path)).toHaveLength(1);
    expect(pl.auditProcessor.stats).toMatchObject({ stored: 1, pending: 5, lost: 0 });
    expect(pl.auditProcessor.stats.storeErrors).toBeGreaterThanOrEqual(1);
    expect(pl.errors.length).toBeGreaterThanOrEqual(1);
    expect(pl.errors[0]!.error.message).toMatch(/append failed: SQLITE_BUSY/);
    expect(pl.errors[0]!.stats.storeErrors).toBe(1);

    release();
    await pl.auditProcessor.forceFlush();
    const rows = readRows(pl.path);
    expect(rows.map((r) => `${r.record_type}:${r.target}`)).toEqual([
      'action:msg-0',
      'action:msg-1',
      'action:msg-2',
      'action:msg-3',
      'started:msg-4',
      'action:msg-4',
    ]);
    expect(pl.auditProcessor.stats).toMatchObject({ stored: 6, pending: 0, lost: 0, gapRecords: 0 });
    // Back to committing each event before end() returns.
    await act(5);
    expect(readRows(pl.path)).toHaveLength(7);
    await verifyOk(pl.path);
  });

  it('retries on its own once the lock is gone', async () => {
    const pl = pipeline();
    holdWriteLock(pl.path);
    await act(1);
    expect(readRows(pl.path)).toHaveLength(0);
    release();
    await expect.poll(() => readRows(pl.path).length, { timeout: 10_000, interval: 50 }).toBe(1);
    expect(pl.auditProcessor.stats).toMatchObject({ stored: 1, pending: 0 });
  });

  it('past maxQueueSize, counts the lost events and writes a gap record with their number first', async () => {
    const pl = pipeline({ maxQueueSize: 3 });
    holdWriteLock(pl.path);
    for (let i = 1; i <= 5; i++) expect(await act(i)).toBe(`done-${i}`);
    expect(pl.auditProcessor.stats).toMatchObject({ pending: 3, lost: 2, gapRecords: 0 });
    expect(pl.errors.some((e) => /audit event lost \(queue full\)/.test(e.error.message))).toBe(true);

    release();
    await pl.auditProcessor.forceFlush();
    const rows = readRows(pl.path);
    expect(rows.map((r) => r.record_type)).toEqual(['gap', 'action', 'action', 'action']);
    expect(rows[0]).toMatchObject({ action: 'gap', result: 'gap', actor_type: null });
    expect(gapOf(rows[0]!)).toMatchObject({ lost: 2, reasons: ['queue full'] });
    expect(rows.slice(1).map((r) => r.target)).toEqual(['msg-1', 'msg-2', 'msg-3']);
    expect(pl.auditProcessor.stats).toMatchObject({ stored: 4, pending: 0, lost: 2, gapRecords: 1 });
    await verifyOk(pl.path);
  });

  it("survives the store's own checkpoint timer firing while the file is locked", async () => {
    const warnings: string[] = [];
    const logger: DiagLogger = {
      error: (m) => warnings.push(m),
      warn: (m) => warnings.push(m),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(logger, DiagLogLevel.WARN);
    const pl = pipeline({}, { checkpointIntervalMs: 5 });
    await act(1);
    holdWriteLock(pl.path);
    await expect.poll(() => warnings.some((w) => /checkpoint/.test(w)), { timeout: 10_000 }).toBe(true);
    release();
    // The host is still here and the store still works.
    await act(2);
    expect(readRows(pl.path)).toHaveLength(2);
  });
});

describe('a full queue (group commit)', () => {
  it('leaves a gap record with the number of events it dropped', async () => {
    const pl = pipeline({ commit: 'group', groupCommitMs: 60_000, maxQueueSize: 5 });
    for (let i = 1; i <= 8; i++) expect(await act(i)).toBe(`done-${i}`);
    expect(pl.auditProcessor.stats).toMatchObject({ pending: 5, lost: 3 });
    await pl.auditProcessor.forceFlush();
    const rows = readRows(pl.path);
    expect(rows.map((r) => r.record_type)).toEqual(['gap', 'action', 'action', 'action', 'action', 'action']);
    const gap = gapOf(rows[0]!);
    expect(gap).toMatchObject({ lost: 3, reasons: ['queue full'] });
    expect(gap.from <= gap.to).toBe(true);
    expect(rows.slice(1).map((r) => r.target)).toEqual(['msg-1', 'msg-2', 'msg-3', 'msg-4', 'msg-5']);
    expect(pl.auditProcessor.stats).toMatchObject({ stored: 6, pending: 0, lost: 3, gapRecords: 1 });
    // Intact, and verification says what is missing.
    const reader = new SqliteAuditStore(pl.path, { readonly: true });
    const verified = await verifyAuditStore(reader);
    await reader.close();
    expect(verified).toMatchObject({ ok: true, gaps: { records: 1, lost: 3, reasons: ['queue full'] } });
  });

  it('an event ending after shutdown is counted as lost and reported, not thrown', async () => {
    const pl = pipeline();
    await withAttribution(inboxAgent, async () => {
      const span = pl.tracer.startSpan('execute_tool late', {
        attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'late' },
      });
      await pl.auditProcessor.shutdown();
      expect(() => span.end()).not.toThrow();
    });
    expect(pl.auditProcessor.stats.lost).toBe(1);
    expect(pl.errors.at(-1)!.error.message).toMatch(/span ended after shutdown/);
    // This store is closed: the next writer that starts writes the gap record.
    const next = pipeline();
    await next.auditProcessor.forceFlush();
    const gaps = readRows(next.path).filter((r) => r.record_type === 'gap');
    expect(gaps).toHaveLength(1);
    expect(JSON.parse(gaps[0]!.attributes!)).toMatchObject({
      lost: 1,
      reasons: ['span ended after shutdown'],
    });
  });
});

describe('an action that cannot be mapped to an event', () => {
  it('is not lost silently: counted, and a gap record says so, while the host goes on', async () => {
    const pl = pipeline();
    // An end time beyond what a Date can hold: the span ends, but has no timestamp an event can carry.
    const span = pl.tracer.startSpan('execute_tool wire_money', {
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'wire_money' },
    });
    expect(() => span.end(1e20)).not.toThrow();
    expect(await act(2)).toBe('done-2');
    expect(pl.auditProcessor.stats).toMatchObject({ mappingErrors: 1, lost: 1, gapRecords: 1 });
    const rows = readRows(pl.path);
    expect(rows.map((r) => r.record_type)).toEqual(['gap', 'action']);
    expect(gapOf(rows[0]!)).toMatchObject({ lost: 1, reasons: ['could not be mapped'] });
    await verifyOk(pl.path);
  });

  it('a throwing isAuditRelevant is reported, never thrown into the host', async () => {
    const errors: string[] = [];
    const pl = pipeline({
      isAuditRelevant: () => {
        throw new Error('predicate bug');
      },
      onError: (e) => errors.push(e.message),
    });
    expect(() => pl.tracer.startSpan('plain work').end()).not.toThrow();
    expect(errors).toEqual([
      expect.stringMatching(
        /could not decide whether span plain work is audit-relevant: Error: predicate bug/,
      ),
    ]);
    expect(pl.auditProcessor.stats.mappingErrors).toBe(1);
  });
});
