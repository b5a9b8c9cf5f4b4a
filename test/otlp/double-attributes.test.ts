// onbehalf.audit.duration_ms is a double in the conventions. OpenTelemetry JS's protobuf serializer
// sends a whole-number JavaScript number as int_value, so the audit stream's own exporter rewrites it:
// checked on the real protobuf a loopback OTLP/HTTP receiver decodes, on whichever SDK line runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/keys/keys.js';
import { AuditLogExporter, createAuditLoggerProvider } from '../../src/otlp/audit-log-exporter.js';
import { AUDIT_EVENT_NAME } from '../../src/otlp/log-record.js';
import type { StoredAuditEvent } from '../../src/pipeline/event.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { seedEvent } from '../helpers/postgres-db.js';

let receiver: OtlpReceiver;
let dir: string;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  dir = mkdtempSync(join(tmpdir(), 'onbehalf-double-'));
});
afterAll(async () => {
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the audit log stream over OTLP/HTTP protobuf', () => {
  it('sends onbehalf.audit.duration_ms as double_value, whole numbers included; integers stay int_value', async () => {
    const durations = [12, 12.5, 0, 1e6, 3.25];
    const store = new SqliteAuditStore(join(dir, 'audit.db'), { signingKey: generateSigningKey() });
    const rows: StoredAuditEvent[] = await store.append(
      durations.map((d, i) => ({ ...seedEvent(i), duration_ms: d })),
    );
    await store.close();
    const provider = createAuditLoggerProvider({
      url: `${receiver.url}/v1/logs`,
      serviceName: 'inbox-agent',
    });
    new AuditLogExporter({ loggerProvider: provider }).emitEvents(rows);
    await provider.shutdown();

    const records = receiver.logs
      .filter((r) => r.attributes['event.name'] === AUDIT_EVENT_NAME)
      .sort(
        (a, b) => Number(a.attributes['onbehalf.audit.seq']) - Number(b.attributes['onbehalf.audit.seq']),
      );
    expect(records).toHaveLength(durations.length);
    for (const [i, r] of records.entries()) {
      expect(r.attributeKinds['onbehalf.audit.duration_ms'], `duration ${durations[i]}`).toBe('doubleValue');
      expect(r.attributes['onbehalf.audit.duration_ms']).toBe(durations[i]);
      // Only the double attribute is touched: seq and risk tier are integers and stay int_value.
      expect(r.attributeKinds['onbehalf.audit.seq']).toBe('intValue');
      expect(r.attributes['onbehalf.audit.seq']).toBe(i + 1);
      expect(r.attributeKinds['attribution.risk_tier']).toBe('intValue');
      expect(r.attributes['onbehalf.audit.hash']).toBe(rows[i]!.hash);
    }
  });
});
