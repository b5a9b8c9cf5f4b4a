// A gate marks its span as awaiting a commit only while some pipeline commits once per turn: without
// one, nothing would ever take the mark, and audited() skips it (and the wait) altogether.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { audited } from '../../src/attribution/audited.js';
import { isCommitAwaited } from '../../src/attribution/commit-acks.js';
import { AuditSpanProcessor } from '../../src/pipeline/audit-span-processor.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { setupTracing, type Tracing } from '../fixtures/tracing.js';
import { tempDir, testSigningKey } from '../helpers/audit.js';
import type { ReadableSpan, Span, SpanProcessor } from '../helpers/trace-sdk.js';

/** Notes, as each span ends, whether a gate waits for its commit. */
class AwaitedRecorder implements SpanProcessor {
  readonly awaited: boolean[] = [];
  onStart(_span: Span): void {}
  onEnd(span: ReadableSpan): void {
    this.awaited.push(isCommitAwaited(span));
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

let t: Tracing | undefined;
afterEach(async () => {
  await t?.teardown();
  t = undefined;
});

describe('commit acknowledgements', () => {
  it('are expected only while a pipeline commits per turn', async () => {
    const recorder = new AwaitedRecorder();
    t = setupTracing({ env: {} }, [recorder]);
    await audited('lookup_order', { target: 'order-1' }, () => 1);
    const store = new SqliteAuditStore(join(tempDir(), 'audit.db'), { signingKey: testSigningKey });
    const turn = new AuditSpanProcessor({ store, commit: 'turn' });
    const group = new AuditSpanProcessor({
      store: new SqliteAuditStore(join(tempDir(), 'group.db'), { signingKey: testSigningKey }),
      commit: 'group',
    });
    await audited('lookup_order', { target: 'order-2' }, () => 2);
    await turn.shutdown();
    await audited('lookup_order', { target: 'order-3' }, () => 3);
    await group.shutdown();
    expect(recorder.awaited).toEqual([false, true, false]);
  });
});
