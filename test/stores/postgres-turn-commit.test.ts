// Commit mode `turn` on PostgreSQL (a store without a synchronous append): audited() resolves only
// once its event is committed, and actions ending in one turn share one INSERT.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited } from '../../src/attribution/audited.js';
import { generateSigningKey } from '../../src/keys/keys.js';
import { AuditSpanProcessor } from '../../src/pipeline/audit-span-processor.js';
import { PostgresAuditStore } from '../../src/stores/postgres-store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres-db.js';
import { BasicTracerProvider } from '../helpers/trace-sdk.js';

let db: TestDatabase;
let keyDir: string;

beforeAll(async () => {
  db = await createTestDatabase('turn');
  keyDir = mkdtempSync(join(tmpdir(), 'onbehalf-pg-turn-keys-'));
});
afterAll(async () => {
  await db?.drop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe('turn commit on PostgreSQL', () => {
  it('resolves each audited() after the one INSERT its turn shares', async () => {
    const store = new PostgresAuditStore(db.url, { signingKey: generateSigningKey(), keyDir });
    await store.ready();
    const appends: number[] = [];
    store.onAppend((rows) => appends.push(rows.length));
    const processor = new AuditSpanProcessor({ store, commit: 'turn' });
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    trace.setGlobalTracerProvider(provider);
    try {
      // Rows committed when each gate resolved: the store tells its listeners after the commit.
      const seen: number[] = [];
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          audited('lookup', { target: `order-${i}`, riskTier: 0 }, () => i).then(() => {
            seen.push(appends.reduce((a, b) => a + b, 0));
          }),
        ),
      );
      expect(appends).toEqual([5]);
      expect(seen).toEqual([5, 5, 5, 5, 5]);
      const stored = await db.admin("SELECT count(*) AS n FROM audit_events WHERE action = 'lookup'");
      expect(Number(stored.rows[0].n)).toBe(5);
      expect(processor.stats).toMatchObject({ stored: 5, pending: 0, lost: 0, storeErrors: 0 });
    } finally {
      await provider.shutdown();
      trace.disable();
      context.disable();
    }
  });
});
