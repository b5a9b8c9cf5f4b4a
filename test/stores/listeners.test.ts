import { join } from 'node:path';
import { expect, it } from 'vitest';
import { auditEvent } from '../../src/pipeline/event.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { readRows, tempDir, testSigningKey } from '../helpers/audit.js';

it('a throwing listener never fails an append or a checkpoint that is already committed', async () => {
  const path = join(tempDir(), 'audit.db');
  const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
  const seen: string[] = [];
  store.onAppend(() => {
    throw new Error('append listener broke');
  });
  store.onAppend((rows) => seen.push(`append ${rows.length}`));
  store.onCheckpoint(() => {
    throw new Error('checkpoint listener broke');
  });
  store.onCheckpoint((cp) => seen.push(`checkpoint ${cp.size}`));
  const event = auditEvent({
    event_id: 'evt-1',
    record_type: 'action',
    timestamp: '2026-01-01T03:14:09.000Z',
    action: 'send_mail',
  });
  expect(store.appendSync?.([event])).toHaveLength(1);
  await expect(store.close()).resolves.toBeUndefined();
  expect(seen).toEqual(['append 1', 'checkpoint 1']);
  expect(readRows(path).map((r) => r.event_id)).toEqual(['evt-1']);
});
