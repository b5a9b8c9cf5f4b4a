import { afterEach, describe, expect, it } from 'vitest';
import { type AuditPipeline, setupAuditPipeline } from '../helpers/audit.js';

let pipeline: AuditPipeline | undefined;
afterEach(async () => {
  await pipeline?.teardown();
  pipeline = undefined;
});

describe('group commit', () => {
  it('keeps up with spans ended in a tight loop that never yields, within a bounded queue', async () => {
    pipeline = setupAuditPipeline({ audit: { commit: 'group', maxBatchSize: 500, maxQueueSize: 1000 } });
    const { tracer, auditProcessor } = pipeline;
    // 5000 tool spans without one await: the queue (1000) would overflow if commits waited for a timer.
    for (let i = 0; i < 5000; i++) {
      tracer.startSpan('execute_tool lookup', { attributes: { 'attribution.action': 'lookup' } }).end();
      expect(auditProcessor.stats.pending).toBeLessThanOrEqual(1000);
    }
    await auditProcessor.forceFlush();
    expect(auditProcessor.stats).toMatchObject({ stored: 5000, lost: 0, gapRecords: 0, pending: 0 });
    expect(pipeline.rows("action = 'lookup'")).toHaveLength(5000);
  });
});
