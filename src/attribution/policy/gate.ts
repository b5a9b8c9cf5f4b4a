// What `audited()` asks the policy in force before it runs an action.
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_ATTRIBUTION_APPROVAL_EXPIRES_AT,
  ATTR_ATTRIBUTION_APPROVAL_ID,
  ATTR_ATTRIBUTION_APPROVAL_RESOLVED_AT,
  ATTR_ERROR_TYPE,
} from '../../conventions/generated.js';
import { redact } from '../../redaction/redact.js';
import { seekApproval } from '../approvals/seek-approval.js';
import { getAttribution } from '../attribution.js';
import type { AuditDetails } from '../audited.js';
import type { ActivePolicy } from './active.js';
import { decisionAttributes, ruleOf } from './attributes.js';
import type { PolicyDecision } from './engine.js';
import { principalOf, subjectFromAttribution } from './request.js';

/** The action's details with the engine's decision (and approval) in place, and what else to record. */
export interface GateVerdict {
  details: AuditDetails;
  attributes: Attributes;
}

/**
 * Decides an action with `policy`: synchronously, unless the decision is `require_approval`, when
 * it waits for the approval path. A caller's own `details.policy` is replaced by the engine's
 * decision; a caller's `details.approval` is part of the request.
 */
export function decideAtGate(
  action: string,
  details: AuditDetails,
  policy: ActivePolicy,
): GateVerdict | Promise<GateVerdict> {
  const attribution = getAttribution();
  const subject = subjectFromAttribution(action, details, attribution);
  const decision = policy.engine.decide(subject);
  if (decision.decision !== 'require_approval') return verdict(details, decision, details.approval, {});
  const replayStart = details.startTime === undefined ? undefined : Number(details.startTime);
  return seekApproval({
    action,
    target: details.target,
    riskTier: details.riskTier ?? 0,
    onBehalfOf: principalOf(subject).id,
    actorId: attribution?.actor.id,
    arguments: details.arguments === undefined ? undefined : redact(details.arguments).json,
    decision,
    policy,
    replayStart: Number.isFinite(replayStart) ? replayStart : undefined,
  }).then((outcome) => {
    const extra: Attributes = {
      [ATTR_ATTRIBUTION_APPROVAL_ID]: outcome.id,
      [ATTR_ATTRIBUTION_APPROVAL_EXPIRES_AT]: new Date(outcome.expiresAt).toISOString(),
    };
    if (outcome.resolvedAt !== undefined)
      extra[ATTR_ATTRIBUTION_APPROVAL_RESOLVED_AT] = new Date(outcome.resolvedAt).toISOString();
    if (outcome.errorType) extra[ATTR_ERROR_TYPE] = outcome.errorType;
    const approval = { state: outcome.state, approverId: outcome.approverId };
    // A replayed action runs once it was approved: a millisecond after the resolution, so its rows
    // never tie with the resolution's when sorted by timestamp.
    const timed =
      details.startTime !== undefined && outcome.resolvedAt !== undefined
        ? { ...details, startTime: outcome.resolvedAt + 1 }
        : details;
    if (outcome.state !== 'approved') return verdict(timed, decision, approval, extra);
    // Asked again with the real approver: the policy may accept only some approvers.
    const final = policy.engine.decide({ ...subject, approval });
    const recorded: PolicyDecision =
      final.decision === 'allow' ? { ...final, decision: 'require_approval' } : final;
    return verdict(timed, recorded, approval, extra);
  });
}

function verdict(
  details: AuditDetails,
  decision: PolicyDecision,
  approval: AuditDetails['approval'],
  extra: Attributes,
): GateVerdict {
  return {
    details: { ...details, policy: { decision: decision.decision, rule: ruleOf(decision) }, approval },
    attributes: { ...decisionAttributes(decision, 'enforce'), ...extra },
  };
}
