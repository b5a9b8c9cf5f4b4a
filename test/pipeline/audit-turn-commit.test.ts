import { afterEach, describe, expect, it } from 'vitest';
import { audited } from '../../src/attribution/audited.js';
import { openSqlite } from '../../src/stores/sqlite-driver.js';
import { type AuditPipeline, setupAuditPipeline } from '../helpers/audit.js';

let pipeline: AuditPipeline | undefined;
afterEach(async () => {
  await pipeline?.teardown();
  pipeline = undefined;
});

describe('turn commit', () => {
  it('is the default on SQLite: actions ending in one turn share one transaction, each audited() resolving after it', async () => {
    pipeline = setupAuditPipeline();
    const p = pipeline;
    const appends: number[] = [];
    p.store.onAppend((rows) => appends.push(rows.length));
    const seenAtResolve: number[] = [];
    // Eight gates whose actions all end in this turn (their fns return at once).
    const gates = Array.from({ length: 8 }, (_, i) =>
      audited('lookup', { target: `order-${i}`, riskTier: 0 }, () => i).then(() => {
        // Read through another connection: committed, not merely queued.
        seenAtResolve.push(p.rows("action = 'lookup'").length);
      }),
    );
    // Ended, not yet committed: the commit is at the end of the turn.
    await Promise.resolve();
    expect(p.rows("action = 'lookup'")).toHaveLength(0);
    await Promise.all(gates);
    expect(appends).toEqual([8]);
    expect(seenAtResolve).toEqual([8, 8, 8, 8, 8, 8, 8, 8]);
    expect(p.auditProcessor.stats).toMatchObject({ stored: 8, pending: 0, lost: 0, storeErrors: 0 });
  });

  it('commits a span nobody awaits before its end() returns', async () => {
    pipeline = setupAuditPipeline({ audit: { commit: 'turn' } });
    pipeline.tracer
      .startSpan('execute_tool lookup', { attributes: { 'attribution.action': 'lookup' } })
      .end();
    expect(pipeline.rows("action = 'lookup'")).toHaveLength(1);
  });

  it('commits a risk tier ≥ 2 action’s started record before the action runs', async () => {
    pipeline = setupAuditPipeline({ audit: { commit: 'turn' } });
    const p = pipeline;
    let startedBeforeRun = -1;
    await audited('transfer', { target: 'acct-1', riskTier: 3 }, () => {
      startedBeforeRun = p.rows("record_type = 'started'").length;
    });
    expect(startedBeforeRun).toBe(1);
    expect(p.rows("record_type = 'action'")).toHaveLength(1);
  });

  it('does not wait on a failing store: audited() resolves, the event stays queued, counted and reported', async () => {
    pipeline = setupAuditPipeline({ audit: { commit: 'turn' }, store: { busyTimeoutMs: 0 } });
    const p = pipeline;
    // Another connection, through the store's own SQLite library (two libraries in one process do
    // not see each other's locks), holds the write lock: the turn's commit fails at once.
    const blocker = openSqlite(p.path);
    blocker.exec('BEGIN IMMEDIATE');
    try {
      await audited('lookup', { target: 'order-x', riskTier: 0 }, () => 1);
      expect(p.auditProcessor.stats).toMatchObject({ stored: 0, pending: 1, lost: 0, storeErrors: 1 });
      expect(p.errors.length).toBeGreaterThan(0);
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    await p.auditProcessor.forceFlush();
    expect(p.rows("action = 'lookup'")).toHaveLength(1);
  });
});
