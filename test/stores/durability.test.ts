// When an event is durable: per-event commit (default) before end() returns, strict = synchronous FULL,
// and group commit once flushed. Reads go through a second, independent connection.
import { afterEach, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { inboxAgent } from '../fixtures/seed.js';
import {
  type AuditPipeline,
  pragmaValue,
  readRows,
  setupAuditPipeline,
  storeConnection,
} from '../helpers/audit.js';

// SQLite's synchronous levels as `PRAGMA synchronous` reports them.
const NORMAL = 1;
const FULL = 2;

let p: AuditPipeline | undefined;
afterEach(async () => {
  await p?.teardown();
  p = undefined;
});

describe('per-event commit (default)', () => {
  it('a row is readable by another connection as soon as end() returns, before any flush', () => {
    p = setupAuditPipeline();
    const pl = p;
    withAttribution(inboxAgent, () => {
      for (let i = 1; i <= 3; i++) {
        const span = pl.tracer.startSpan(`execute_tool step_${i}`, {
          attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': `step_${i}` },
        });
        span.end();
        expect(readRows(pl.path).map((r) => r.action)).toEqual(
          Array.from({ length: i }, (_, k) => `step_${k + 1}`),
        );
      }
    });
    expect(pl.auditProcessor.stats).toMatchObject({ stored: 3, pending: 0 });
  });

  it('a row is readable as soon as audited() resolves', async () => {
    p = setupAuditPipeline();
    await withAttribution(inboxAgent, () =>
      audited('send_mail', { target: 'stranger@evil.example', riskTier: 2 }, () => 'sent'),
    );
    expect(readRows(p.path).map((r) => `${r.record_type}:${r.action}`)).toEqual([
      'started:send_mail',
      'action:send_mail',
    ]);
  });

  it('runs WAL with synchronous=NORMAL', () => {
    p = setupAuditPipeline();
    const db = storeConnection(p.store);
    expect(pragmaValue(db, 'journal_mode')).toBe('wal');
    expect(pragmaValue(db, 'synchronous')).toBe(NORMAL);
  });
});

describe("durability: 'strict'", () => {
  it('sets synchronous=FULL on the store connection and still commits per event', async () => {
    p = setupAuditPipeline({ store: { durability: 'strict' } });
    const db = storeConnection(p.store);
    expect(pragmaValue(db, 'synchronous')).toBe(FULL);
    expect(pragmaValue(db, 'journal_mode')).toBe('wal');
    await withAttribution(inboxAgent, () => audited('read_inbox', {}, () => 1));
    expect(readRows(p.path)).toHaveLength(1);
  });
});

describe("commit: 'group'", () => {
  it('queues events and stores all of them, in order, after forceFlush', async () => {
    p = setupAuditPipeline({ audit: { commit: 'group', groupCommitMs: 60_000, maxBatchSize: 64 } });
    const pl = p;
    await withAttribution(inboxAgent, async () => {
      for (let i = 0; i < 150; i++) await audited('label_mail', { target: `msg-${i}` }, () => i);
    });
    // 150 > maxBatchSize: full batches were written as they filled; the rest waits for the flush.
    expect(readRows(pl.path).length).toBeLessThan(150);
    await pl.auditProcessor.forceFlush();
    const rows = readRows(pl.path);
    expect(rows.map((r) => r.target)).toEqual(Array.from({ length: 150 }, (_, i) => `msg-${i}`));
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(pl.auditProcessor.stats).toMatchObject({ stored: 150, pending: 0, lost: 0 });
  });

  it('keeps flushing after the first flush: a second round is stored too', async () => {
    p = setupAuditPipeline({ audit: { commit: 'group', groupCommitMs: 60_000 } });
    const pl = p;
    await withAttribution(inboxAgent, () => audited('a', {}, () => 1));
    await pl.auditProcessor.forceFlush();
    expect(readRows(pl.path).map((r) => r.action)).toEqual(['a']);
    await withAttribution(inboxAgent, () => audited('b', {}, () => 1));
    await pl.auditProcessor.forceFlush();
    expect(readRows(pl.path).map((r) => r.action)).toEqual(['a', 'b']);
  });

  it('commits on its own timer, without an explicit flush', async () => {
    p = setupAuditPipeline({ audit: { commit: 'group', groupCommitMs: 5 } });
    const pl = p;
    for (const action of ['a', 'b']) {
      await withAttribution(inboxAgent, () => audited(action, {}, () => 1));
      await expect.poll(() => readRows(pl.path).map((r) => r.action), { timeout: 5000 }).toContain(action);
    }
  });

  it('stores what is still queued at shutdown', async () => {
    p = setupAuditPipeline({ audit: { commit: 'group', groupCommitMs: 60_000 } });
    await withAttribution(inboxAgent, () => audited('read_inbox', {}, () => 1));
    expect(readRows(p.path)).toHaveLength(0);
    await p.provider.shutdown();
    expect(readRows(p.path)).toHaveLength(1);
  });
});
