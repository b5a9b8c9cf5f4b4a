// Shadow mode: a tool call onbehalf records but does not gate (an AI SDK, LangChain or MCP tool the
// app did not wrap) is evaluated in `log_only` mode when its row is written, so every row answers
// "was this allowed by policy?". Nothing is enforced: the row says what the policy would have decided.
import { decisionAttributes, ruleOf } from '../attribution/policy/attributes.js';
import type { PolicyEngine } from '../attribution/policy/engine.js';
import type { PolicySubject } from '../attribution/policy/request.js';
import { reportProblem } from '../metrics/problem-channel.js';
import { ATTRIBUTES_IN_COLUMNS } from './column-attributes.js';
import type { AuditEvent } from './event.js';

/** The subject of a recorded action, from its row's columns. */
export function subjectFromEvent(event: AuditEvent): PolicySubject {
  return {
    action: event.action,
    target: event.target,
    riskTier: event.risk_tier ?? 0,
    principal: event.on_behalf_of ? { id: event.on_behalf_of } : null,
    actor:
      event.actor_id && event.actor_type
        ? { id: event.actor_id, type: event.actor_type, ownerId: event.owner_id ?? undefined }
        : null,
    delegationChain: stringList(event.delegation_chain),
    scopes: stringList(event.scopes),
    provenance: event.provenance,
    approval: event.approval_state
      ? { state: event.approval_state, approverId: event.approved_by ?? undefined }
      : null,
  };
}

/**
 * The audit writer's shadow hook for `engine`: returns the event with the would-be decision in
 * `policy_decision` and `policy_rule`, and the determining policies, engine, policy version and
 * `attribution.policy.mode=log_only` in its `attributes`. Never throws: an event it cannot evaluate
 * is written as it came.
 */
export function shadowPolicy(engine: PolicyEngine): (event: AuditEvent) => AuditEvent {
  return (event) => {
    try {
      const decision = engine.decide(subjectFromEvent(event));
      const rest: Record<string, unknown> = event.attributes
        ? (JSON.parse(event.attributes) as Record<string, unknown>)
        : {};
      if (!rest || typeof rest !== 'object' || Array.isArray(rest)) return event;
      for (const [key, value] of Object.entries(decisionAttributes(decision, 'log_only'))) {
        if (!ATTRIBUTES_IN_COLUMNS.has(key)) rest[key] = value;
      }
      return {
        ...event,
        policy_decision: decision.decision,
        policy_rule: ruleOf(decision) ?? null,
        attributes: JSON.stringify(rest),
      };
    } catch (err) {
      reportProblem({
        code: 'policy.shadow_failed',
        component: 'policy-shadow',
        message: 'could not evaluate an action in shadow mode',
        detail: `${event.action}: ${err instanceof Error ? err.message : String(err)}`,
        cause: err,
      });
      return event;
    }
  };
}

function stringList(json: string | null): string[] {
  if (!json) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}
