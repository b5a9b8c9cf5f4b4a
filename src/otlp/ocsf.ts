import type { AnyValue, AnyValueMap } from '../otel/sdk-interfaces.js';
import type { StoredAuditEvent } from '../pipeline/event.js';

/**
 * An audit event as an OCSF API Activity event (class 6003, category 6 Application Activity), for SIEMs
 * that ingest OCSF (Amazon Security Lake, Splunk, Sentinel…). OCSF has no notion of an agent acting on a
 * human's behalf, so the acting identity is `actor.user` (type `Agent` for agents), the policy decision
 * is `actor.authorizations`, and the delegation (principal, owner, chain, trigger, intent, approval) is
 * under `unmapped.delegation`, where OCSF puts what its schema lacks.
 */
export const OCSF_VERSION = '1.3.0';
/** OCSF class `API Activity`. */
export const OCSF_API_ACTIVITY_CLASS = 6003;

/** OCSF activity ids of API Activity, guessed from the action's leading verb. */
const ACTIVITIES: readonly (readonly [RegExp, number, string])[] = [
  [/^(create|add|send|post|insert|new|invite|upload|pay|transfer)/i, 1, 'Create'],
  [/^(read|get|list|search|fetch|view|query|find|download|summari[sz]e)/i, 2, 'Read'],
  [/^(update|set|edit|modify|patch|change|grant|move|rename|approve)/i, 3, 'Update'],
  [/^(delete|remove|revoke|drop|purge|destroy|archive)/i, 4, 'Delete'],
];

const USER_TYPES: Record<string, [number, string]> = {
  human: [1, 'User'],
  agent: [99, 'Agent'],
  service: [3, 'System'],
};

/** The OCSF API Activity object of an audit event (an OTLP log body: nested maps and lists). */
export function toOcsfApiActivity(row: StoredAuditEvent): AnyValueMap {
  const [activityId, activityName] = activityOf(row.action);
  const [typeId, type] = USER_TYPES[row.actor_type ?? ''] ?? [0, 'Unknown'];
  const failed = row.result === 'error' || row.result === 'denied';
  const statusId = row.result === 'ok' ? 1 : failed ? 2 : row.result ? 99 : 0;
  const severityId = row.result === 'error' ? 4 : row.result === 'denied' ? 3 : 1;
  return compact({
    class_uid: OCSF_API_ACTIVITY_CLASS,
    class_name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activity_id: activityId,
    activity_name: activityName,
    type_uid: OCSF_API_ACTIVITY_CLASS * 100 + activityId,
    type_name: `API Activity: ${activityName}`,
    time: Date.parse(row.timestamp),
    duration: row.duration_ms === null ? undefined : Math.round(row.duration_ms),
    severity_id: severityId,
    severity: severityId === 1 ? 'Informational' : severityId === 3 ? 'Medium' : 'High',
    status_id: statusId,
    status:
      statusId === 1 ? 'Success' : statusId === 2 ? 'Failure' : statusId === 99 ? row.result : 'Unknown',
    status_detail:
      row.result === 'denied' ? `denied by policy${row.policy_rule ? ` ${row.policy_rule}` : ''}` : undefined,
    actor: {
      user: { uid: row.actor_id, name: row.actor_name, type_id: typeId, type },
      session: row.session_id ? { uid: row.session_id } : undefined,
      app_name: row.service_name,
      authorizations: row.policy_decision
        ? [
            {
              decision: authorizationDecision(row),
              policy: row.policy_rule ? { name: row.policy_rule } : undefined,
            },
          ]
        : undefined,
    },
    api: {
      operation: row.action,
      service: row.service_name ? { name: row.service_name } : undefined,
      request: { uid: row.event_id },
    },
    src_endpoint: { svc_name: row.service_name ?? 'unknown' },
    resources: row.target ? [{ name: row.target, type: 'target' }] : undefined,
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'onbehalf', vendor_name: 'onbehalf' },
      uid: row.event_id,
      correlation_uid: row.trace_id,
      log_name: row.origin,
      sequence: row.seq,
    },
    unmapped: {
      delegation: {
        on_behalf_of: row.on_behalf_of,
        owner: row.owner_id,
        chain: listOf(row.delegation_chain),
        trigger: row.trigger_id ? { type: row.trigger_type, id: row.trigger_id } : undefined,
        intent: row.intent,
        scopes: listOf(row.scopes),
        risk_tier: row.risk_tier,
        approval: row.approval_state
          ? {
              state: row.approval_state,
              approver: row.approved_by,
              human_approved: row.approval_state === 'approved' && row.approved_by !== null,
            }
          : undefined,
        provenance: row.provenance,
      },
      trace_id: row.trace_id,
      span_id: row.span_id,
      hash: row.hash,
      redactions: listOf(row.redactions),
    },
  }) as AnyValueMap;
}

/**
 * OCSF's `authorization.decision` is free text: the policy's own decision (`allow`, `deny`), except
 * that an action a human approved reads `human_approved` and one still waiting or refused
 * `approval_<state>`, so a SIEM tells autonomous from human-approved without reading `unmapped`.
 */
function authorizationDecision(row: StoredAuditEvent): string {
  const decision = row.policy_decision ?? 'not_evaluated';
  if (decision === 'deny') return decision;
  if (row.approval_state === 'approved' && row.approved_by) return 'human_approved';
  if (decision === 'require_approval') return `approval_${row.approval_state ?? 'pending'}`;
  return decision;
}

function activityOf(action: string): [number, string] {
  for (const [pattern, id, name] of ACTIVITIES) if (pattern.test(action)) return [id, name];
  return [99, 'Other'];
}

function listOf(text: string | null): string[] | undefined {
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/** Drops null, undefined and empty objects: OTLP has no undefined, and absent reads better than null. */
function compact(value: unknown): AnyValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((v) => compact(v) ?? null);
  if (typeof value === 'object') {
    const out: AnyValueMap = {};
    for (const [k, v] of Object.entries(value)) {
      const c = compact(v);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value as AnyValue;
}
