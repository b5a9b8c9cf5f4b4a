import { type AuditEvent, auditEvent } from '../../src/pipeline/event.js';

// The row the seed story's attribution leaves in the audit store: Tom's inbox-agent (nhi:agent-7f3,
// owned by Tom), acting on Tom's behalf because of email msg-8821. One copy for every test that
// expects or writes it.

/** The attribution columns every row of the inbox agent must carry. */
export const attributedToInboxAgent = {
  record_type: 'action',
  actor_type: 'agent',
  actor_id: 'nhi:agent-7f3',
  actor_name: 'inbox-agent',
  owner_id: 'tom',
  on_behalf_of: 'tom',
  trigger_type: 'email',
  trigger_id: 'msg-8821',
} as const;

/** The named columns of {@link attributedToInboxAgent}, for a test that checks (or writes) only these. */
export function inboxAgentColumns<K extends keyof typeof attributedToInboxAgent>(
  ...columns: K[]
): Pick<typeof attributedToInboxAgent, K> {
  return Object.fromEntries(columns.map((c) => [c, attributedToInboxAgent[c]])) as Pick<
    typeof attributedToInboxAgent,
    K
  >;
}

/**
 * The `i`th of a run of the inbox agent's actions (`step_i` on `item-i`, one second apart), with the
 * other columns at their defaults; `tag` keeps two runs' event ids apart.
 */
export function inboxAgentStep(i: number, tag: string): AuditEvent {
  return auditEvent({
    ...inboxAgentColumns(
      'record_type',
      'actor_type',
      'actor_id',
      'on_behalf_of',
      'trigger_type',
      'trigger_id',
    ),
    event_id: `evt-${tag}-${i}`,
    timestamp: new Date(Date.UTC(2026, 0, 1, 3, 14, i)).toISOString(),
    action: `step_${i}`,
    target: `item-${i}`,
    risk_tier: 0,
    result: 'ok',
    provenance: 'local',
  });
}
