// The seed's acceptance test through the whole library path: startOnbehalf (NodeSDK, a 1% sampler),
// audited() under withAttribution, the SQLite store on disk; then the seed's two queries, run as
// written on a read-only store, return exactly the expected rows in the expected order.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Attribution, withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { startOnbehalf } from '../../src/sdk/start.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { tempDir } from '../helpers/audit.js';
import { inboxAgentColumns } from '../helpers/inbox-agent-row.js';
import { TraceIdRatioBasedSampler } from '../helpers/trace-sdk.js';

// The seed's queries, character for character.
const EVERYTHING_THE_AGENT_DID = `select * from audit_events
where actor_type = 'agent'
order by timestamp desc;`;
const INCIDENT_TIMELINE = `select * from audit_events
where trigger_id = 'msg-8821'
order by timestamp asc;`;

const agent = { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' } as const;
const onEmail = (id: string): Attribution => ({
  actor: agent,
  principal: { id: 'tom', type: 'human' },
  trigger: { type: 'email', id },
});
const tom: Attribution = { actor: { type: 'human', id: 'tom', name: 'Tom' }, principal: { id: 'tom' } };
const at = (hhmm: string) => new Date(`2026-01-14T${hhmm}:00.000Z`);
// Long enough that an action's end never shares a millisecond with its start (the seed orders by timestamp only).
const work = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 5));

let dir: string;
let path: string;
beforeAll(async () => {
  dir = tempDir('onbehalf-e2e-');
  path = join(dir, 'audit.db');
  const onbehalf = startOnbehalf({
    env: {},
    serviceName: 'inbox-agent',
    store: path,
    sampler: new TraceIdRatioBasedSampler(0.01),
    traceExporter: false,
    instrumentations: [],
  });
  try {
    // Tom, during the day, by himself.
    await withAttribution(tom, () =>
      audited('send_mail', { target: 'dana@acme.example', riskTier: 2, startTime: at('10:02') }, () =>
        work('sent'),
      ),
    );
    // 03:14, Tom asleep: a hostile email sets the agent off.
    await withAttribution(onEmail('msg-8821'), async () => {
      await audited('read_mail', { target: 'inbox/msg-8821', riskTier: 0, startTime: at('03:14') }, () =>
        work('read'),
      );
      await audited(
        'send_mail',
        {
          target: 'stranger@evil.example',
          riskTier: 2,
          arguments: { to: 'stranger@evil.example', body: 'card 4111 1111 1111 1111' },
          startTime: at('03:15'),
        },
        () => work('sent'),
      );
    });
    // The agent's other work, set off by another email.
    await withAttribution(onEmail('msg-9001'), () =>
      audited('label_mail', { target: 'inbox/msg-9001', riskTier: 1, startTime: at('08:30') }, () =>
        work('labelled'),
      ),
    );
  } finally {
    await onbehalf.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function withStore<T>(fn: (store: SqliteAuditStore) => Promise<T>): Promise<T> {
  const store = new SqliteAuditStore(path, { readonly: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const summary = (r: Record<string, unknown>) =>
  `${r.timestamp as string} ${r.record_type as string} ${r.actor_type as string}:${r.actor_id as string} ${r.action as string} → ${r.target as string} (${r.trigger_type as string}:${r.trigger_id as string}) ${r.result as string}`;

describe("the seed's acceptance test", () => {
  it('"everything the agent did": agent rows only, newest first', async () => {
    const rows = await withStore((s) => s.sql(EVERYTHING_THE_AGENT_DID));
    expect(rows.map(summary)).toEqual([
      expect.stringMatching(
        /^2026-01-14T08:30:00\.\d{3}Z action agent:nhi:agent-7f3 label_mail → inbox\/msg-9001 \(email:msg-9001\) ok$/,
      ),
      expect.stringMatching(
        /^2026-01-14T03:15:00\.\d{3}Z action agent:nhi:agent-7f3 send_mail → stranger@evil.example \(email:msg-8821\) ok$/,
      ),
      '2026-01-14T03:15:00.000Z started agent:nhi:agent-7f3 send_mail → stranger@evil.example (email:msg-8821) started',
      expect.stringMatching(
        /^2026-01-14T03:14:00\.\d{3}Z action agent:nhi:agent-7f3 read_mail → inbox\/msg-8821 \(email:msg-8821\) ok$/,
      ),
    ]);
    for (const r of rows)
      expect(r).toMatchObject(inboxAgentColumns('actor_name', 'on_behalf_of', 'owner_id'));
  });

  it('"every action one hostile message set in motion": the incident timeline, oldest first', async () => {
    const rows = await withStore((s) => s.sql(INCIDENT_TIMELINE));
    expect(rows.map((r) => `${r.record_type as string}:${r.action as string}`)).toEqual([
      'action:read_mail',
      'started:send_mail',
      'action:send_mail',
    ]);
    expect(rows[2]).toMatchObject({
      ...inboxAgentColumns(
        'actor_type',
        'actor_id',
        'actor_name',
        'on_behalf_of',
        'trigger_type',
        'trigger_id',
      ),
      action: 'send_mail',
      target: 'stranger@evil.example',
      risk_tier: 2,
      result: 'ok',
      provenance: 'local',
      service_name: 'inbox-agent',
      redactions: '["credit_card","email"]',
      tool_arguments: '{"to":"[REDACTED:email]","body":"card [REDACTED:credit_card]"}',
    });
  });

  it('keeps what Tom did himself apart: actor_type human, no agent', async () => {
    const rows = await withStore((s) => s.sql("select * from audit_events where actor_type = 'human'"));
    expect(rows.map(summary)).toEqual([
      '2026-01-14T10:02:00.000Z started human:tom send_mail → dana@acme.example (null:null) started',
      expect.stringMatching(
        /^2026-01-14T10:02:00\.\d{3}Z action human:tom send_mail → dana@acme\.example \(null:null\) ok$/,
      ),
    ]);
    expect(rows[1]).toMatchObject({ actor_name: 'Tom', owner_id: null, on_behalf_of: 'tom' });
  });

  it('stored every action despite the 1% sampler, in one chain that verifies', async () => {
    const result = await withStore((s) => verifyAuditStore(s));
    expect(result).toMatchObject({ ok: true, count: 6 });
    expect(result.logs[0]!.checkpointsVerified).toBeGreaterThanOrEqual(1);
  });
});
