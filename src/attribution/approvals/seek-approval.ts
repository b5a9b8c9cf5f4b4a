// The approval path of the gate: a `require_approval` decision becomes an approval_request record,
// the approver is asked, and its answer (or the expiry) an approval_resolution record, both in the
// audit chain and linked to the action by `attribution.approval.id`.
import { randomUUID } from 'node:crypto';
import { type Attributes, SpanKind, trace } from '@opentelemetry/api';
import {
  ATTR_ATTRIBUTION_ACTION,
  ATTR_ATTRIBUTION_APPROVAL_APPROVER_ID,
  ATTR_ATTRIBUTION_APPROVAL_EXPIRES_AT,
  ATTR_ATTRIBUTION_APPROVAL_ID,
  ATTR_ATTRIBUTION_APPROVAL_RESOLVED_AT,
  ATTR_ATTRIBUTION_APPROVAL_STATE,
  ATTR_ATTRIBUTION_RISK_TIER,
  ATTR_ATTRIBUTION_TARGET,
  ATTR_ERROR_TYPE,
  ATTR_ONBEHALF_AUDIT_RECORD_TYPE,
} from '../../conventions/generated.js';
import type { ActivePolicy } from '../policy/active.js';
import { decisionAttributes } from '../policy/attributes.js';
import type { PolicyDecision } from '../policy/engine.js';
import { type ApprovalAnswer, type ApprovalRequest, isApproverId } from './approver.js';

/** How an approval request ended. */
export interface ApprovalOutcome {
  readonly id: string;
  /** `pending`: no approver is configured, so nobody was asked. */
  readonly state: 'approved' | 'rejected' | 'expired' | 'pending';
  readonly approverId?: string;
  /** ms since 1970. */
  readonly requestedAt: number;
  readonly expiresAt: number;
  readonly resolvedAt?: number;
  /** Why the approver failed, when it threw. */
  readonly errorType?: string;
}

/** What the gate knows of the action when it asks. */
export interface ApprovalAsk {
  action: string;
  target?: string;
  riskTier: number;
  onBehalfOf?: string;
  actorId?: string;
  arguments?: string;
  decision: PolicyDecision;
  policy: ActivePolicy;
  /** The replayed action's start, when the gate replays one: the request is dated then. */
  replayStart?: number;
}

const TRACER_NAME = 'onbehalf';

/** Records an approval request, waits for the approver or the expiry, and records the resolution. */
export async function seekApproval(ask: ApprovalAsk): Promise<ApprovalOutcome> {
  const id = `apr-${randomUUID()}`;
  const requestedAt = ask.replayStart ?? Date.now();
  const expiresAt = requestedAt + ask.policy.approvalTimeoutMs;
  const approver = ask.policy.approver;
  if (!approver) return { id, state: 'pending', requestedAt, expiresAt, errorType: 'no_approver' };

  const tracer = trace.getTracer(TRACER_NAME);
  const common: Attributes = {
    [ATTR_ATTRIBUTION_ACTION]: ask.action,
    [ATTR_ATTRIBUTION_RISK_TIER]: ask.riskTier,
    ...decisionAttributes(ask.decision, 'enforce'),
    [ATTR_ATTRIBUTION_APPROVAL_ID]: id,
    [ATTR_ATTRIBUTION_APPROVAL_EXPIRES_AT]: new Date(expiresAt).toISOString(),
  };
  if (ask.target !== undefined) common[ATTR_ATTRIBUTION_TARGET] = ask.target;
  tracer
    .startSpan(`approval_request ${ask.action}`, {
      kind: SpanKind.INTERNAL,
      startTime: requestedAt,
      attributes: {
        ...common,
        [ATTR_ONBEHALF_AUDIT_RECORD_TYPE]: 'approval_request',
        [ATTR_ATTRIBUTION_APPROVAL_STATE]: 'pending',
      },
    })
    .end(requestedAt);

  const controller = new AbortController();
  const request: ApprovalRequest = Object.freeze({
    id,
    action: ask.action,
    target: ask.target,
    riskTier: ask.riskTier,
    onBehalfOf: ask.onBehalfOf,
    actorId: ask.actorId,
    policies: ask.decision.policies,
    reason: ask.decision.reason,
    arguments: ask.arguments,
    requestedAt: new Date(requestedAt).toISOString(),
    expiresAt: new Date(expiresAt).toISOString(),
    signal: controller.signal,
  });
  const answered = await answerOrExpiry(() => approver(request), ask.policy.approvalTimeoutMs, controller);
  const resolvedAt =
    answered.kind === 'expired'
      ? ask.replayStart === undefined
        ? Date.now()
        : expiresAt
      : answered.kind === 'answer' && answered.answer.at !== undefined
        ? Number(answered.answer.at)
        : (ask.replayStart ?? Date.now());
  const outcome: ApprovalOutcome =
    answered.kind === 'answer'
      ? {
          id,
          state: answered.answer.approved ? 'approved' : 'rejected',
          approverId: answered.answer.approverId,
          requestedAt,
          expiresAt,
          resolvedAt,
        }
      : answered.kind === 'expired'
        ? { id, state: 'expired', requestedAt, expiresAt, resolvedAt }
        : { id, state: 'rejected', requestedAt, expiresAt, resolvedAt, errorType: answered.errorType };

  const resolution: Attributes = {
    ...common,
    [ATTR_ONBEHALF_AUDIT_RECORD_TYPE]: 'approval_resolution',
    [ATTR_ATTRIBUTION_APPROVAL_STATE]: outcome.state,
    [ATTR_ATTRIBUTION_APPROVAL_RESOLVED_AT]: new Date(resolvedAt).toISOString(),
  };
  if (outcome.approverId) resolution[ATTR_ATTRIBUTION_APPROVAL_APPROVER_ID] = outcome.approverId;
  if (outcome.errorType) resolution[ATTR_ERROR_TYPE] = outcome.errorType;
  // The span covers the wait: its duration is how long the human took.
  tracer
    .startSpan(`approval_resolution ${ask.action}`, {
      kind: SpanKind.INTERNAL,
      startTime: requestedAt,
      attributes: resolution,
    })
    .end(Math.max(resolvedAt, requestedAt));
  return outcome;
}

type Answered =
  | { kind: 'answer'; answer: ApprovalAnswer }
  | { kind: 'expired' }
  | { kind: 'failed'; errorType: string };

function answerOrExpiry(
  ask: () => ApprovalAnswer | Promise<ApprovalAnswer>,
  timeoutMs: number,
  controller: AbortController,
): Promise<Answered> {
  return new Promise<Answered>((resolve) => {
    let settled = false;
    const settle = (value: Answered) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
    };
    const timer = setTimeout(() => {
      settle({ kind: 'expired' });
      controller.abort();
    }, timeoutMs);
    Promise.resolve()
      .then(ask)
      .then(
        (answer) =>
          settle(
            validAnswer(answer)
              ? { kind: 'answer', answer }
              : { kind: 'failed', errorType: 'invalid_answer' },
          ),
        (err: unknown) => settle({ kind: 'failed', errorType: errorTypeOf(err) }),
      );
  });
}

function validAnswer(answer: unknown): answer is ApprovalAnswer {
  const a = answer as Partial<ApprovalAnswer> | null;
  return (
    !!a &&
    typeof a.approved === 'boolean' &&
    isApproverId(a.approverId) &&
    (a.at === undefined || Number.isFinite(Number(a.at)))
  );
}

function errorTypeOf(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name && name !== 'Error' ? name : 'approver_failed';
}
