// A clock that jumps backwards: audited() takes `startTime`, so actions can carry timestamps earlier
import { trace } from '@opentelemetry/api';
// than the ones already written. Order is by seq, never by time, and verification does not care.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { type AuditPipeline, setupAuditPipeline } from '../helpers/audit.js';
import { pinnedKeys, verifyPath } from './support.js';

describe('clock jumping backwards', () => {
  let pipeline: AuditPipeline | undefined;
  afterEach(async () => {
    await pipeline?.teardown();
    pipeline = undefined;
  });

  it('random timestamps, jumps back included, keep seq order and verify (30 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: Date.UTC(1970, 0, 2), max: Date.UTC(2100, 0, 1) }), {
          minLength: 2,
          maxLength: 25,
        }),
        async (times) => {
          // A run shrunk by fast-check may start while the global provider of a failed run is still set.
          trace.disable();
          pipeline = setupAuditPipeline({ store: { checkpointEvery: 4, checkpointIntervalMs: 0 } });
          await withAttribution({ actor: { type: 'agent', id: 'nhi:clock' } }, async () => {
            for (const [i, t] of times.entries()) {
              await audited('tick', { target: `t${i}`, startTime: t, riskTier: i % 2 ? 2 : 0 }, () => i);
            }
          });
          const rows = pipeline.rows("record_type = 'action'");
          // Written in the order the actions ended, whatever their clocks said.
          expect(rows.map((r) => r.target)).toEqual(times.map((_, i) => `t${i}`));
          // The timestamp is when the action ended: its given start plus its real (tiny) duration.
          rows.forEach((r, i) => {
            const at = Date.parse(r.timestamp) - times[i]!;
            expect(at).toBeGreaterThanOrEqual(0);
            expect(at).toBeLessThan(5000);
          });
          const seqs = pipeline.rows().map((r) => r.seq);
          expect(seqs).toEqual(seqs.map((_, i) => i + 1));
          const path = pipeline.path;
          await pipeline.store.close();
          const result = await verifyPath(path, { trustedKeys: pinnedKeys });
          expect(result.ok, result.reason).toBe(true);
          // Queries by time still find them, sorted by time rather than by seq.
          const { SqliteAuditStore } = await import('../../src/stores/sqlite-store.js');
          const reader = new SqliteAuditStore(path, { readonly: true });
          const byTime = await reader.query({ action: 'tick', recordTypes: ['action'] });
          await reader.close();
          const stamps = byTime.map((r) => r.timestamp);
          expect(stamps).toEqual(rows.map((r) => r.timestamp).sort());
          await pipeline.teardown();
          pipeline = undefined;
        },
      ),
      { numRuns: 30 },
    );
  });
});
