// Faults and overload: the store stops taking writes mid-run (another connection holds the write lock
// past the busy timeout; the file system fills up), and 100k spans end as fast as they can behind a
// tiny queue. The host keeps running, memory stays bounded, and every audit event is either stored or
// counted in a gap record: stored + sum of gap counts == events submitted.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { AttributionSpanProcessor } from '../../src/pipeline/attribution-span-processor.js';
import { AuditSpanProcessor } from '../../src/pipeline/audit-span-processor.js';
import { openSqlite } from '../../src/stores/sqlite-driver.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { type AuditPipeline, setupAuditPipeline, storeConnection, testSigningKey } from '../helpers/audit.js';
import { BasicTracerProvider } from '../helpers/trace-sdk.js';
import { pinnedKeys, scratchDir, verifyPath } from './support.js';

let dir: string;
beforeAll(() => {
  dir = scratchDir('faults');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Stored action records and the events the gap records say were lost. */
function accounting(path: string): { actions: number; gaps: number; lost: number } {
  const db = new Database(path, { readonly: true });
  try {
    const actions = (
      db.prepare("SELECT count(*) AS n FROM audit_events WHERE record_type = 'action'").get() as { n: number }
    ).n;
    const gaps = db.prepare("SELECT attributes FROM audit_events WHERE record_type = 'gap'").all() as {
      attributes: string;
    }[];
    const lost = gaps.reduce((sum, g) => sum + (JSON.parse(g.attributes) as { lost: number }).lost, 0);
    return { actions, gaps: gaps.length, lost };
  } finally {
    db.close();
  }
}

const actor = { actor: { type: 'agent' as const, id: 'nhi:agent-7f3' }, principal: { id: 'tom' } };

describe('the store becomes unwritable mid-run', () => {
  let pipeline: AuditPipeline | undefined;
  afterEach(async () => {
    await pipeline?.teardown();
    pipeline = undefined;
  });

  it('another connection holding the write lock past the busy timeout: events queue, overflow becomes a gap', async () => {
    pipeline = setupAuditPipeline({ audit: { maxQueueSize: 5 }, store: { checkpointIntervalMs: 0 } });
    // The store waits 5 s for a lock by default; a short wait keeps the test quick and changes nothing else.
    storeConnection(pipeline.store).pragma('busy_timeout = 50');
    // The store's own driver: two SQLite libraries in one process do not see each other's locks.
    const locker = openSqlite(pipeline.path);
    const results: number[] = [];
    await withAttribution(actor, async () => {
      results.push(await audited('before', {}, () => 0));
      locker.exec('BEGIN EXCLUSIVE');
      for (let i = 1; i <= 20; i++) results.push(await audited('during', { target: `t${i}` }, () => i));
      locker.exec('COMMIT');
      locker.close();
      await pipeline!.auditProcessor.forceFlush();
      results.push(await audited('after', {}, () => 21));
    });
    // The host saw every result; the audit trail says exactly what it missed.
    expect(results).toEqual(Array.from({ length: 22 }, (_, i) => i));
    const stats = pipeline.auditProcessor.stats;
    expect(stats.storeErrors).toBeGreaterThan(0);
    expect(stats.lost).toBe(15);
    expect(pipeline.errors.some((e) => /SQLITE_BUSY|locked/i.test(e.error.message))).toBe(true);
    const path = pipeline.path;
    await pipeline.store.close();
    const a = accounting(path);
    expect(a.actions + a.lost).toBe(22);
    expect(a).toMatchObject({ actions: 7, lost: 15, gaps: 1 });
    const result = await verifyPath(path, { trustedKeys: pinnedKeys });
    expect(result.ok, result.reason).toBe(true);
  });

  // A full disk is what really stops root from writing; tmpfs gives one without touching the host.
  const mountParent = scratchDir('tmpfs');
  const mountPoint = join(mountParent, 'mnt');
  mkdirSync(mountPoint);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]).status === 0;

  it.skipIf(!mounted)(
    'a full file system: appends fail, the host runs on, and after space is freed the gap is recorded',
    async () => {
      try {
        const path = join(mountPoint, 'audit.db');
        pipeline = setupAuditPipeline({
          path,
          audit: { maxQueueSize: 50 },
          store: { checkpointIntervalMs: 0, checkpointEvery: 25 },
        });
        // Leave room for the store and a few dozen events, then fill the rest.
        await withAttribution(actor, () => audited('warm-up', {}, () => 0));
        const filler = join(mountPoint, 'filler');
        fillUntilFull(filler);
        let submitted = 1;
        const pad = 'x'.repeat(2000);
        await withAttribution(actor, async () => {
          for (let i = 0; i < 400; i++) {
            await audited('while-full', { target: `t${i}`, arguments: { pad, i } }, () => i);
            submitted++;
          }
        });
        expect(pipeline.auditProcessor.stats.storeErrors).toBeGreaterThan(0);
        expect(pipeline.errors.some((e) => /SQLITE_FULL|full/i.test(e.error.message))).toBe(true);
        rmSync(filler);
        await pipeline.auditProcessor.forceFlush();
        await pipeline.store.close();
        const a = accounting(path);
        expect(a.actions + a.lost).toBe(submitted);
        expect(a.lost).toBeGreaterThan(0);
        const result = await verifyPath(path, { trustedKeys: pinnedKeys });
        expect(result.ok, result.reason).toBe(true);
      } finally {
        await pipeline?.teardown();
        pipeline = undefined;
        spawnSync('umount', [mountPoint]);
        rmSync(mountParent, { recursive: true, force: true });
      }
    },
  );
});

function fillUntilFull(path: string): void {
  const chunk = Buffer.alloc(4096, 1);
  let data = Buffer.alloc(0);
  for (;;) {
    try {
      data = Buffer.concat([data, chunk]);
      writeFileSync(path, data);
    } catch {
      return;
    }
  }
}

describe('overload', () => {
  it('100k spans ended as fast as possible behind a tiny queue: bounded memory, every event accounted for', async () => {
    const path = join(dir, 'overload.db');
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
    const maxQueueSize = 64;
    const audit = new AuditSpanProcessor({
      store,
      commit: 'group',
      maxQueueSize,
      maxBatchSize: 500,
      onError: () => undefined,
    });
    const provider = new BasicTracerProvider({
      spanProcessors: [new AttributionSpanProcessor({ env: {} }), audit],
    });
    const tracer = provider.getTracer('overload');
    const total = 100_000;
    const rssBefore = process.memoryUsage().rss;
    let maxPending = 0;
    let rssPeak = rssBefore;
    const pad = 'y'.repeat(1000);
    for (let i = 0; i < total; i++) {
      tracer
        .startSpan('execute_tool bulk', {
          attributes: {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': 'bulk',
            'attribution.action': 'bulk',
            'gen_ai.tool.call.arguments': `{"i":${i},"pad":"${pad}"}`,
          },
        })
        .end();
      maxPending = Math.max(maxPending, audit.stats.pending);
      // Mostly a tight loop; now and then the event loop turns, so group commits land in between.
      if (i % 997 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (i % 9973 === 0) {
        await new Promise((resolve) => setTimeout(resolve, 15));
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
    }
    await provider.shutdown();
    context.disable();
    expect(maxPending).toBeLessThanOrEqual(maxQueueSize);
    // Generous: 100k queued events of this size would take several hundred MB.
    expect(rssPeak - rssBefore).toBeLessThan(256 * 1024 * 1024);
    const a = accounting(path);
    expect(a.actions + a.lost).toBe(total);
    expect(audit.stats.lost).toBe(a.lost);
    expect(a.lost).toBeGreaterThan(0);
    expect(a.actions).toBeGreaterThan(maxQueueSize);
    const result = await verifyPath(path, { trustedKeys: pinnedKeys });
    expect(result.ok, result.reason).toBe(true);
  }, 60_000);
});
