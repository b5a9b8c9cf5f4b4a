// The seed's audit event, as a row of a real SQLite store: every column of docs/log-format.md "Rows", from one audited()
// call under the inbox agent's attribution, plus the `started` record of a tier ≥ 2 action.
import { SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Attribution, withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { EVENT_COLUMNS } from '../../src/pipeline/event.js';
import { inboxAgent } from '../fixtures/seed.js';
import { type AuditPipeline, setupAuditPipeline } from '../helpers/audit.js';
import { attributedToInboxAgent, inboxAgentColumns } from '../helpers/inbox-agent-row.js';
import type { ReadableSpan } from '../helpers/trace-sdk.js';

const tomDirectly: Attribution = {
  actor: { type: 'human', id: 'tom', name: 'Tom' },
  principal: { id: 'tom', type: 'human' },
};
const sendToStranger = {
  target: 'stranger@evil.example',
  riskTier: 2,
  arguments: { to: 'stranger@evil.example', body: 'card 4111 1111 1111 1111' },
} as const;

let p: AuditPipeline;
beforeEach(() => {
  p = setupAuditPipeline({ serviceName: 'inbox-agent-svc' });
});
afterEach(async () => {
  await p.teardown();
});

const spanNamed = (name: string): ReadableSpan => {
  const found = p.exporter.getFinishedSpans().filter((s) => s.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('span → audit_events row', () => {
  it("maps the seed's send_mail to a row with every docs/log-format.md column right, after a started record", async () => {
    const result = await withAttribution(inboxAgent, () =>
      audited('send_mail', sendToStranger, async () => 'sent'),
    );
    expect(result).toBe('sent');
    const span = spanNamed('execute_tool send_mail');
    const rows = p.rows();
    expect(rows.map((r) => [r.seq, r.record_type, r.result])).toEqual([
      [1, 'started', 'started'],
      [2, 'action', 'ok'],
    ]);
    const [started, done] = rows as [(typeof rows)[0], (typeof rows)[0]];
    expect(done).toMatchObject({
      ...attributedToInboxAgent,
      intent: null,
      session_id: null,
      action: 'send_mail',
      target: 'stranger@evil.example',
      risk_tier: 2,
      result: 'ok',
      policy_decision: 'not_evaluated',
      policy_rule: null,
      approval_state: 'not_required',
      approved_by: null,
      provenance: 'local',
      redactions: '["credit_card","email"]',
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
      parent_span_id: null,
      service_name: 'inbox-agent-svc',
      origin: p.store.origin,
    });
    expect(done.event_id).toMatch(/^evt-[0-9a-f-]{36}$/);
    expect(done.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(done.timestamp)).toBe(span.endTime[0] * 1000 + Math.floor(span.endTime[1] / 1e6));
    // Stored to the microsecond: rounding may move it by half a microsecond, either way.
    const ms = span.duration[0] * 1e3 + span.duration[1] / 1e6;
    expect(Math.abs(done.duration_ms! - ms)).toBeLessThanOrEqual(0.0005 + 1e-9);
    // Redacted before it reached the store: neither the address nor the card number is in the arguments.
    expect(JSON.parse(done.tool_arguments!)).toEqual({
      to: '[REDACTED:email]',
      body: 'card [REDACTED:credit_card]',
    });
    const raw = JSON.stringify(rows);
    expect(raw).not.toContain('4111');
    expect(done.tool_arguments).not.toContain('stranger@evil.example');
    expect(done.scopes).toBeNull();
    // Derived from the attribution: from the accountable human to the agent that acted.
    expect(done.delegation_chain).toBe('["tom","nhi:agent-7f3"]');
    const rest = JSON.parse(done.attributes!) as Record<string, unknown>;
    expect(rest['gen_ai.tool.name']).toBe('send_mail');
    expect(rest['gen_ai.operation.name']).toBe('execute_tool');
    expect(rest).not.toHaveProperty('attribution.actor.id');
    expect(done.prev_hash).toBe(started.hash);
    // Every event column of the schema is a column of the table.
    for (const column of EVENT_COLUMNS) expect(done).toHaveProperty(column);

    expect(started).toMatchObject({
      ...inboxAgentColumns('actor_type', 'actor_id', 'on_behalf_of', 'trigger_id'),
      action: 'send_mail',
      target: 'stranger@evil.example',
      risk_tier: 2,
      duration_ms: null,
      trace_id: done.trace_id,
      span_id: done.span_id,
    });
    expect(Date.parse(started.timestamp)).toBe(
      span.startTime[0] * 1000 + Math.floor(span.startTime[1] / 1e6),
    );
    expect(started.event_id).not.toBe(done.event_id);
  });

  it('records the started record before the action runs (a crash mid-way still leaves a trace)', async () => {
    let seenWhileRunning: string[] = [];
    await withAttribution(inboxAgent, () =>
      audited('delete_mail', { target: 'mailbox/tom/42', riskTier: 3 }, () => {
        seenWhileRunning = p.rows().map((r) => `${r.record_type}:${r.action}`);
      }),
    );
    expect(seenWhileRunning).toEqual(['started:delete_mail']);
    expect(p.rows().map((r) => `${r.record_type}:${r.result}`)).toEqual(['started:started', 'action:ok']);
  });

  it('writes no started record for tier 0 and tier 1 actions, nor for a denied one', async () => {
    await withAttribution(inboxAgent, async () => {
      await audited('read_inbox', { riskTier: 0 }, () => 1);
      await audited('label_mail', { target: 'msg-8821', riskTier: 1 }, () => 1);
      await audited(
        'pay_invoice',
        { riskTier: 3, policy: { decision: 'deny', rule: 'no-pay' } },
        () => 1,
      ).catch(() => undefined);
    });
    expect(p.rows().map((r) => [r.record_type, r.action, r.risk_tier, r.result])).toEqual([
      ['action', 'read_inbox', 0, 'ok'],
      ['action', 'label_mail', 1, 'ok'],
      ['action', 'pay_invoice', 3, 'denied'],
    ]);
    expect(p.rows("action = 'pay_invoice'")[0]).toMatchObject({
      policy_decision: 'deny',
      policy_rule: 'no-pay',
    });
  });

  it('records policy, approval and a failure', async () => {
    await withAttribution(inboxAgent, async () => {
      await audited(
        'send_mail',
        {
          target: 'dana@acme.example',
          riskTier: 2,
          policy: { decision: 'require_approval', rule: 'mail.send:external' },
          approval: { state: 'approved', approverId: 'tom' },
        },
        () => 'ok',
      );
      await expect(
        audited('fetch_url', { target: 'https://x.example', riskTier: 1 }, () => {
          throw new TypeError('boom');
        }),
      ).rejects.toThrow('boom');
    });
    const [sent, failed] = p.rows("record_type = 'action'");
    expect(sent).toMatchObject({
      policy_decision: 'require_approval',
      policy_rule: 'mail.send:external',
      approval_state: 'approved',
      approved_by: 'tom',
      result: 'ok',
    });
    expect(failed).toMatchObject({ action: 'fetch_url', result: 'error' });
    expect(JSON.parse(failed!.attributes!)).toMatchObject({ 'error.type': 'TypeError' });
    expect(spanNamed('execute_tool fetch_url').status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a human acting directly is actor_type human, on behalf of himself, with no agent', async () => {
    await withAttribution(tomDirectly, () => audited('send_mail', { target: 'dana@acme.example' }, () => 1));
    const [row] = p.rows();
    expect(row).toMatchObject({
      actor_type: 'human',
      actor_id: 'tom',
      actor_name: 'Tom',
      owner_id: null,
      on_behalf_of: 'tom',
      trigger_type: null,
      trigger_id: null,
      action: 'send_mail',
    });
  });

  it('keeps nesting: a tool call inside an agent span records its parent span', async () => {
    await withAttribution(inboxAgent, () =>
      p.tracer.startActiveSpan('handle email', async (parent) => {
        await audited('read_inbox', {}, () => 1);
        parent.end();
      }),
    );
    const parent = spanNamed('handle email');
    const [row] = p.rows();
    expect(row).toMatchObject({ action: 'read_inbox', parent_span_id: parent.spanContext().spanId });
    expect(row!.trace_id).toBe(parent.spanContext().traceId);
  });
});
