// What a Collector, Jaeger or a SIEM would receive: startOnbehalf exports traces and audit log records
// (events and signed checkpoints) over OTLP/HTTP protobuf to a real receiver on loopback, which decodes
// them with the official proto definitions.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Attribution, withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import * as conventions from '../../src/conventions/generated.js';
import { generateSigningKey } from '../../src/keys/keys.js';
import { verifyCheckpoint } from '../../src/log-format/checkpoint.js';
import { AUDIT_CHECKPOINT_NAME, AUDIT_EVENT_NAME } from '../../src/otlp/log-record.js';
import { type OnbehalfHandle, startOnbehalf } from '../../src/sdk/start.js';
import { openAuditStore } from '../../src/stores/open.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { type OtlpReceiver, type ReceivedLogRecord, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres-db.js';

const seed: Attribution = {
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human' },
  intent: { name: 'triage_inbox' },
  trigger: { type: 'email', id: 'msg-8821' },
  sessionId: 'sess-42',
  scopes: ['mail.read', 'mail.send'],
  delegationChain: ['tom', 'nhi:agent-7f3'],
};

/** Every attribution attribute an audit event carries, with the seed scenario's values. */
const EXPECTED: Record<string, unknown> = {
  'attribution.actor.type': 'agent',
  'attribution.actor.id': 'nhi:agent-7f3',
  'attribution.actor.name': 'inbox-agent',
  'attribution.actor.owner.id': 'tom',
  'attribution.principal.id': 'tom',
  'attribution.delegation.chain': ['tom', 'nhi:agent-7f3'],
  'attribution.intent.name': 'triage_inbox',
  'attribution.trigger.type': 'email',
  'attribution.trigger.id': 'msg-8821',
  'attribution.scopes': ['mail.read', 'mail.send'],
  'attribution.action': 'send_mail',
  'attribution.target': 'stranger@evil.example',
  'attribution.risk_tier': 2,
  'attribution.result': 'ok',
  'attribution.policy.decision': 'allow',
  'attribution.policy.rule': 'mail.send.external',
  'attribution.approval.state': 'approved',
  'attribution.approval.approver.id': 'dana',
  'attribution.provenance': 'local',
  'attribution.content.redactions': ['email'],
  'user.id': 'tom',
  'gen_ai.agent.id': 'nhi:agent-7f3',
  'gen_ai.agent.name': 'inbox-agent',
  'session.id': 'sess-42',
};

let receiver: OtlpReceiver;
let dir: string;
let handle: OnbehalfHandle | undefined;
const savedEnv = { ...process.env };

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  dir = mkdtempSync(join(tmpdir(), 'onbehalf-otlp-'));
});
afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
  process.env = { ...savedEnv };
  trace.disable();
  context.disable();
  propagation.disable();
  receiver.spans.length = 0;
  receiver.logs.length = 0;
  receiver.requests.length = 0;
});
afterAll(async () => {
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The seed scenario: inbox-agent, on Tom's behalf, triggered by email msg-8821, sends a mail. */
function sendMail() {
  return withAttribution(seed, () =>
    audited(
      'send_mail',
      {
        target: 'stranger@evil.example',
        riskTier: 2,
        arguments: { to: 'stranger@evil.example', subject: 'invoice' },
        policy: { decision: 'allow', rule: 'mail.send.external' },
        approval: { state: 'approved', approverId: 'dana' },
      },
      () => 'sent',
    ),
  );
}

function start(store: string, extra: Parameters<typeof startOnbehalf>[0] = {}) {
  handle = startOnbehalf({
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'inbox-agent' },
    store,
    signingKey: generateSigningKey(),
    instrumentations: [],
    ...extra,
  });
  return handle;
}

const byName = (name: string) => (r: ReceivedLogRecord) => r.attributes['event.name'] === name;

describe('audit events as OTLP logs, decoded from protobuf', () => {
  it('sends traces and audit records (with every attribution attribute) and checkpoints', async () => {
    const path = join(dir, 'audit.db');
    const h = start(path);
    await sendMail();
    await h.shutdown();

    expect(
      receiver.requests.every((r) => r.status === 200 && r.contentType === 'application/x-protobuf'),
    ).toBe(true);
    const span = receiver.spans.find((s) => s.name === 'execute_tool send_mail');
    expect(span, 'the trace reached the receiver').toBeDefined();
    for (const [key, value] of Object.entries(EXPECTED)) expect(span!.attributes[key], key).toEqual(value);
    expect(span!.attributes['attribution.principal.id']).toBe('tom');

    const events = receiver.logs.filter(byName(AUDIT_EVENT_NAME));
    const action = events.find((r) => r.attributes['onbehalf.audit.record_type'] === 'action');
    const started = events.find((r) => r.attributes['onbehalf.audit.record_type'] === 'started');
    expect(action).toBeDefined();
    expect(started, 'risk tier 2 leaves a started record too').toBeDefined();
    for (const [key, value] of Object.entries(EXPECTED)) expect(action!.attributes[key], key).toEqual(value);
    expect(action!.traceId).toBe(span!.traceId);
    expect(action!.spanId).toBe(span!.spanId);
    expect(action!.body).toBe(
      'actor=inbox-agent (nhi:agent-7f3) on_behalf_of=tom action=send_mail target=stranger@evil.example trigger=email:msg-8821 result=ok',
    );
    expect(action!.severityText).toBe('INFO');
    expect(action!.scope).toBe('onbehalf.audit');
    expect(action!.resource['service.name']).toBe('inbox-agent');
    // The redacted arguments travel; the address does not.
    expect(String(action!.attributes['gen_ai.tool.call.arguments'])).not.toContain('stranger@evil.example');

    // The signed checkpoint written at shutdown is off-host now: it verifies, and verify can use it.
    const [checkpoint] = receiver.logs.filter(byName(AUDIT_CHECKPOINT_NAME));
    expect(checkpoint).toBeDefined();
    const store = await openAuditStore(path, { readonly: true });
    const note = checkpoint!.attributes['onbehalf.checkpoint.note'] as string;
    expect(checkpoint!.body).toBe(note);
    expect(verifyCheckpoint(note, await store.recordedKeys()).ok).toBe(true);
    expect(checkpoint!.attributes['onbehalf.checkpoint.size']).toBe(2);
    expect(checkpoint!.attributes['onbehalf.audit.origin']).toBe(store.origin);
    const result = await verifyAuditStore(store, { externalCheckpoints: [note] });
    expect(result).toMatchObject({ ok: true, count: 2 });
    await store.close();

    // Every attribute a SIEM receives is defined in conventions/, so its meaning is documented.
    const defined = new Set<string>(Object.values(conventions));
    const sent = new Set([...events, checkpoint!].flatMap((r) => Object.keys(r.attributes)));
    sent.delete('event.name');
    expect([...sent].filter((key) => !defined.has(key))).toEqual([]);
    expect(sent).toContain('onbehalf.audit.seq');
  });

  it('reads endpoint and headers from the environment it is given, for traces and logs alike', async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    const h = start(join(dir, 'env.db'), {
      env: {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=collector-secret,x-tenant=a',
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-tenant=siem%20b',
      },
    });
    await sendMail();
    await h.shutdown();
    const traces = receiver.requests.filter((r) => r.path === '/v1/traces');
    const logs = receiver.requests.filter((r) => r.path === '/v1/logs');
    expect(traces.length).toBeGreaterThan(0);
    expect(logs.length).toBeGreaterThan(0);
    expect([...traces, ...logs].every((r) => r.status === 200)).toBe(true);
    expect(traces[0]!.headers).toMatchObject({ 'x-api-key': 'collector-secret', 'x-tenant': 'a' });
    // The signal's own headers win over the general ones.
    expect(logs[0]!.headers).toMatchObject({ 'x-api-key': 'collector-secret', 'x-tenant': 'siem b' });
    expect(receiver.logs.some(byName(AUDIT_EVENT_NAME))).toBe(true);
  });

  it('OTEL_TRACES_EXPORTER=none keeps traces home while audit logs still go out', async () => {
    const h = start(join(dir, 'no-traces.db'), {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: 'none' },
    });
    await sendMail();
    await h.shutdown();
    expect(receiver.requests.filter((r) => r.path === '/v1/traces')).toEqual([]);
    expect(receiver.logs.some(byName(AUDIT_EVENT_NAME))).toBe(true);
  });

  it('sends nothing as logs when turned off', async () => {
    const h = start(join(dir, 'off.db'), { auditLogs: false });
    await sendMail();
    await h.shutdown();
    expect(receiver.spans.length).toBeGreaterThan(0);
    expect(receiver.logs).toEqual([]);
  });

  describe('with a PostgreSQL store and OCSF bodies', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase('otlp');
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('sends OCSF API Activity (class 6003) with actor, api and delegation', async () => {
      const h = start(db.url, { auditLogs: { format: 'ocsf' } });
      await sendMail();
      await h.shutdown();
      const action = receiver.logs
        .filter(byName(AUDIT_EVENT_NAME))
        .find((r) => r.attributes['onbehalf.audit.record_type'] === 'action');
      expect(action).toBeDefined();
      for (const [key, value] of Object.entries(EXPECTED))
        expect(action!.attributes[key], key).toEqual(value);
      expect(action!.body).toMatchObject({
        class_uid: 6003,
        category_uid: 6,
        activity_id: 1,
        type_uid: 600301,
        status_id: 1,
        actor: {
          user: { uid: 'nhi:agent-7f3', name: 'inbox-agent', type: 'Agent', type_id: 99 },
          session: { uid: 'sess-42' },
          authorizations: [{ decision: 'human_approved', policy: { name: 'mail.send.external' } }],
        },
        api: { operation: 'send_mail', service: { name: 'inbox-agent' } },
        resources: [{ name: 'stranger@evil.example' }],
        metadata: { product: { name: 'onbehalf' }, correlation_uid: action!.traceId },
        unmapped: {
          delegation: {
            on_behalf_of: 'tom',
            owner: 'tom',
            chain: ['tom', 'nhi:agent-7f3'],
            trigger: { type: 'email', id: 'msg-8821' },
            approval: { state: 'approved', approver: 'dana' },
          },
        },
      });
      const checkpoints = receiver.logs.filter(byName(AUDIT_CHECKPOINT_NAME));
      expect(checkpoints.map((c) => c.attributes['onbehalf.checkpoint.size'])).toContain(2);
      const store = await openAuditStore(db.url, { readonly: true });
      const rows = await store.sql(
        "select * from audit_events where trigger_id = 'msg-8821' order by timestamp asc;",
      );
      expect(rows.map((r) => r.event_id)).toContain(action!.attributes['onbehalf.audit.event_id']);
      await store.close();
    });
  });
});
