// A SIEM holding only the OTLP copy of the audit log recomputes each record's hash, as docs/log-format.md
// says to, from the log records decoded from protobuf by a real receiver: every hashed column is there,
// `attribution.result` stays inside its enum, and the chain links record to record.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Attribution, withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { generateSigningKey } from '../../src/keys/keys.js';
import { AUDIT_EVENT_NAME } from '../../src/otlp/log-record.js';
import { EVENT_COLUMNS } from '../../src/pipeline/event.js';
import { startOnbehalf } from '../../src/sdk/start.js';
import {
  type OtlpReceiver,
  type OtlpValue,
  type ReceivedLogRecord,
  startOtlpReceiver,
} from '../helpers/otlp-receiver.js';

const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string;

/** Attribute → column, as docs/log-format.md lists them (the record's own fields give the rest). */
const COLUMN_OF: Record<string, string> = {
  'onbehalf.audit.event_id': 'event_id',
  'onbehalf.audit.record_type': 'record_type',
  'onbehalf.audit.origin': 'origin',
  'onbehalf.audit.service_name': 'service_name',
  'onbehalf.audit.parent_span_id': 'parent_span_id',
  'onbehalf.audit.duration_ms': 'duration_ms',
  'onbehalf.audit.attributes': 'attributes',
  'attribution.actor.type': 'actor_type',
  'attribution.actor.id': 'actor_id',
  'attribution.actor.name': 'actor_name',
  'attribution.actor.owner.id': 'owner_id',
  'attribution.principal.id': 'on_behalf_of',
  'attribution.delegation.chain': 'delegation_chain',
  'attribution.intent.name': 'intent',
  'attribution.trigger.type': 'trigger_type',
  'attribution.trigger.id': 'trigger_id',
  'attribution.scopes': 'scopes',
  'attribution.action': 'action',
  'attribution.target': 'target',
  'attribution.risk_tier': 'risk_tier',
  'attribution.result': 'result',
  'attribution.policy.decision': 'policy_decision',
  'attribution.policy.rule': 'policy_rule',
  'attribution.approval.state': 'approval_state',
  'attribution.approval.approver.id': 'approved_by',
  'attribution.provenance': 'provenance',
  'attribution.content.redactions': 'redactions',
  'session.id': 'session_id',
  'gen_ai.tool.call.arguments': 'tool_arguments',
};

/** The row's canonical bytes E, rebuilt from one log record alone. */
function canonicalBytes(r: ReceivedLogRecord): string {
  const row: Record<string, OtlpValue> = Object.fromEntries(EVENT_COLUMNS.map((c) => [c, null]));
  for (const [key, value] of Object.entries(r.attributes)) {
    const column = COLUMN_OF[key];
    if (column) row[column] = Array.isArray(value) ? canonicalize(value) : value;
  }
  // A started or gap record's result is its record type.
  if (row.result === null && ['started', 'gap'].includes(String(row.record_type)))
    row.result = row.record_type ?? null;
  row.timestamp = new Date(Number(BigInt(r.timeUnixNano) / 1_000_000n)).toISOString();
  row.trace_id = r.traceId || null;
  row.span_id = r.spanId || null;
  return canonicalize(row);
}

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

let receiver: OtlpReceiver;
let dir: string;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  dir = mkdtempSync(join(tmpdir(), 'onbehalf-siem-'));
});
afterAll(async () => {
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('the OTLP copy of the audit log', () => {
  it('carries every hashed column: a SIEM recomputes each record hash and the chain from protobuf', async () => {
    const handle = startOnbehalf({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'inbox-agent' },
      store: join(dir, 'audit.db'),
      signingKey: generateSigningKey(),
      instrumentations: [],
    });
    const attribution: Attribution = {
      actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
      principal: { id: 'tom', type: 'human' },
      trigger: { type: 'email', id: 'msg-8821' },
      scopes: ['mail.read', 'mail.send'],
      delegationChain: ['tom', 'nhi:agent-7f3'],
    };
    await withAttribution(attribution, async () => {
      await audited('read_inbox', { target: 'mailbox/tom' }, () => 'ok');
      await audited(
        'send_mail',
        { target: 'stranger@evil.example', riskTier: 2, arguments: { to: 'stranger@evil.example' } },
        () => 'sent',
      );
      await audited('delete_mail', { target: 'mailbox/tom/1', riskTier: 3 }, () => {
        throw new Error('refused');
      }).catch(() => undefined);
    });
    await handle.shutdown();

    const records = receiver.logs
      .filter((r) => r.attributes['event.name'] === AUDIT_EVENT_NAME)
      .sort(
        (a, b) => Number(a.attributes['onbehalf.audit.seq']) - Number(b.attributes['onbehalf.audit.seq']),
      );
    expect(records.map((r) => r.attributes['onbehalf.audit.record_type'])).toEqual([
      'action',
      'started',
      'action',
      'started',
      'action',
    ]);
    let prev = '0'.repeat(64);
    for (const r of records) {
      const leaf = sha256(Buffer.from([0]), Buffer.from(canonicalBytes(r), 'utf8'));
      const hash = sha256(Buffer.from([2]), Buffer.from(prev, 'hex'), leaf).toString('hex');
      expect(r.attributes['onbehalf.audit.prev_hash']).toBe(prev);
      expect(hash, `seq ${r.attributes['onbehalf.audit.seq']}`).toBe(r.attributes['onbehalf.audit.hash']);
      prev = hash;
      // attribution.result only ever holds a member of its enum.
      const result = r.attributes['attribution.result'];
      if (r.attributes['onbehalf.audit.record_type'] === 'action')
        expect(['ok', 'error', 'denied']).toContain(result);
      else expect(result).toBeUndefined();
    }
  });
});
