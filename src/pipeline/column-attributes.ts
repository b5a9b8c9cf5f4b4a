import {
  ATTR_ATTRIBUTION_ACTION,
  ATTR_ATTRIBUTION_ACTOR_ID,
  ATTR_ATTRIBUTION_ACTOR_NAME,
  ATTR_ATTRIBUTION_ACTOR_OWNER_ID,
  ATTR_ATTRIBUTION_ACTOR_TYPE,
  ATTR_ATTRIBUTION_APPROVAL_APPROVER_ID,
  ATTR_ATTRIBUTION_APPROVAL_STATE,
  ATTR_ATTRIBUTION_CONTENT_REDACTIONS,
  ATTR_ATTRIBUTION_DELEGATION_CHAIN,
  ATTR_ATTRIBUTION_INTENT_ID,
  ATTR_ATTRIBUTION_INTENT_NAME,
  ATTR_ATTRIBUTION_POLICY_DECISION,
  ATTR_ATTRIBUTION_POLICY_RULE,
  ATTR_ATTRIBUTION_PRINCIPAL_ID,
  ATTR_ATTRIBUTION_PROVENANCE,
  ATTR_ATTRIBUTION_RESULT,
  ATTR_ATTRIBUTION_RISK_TIER,
  ATTR_ATTRIBUTION_SCOPES,
  ATTR_ATTRIBUTION_TARGET,
  ATTR_ATTRIBUTION_TRIGGER_ID,
  ATTR_ATTRIBUTION_TRIGGER_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_ONBEHALF_AUDIT_RECORD_TYPE,
  ATTR_SESSION_ID,
  ATTR_USER_ID,
} from '../conventions/generated.js';
import type { AuditEvent } from './event.js';

/**
 * Which span attribute each event column comes from, and goes back out as on an OTLP log record:
 * one table for both directions. A column may have more than one (`on_behalf_of` is also
 * `user.id`); the first is the attribution convention's own.
 */
export const COLUMN_ATTRIBUTES: readonly (readonly [keyof AuditEvent, string])[] = [
  ['actor_type', ATTR_ATTRIBUTION_ACTOR_TYPE],
  ['actor_id', ATTR_ATTRIBUTION_ACTOR_ID],
  ['actor_name', ATTR_ATTRIBUTION_ACTOR_NAME],
  ['owner_id', ATTR_ATTRIBUTION_ACTOR_OWNER_ID],
  ['on_behalf_of', ATTR_ATTRIBUTION_PRINCIPAL_ID],
  ['on_behalf_of', ATTR_USER_ID],
  ['delegation_chain', ATTR_ATTRIBUTION_DELEGATION_CHAIN],
  ['intent', ATTR_ATTRIBUTION_INTENT_NAME],
  ['trigger_type', ATTR_ATTRIBUTION_TRIGGER_TYPE],
  ['trigger_id', ATTR_ATTRIBUTION_TRIGGER_ID],
  ['scopes', ATTR_ATTRIBUTION_SCOPES],
  ['action', ATTR_ATTRIBUTION_ACTION],
  ['target', ATTR_ATTRIBUTION_TARGET],
  ['risk_tier', ATTR_ATTRIBUTION_RISK_TIER],
  ['result', ATTR_ATTRIBUTION_RESULT],
  ['policy_decision', ATTR_ATTRIBUTION_POLICY_DECISION],
  ['policy_rule', ATTR_ATTRIBUTION_POLICY_RULE],
  ['approval_state', ATTR_ATTRIBUTION_APPROVAL_STATE],
  ['approved_by', ATTR_ATTRIBUTION_APPROVAL_APPROVER_ID],
  ['provenance', ATTR_ATTRIBUTION_PROVENANCE],
  ['redactions', ATTR_ATTRIBUTION_CONTENT_REDACTIONS],
  ['session_id', ATTR_SESSION_ID],
  ['tool_arguments', ATTR_GEN_AI_TOOL_CALL_ARGUMENTS],
];

/**
 * Span attributes already stored in their own column, so the `attributes` column holds only the
 * rest. `intent.id` is the `intent` column's fallback when a span has no intent name.
 */
export const ATTRIBUTES_IN_COLUMNS: ReadonlySet<string> = new Set([
  ...COLUMN_ATTRIBUTES.map(([, attribute]) => attribute),
  ATTR_ATTRIBUTION_INTENT_ID,
  // An approval span's record type is the row's `record_type`.
  ATTR_ONBEHALF_AUDIT_RECORD_TYPE,
]);
