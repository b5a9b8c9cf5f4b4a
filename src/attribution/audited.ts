import { randomUUID } from 'node:crypto';
import { type Attributes, context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ATTRIBUTION_ACTION,
  ATTR_ATTRIBUTION_APPROVAL_APPROVER_ID,
  ATTR_ATTRIBUTION_APPROVAL_STATE,
  ATTR_ATTRIBUTION_CONTENT_REDACTIONS,
  ATTR_ATTRIBUTION_POLICY_DECISION,
  ATTR_ATTRIBUTION_POLICY_RULE,
  ATTR_ATTRIBUTION_RESULT,
  ATTR_ATTRIBUTION_RISK_TIER,
  ATTR_ATTRIBUTION_TARGET,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
} from '../conventions/generated.js';
import { OnbehalfError } from '../errors/onbehalf-error.js';
import { redact, redactValue } from '../redaction/redact.js';
import { expectCommitAck, takeCommitAck } from './commit-acks.js';
import { type EnclosingToolCall, gateStartsInside } from './folded-tool-calls.js';
import { activePolicy } from './policy/active.js';
import { decideAtGate } from './policy/gate.js';
import { noteUnrecordedAction, unrecordedReason } from './unrecorded-actions.js';

/** What {@link audited} records about a privileged action besides its name. */
export interface AuditDetails {
  /** What the action is done to, e.g. a recipient or a record id. Stored as is: not redacted. */
  target?: string;
  /** 0 (read) … 3 (moves money, widens access, deletes). Tier ≥ 2 also leaves a `started` record. */
  riskTier?: 0 | 1 | 2 | 3;
  /** Tool arguments; stored only after redaction. */
  arguments?: unknown;
  /**
   * The decision, when the caller made it. With a policy in force (`usePolicy`, the `policy` option,
   * `ONBEHALF_POLICY`) the engine decides instead, and this is ignored.
   */
  policy?: { decision: 'allow' | 'deny' | 'require_approval' | 'not_evaluated'; rule?: string };
  /** The action's approval; with a policy in force, part of what the policy decides on. */
  approval?: {
    state: 'not_required' | 'pending' | 'approved' | 'rejected' | 'expired';
    approverId?: string;
  };
  /**
   * When the action happened, if not now: for replaying actions recorded elsewhere (an import, a
   * scripted scenario). The span keeps its real duration unless `durationMs` is given.
   */
  startTime?: Date | number;
  /**
   * With `startTime`, how long the recorded action took, in milliseconds. A replayed action that
   * runs in under a millisecond would otherwise end in the same millisecond it began, and its
   * `started` and completed rows would tie when sorted by timestamp. Invalid times are refused with a
   * `RangeError` before the action runs.
   */
  durationMs?: number;
}

/** Thrown by {@link audited} when policy or approval refuses an action; the action did not run. */
export class ActionDeniedError extends OnbehalfError {
  override name = 'ActionDeniedError';
  constructor(
    readonly action: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super('action.denied', `onbehalf: ${action} denied: ${reason}`, options);
  }
}

const TRACER_NAME = 'onbehalf';

/**
 * The single gate for privileged actions. Runs `fn` inside an `execute_tool {action}` span that
 * records the action, target, risk tier, policy decision, approval and result, under the attribution
 * of the active context, and returns what `fn` returns. With an audit pipeline committing per turn
 * (the default on SQLite) it resolves only once the action's audit event is committed.
 *
 * - With a policy in force (docs/policy.md), the engine decides, and the row records its decision,
 *   determining policies, engine and policy version; `require_approval` waits for the approver
 *   (approval_request and approval_resolution rows) before deciding again with the approval.
 * - Policy `deny`, or `require_approval` without an `approved` approval: records `result=denied` and
 *   throws {@link ActionDeniedError} without calling `fn`.
 * - `fn` throws: records `result=error` and `error.type`, and rethrows the same error unchanged.
 *
 * @example
 * await audited('send_mail', { target: 'dana@acme.example', riskTier: 2,
 *   policy: { decision: 'allow', rule: 'mail.send:internal' } }, () => mailer.send(msg));
 */
export function audited<T>(action: string, details: AuditDetails, fn: () => T | Promise<T>): Promise<T> {
  const policy = activePolicy();
  if (!policy) return gate(action, details, fn, undefined);
  let decided: ReturnType<typeof decideAtGate>;
  try {
    decided = decideAtGate(action, details, policy);
  } catch (err) {
    return Promise.reject(err);
  }
  if (!(decided instanceof Promise)) return gate(action, decided.details, fn, decided.attributes);
  // The approval wait is async: the action still runs in the caller's context.
  const ctx = context.active();
  return decided.then((v) => context.with(ctx, () => gate(action, v.details, fn, v.attributes)));
}

function gate<T>(
  action: string,
  details: AuditDetails,
  fn: () => T | Promise<T>,
  decision: Attributes | undefined,
): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  const denial = denialReason(details);
  // Inside a framework's own tool span, this gate's row is that call's only row.
  const enclosing = gateStartsInside(trace.getActiveSpan());
  const attributes = startAttributes(action, details, enclosing);
  if (decision) Object.assign(attributes, decision);
  // Known before the span starts, so no `started` record is written for an action that never runs.
  if (denial) attributes[ATTR_ATTRIBUTION_RESULT] = 'denied';
  let startTime: number | undefined;
  try {
    startTime = replayStart(details);
  } catch (err) {
    return Promise.reject(err);
  }
  const began = Date.now();
  return tracer.startActiveSpan(
    `execute_tool ${action}`,
    { kind: SpanKind.INTERNAL, attributes, startTime },
    async (span) => {
      // An audit pipeline committing once per turn lets this gate wait for its event's commit.
      const awaitsCommit = expectCommitAck(span);
      // No pipeline records this span (no SDK, not started, shut down, suppressed): the action is counted for a gap record.
      if (!span.isRecording()) noteUnrecordedAction(action, unrecordedReason(context.active()));
      try {
        if (denial) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: denial });
          throw new ActionDeniedError(action, denial);
        }
        let result: T;
        try {
          result = await fn();
        } catch (err) {
          span.setAttributes({ [ATTR_ATTRIBUTION_RESULT]: 'error', [ATTR_ERROR_TYPE]: errorType(err) });
          span.recordException(err instanceof Error ? err : String(err));
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: err instanceof Error ? err.message : String(err),
          });
          throw err;
        }
        span.setAttribute(ATTR_ATTRIBUTION_RESULT, 'ok');
        return result;
      } finally {
        span.end(
          startTime === undefined ? undefined : startTime + (details.durationMs ?? Date.now() - began),
        );
        // Durable before the caller learns the result (commit mode `turn`; at once otherwise).
        const committed = awaitsCommit ? takeCommitAck(span) : undefined;
        if (committed) await committed;
      }
    },
  );
}

/** The most a Date can hold, in ms either side of 1970. */
const MAX_TIME = 8.64e15;

/**
 * `startTime` as ms, checked with `durationMs`: a time no Date can hold would leave a span no event
 * can be made of, so it is refused before the action runs, naming the field.
 */
function replayStart(d: AuditDetails): number | undefined {
  if (d.startTime === undefined) {
    if (d.durationMs !== undefined) throw new RangeError('audited: durationMs is only used with startTime');
    return undefined;
  }
  const start = Number(d.startTime);
  if (!Number.isFinite(start) || Math.abs(start) > MAX_TIME)
    throw new RangeError(`audited: startTime is not a valid time (${String(d.startTime)})`);
  const duration = d.durationMs;
  if (duration !== undefined && !(Number.isFinite(duration) && duration >= 0 && start + duration <= MAX_TIME))
    throw new RangeError(`audited: durationMs must be a finite number of ms ≥ 0 (got ${duration})`);
  return start;
}

function startAttributes(
  action: string,
  d: AuditDetails,
  enclosing: EnclosingToolCall | undefined,
): Attributes {
  const attributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
    [ATTR_GEN_AI_TOOL_NAME]: action,
    // The framework's id of the call this gate folds into, so the row can be matched to its trace.
    [ATTR_GEN_AI_TOOL_CALL_ID]: enclosing?.call.callId ?? randomUUID(),
    [ATTR_ATTRIBUTION_ACTION]: action,
    [ATTR_ATTRIBUTION_RISK_TIER]: d.riskTier ?? 0,
    [ATTR_ATTRIBUTION_POLICY_DECISION]: d.policy?.decision ?? 'not_evaluated',
    [ATTR_ATTRIBUTION_APPROVAL_STATE]: d.approval?.state ?? 'not_required',
  };
  if (d.target !== undefined) attributes[ATTR_ATTRIBUTION_TARGET] = d.target;
  if (d.policy?.rule) attributes[ATTR_ATTRIBUTION_POLICY_RULE] = d.policy.rule;
  if (d.approval?.approverId) attributes[ATTR_ATTRIBUTION_APPROVAL_APPROVER_ID] = d.approval.approverId;
  // The gate's own arguments win; without them, the framework's, redacted the same way.
  const args =
    d.arguments !== undefined
      ? redact(d.arguments)
      : enclosing?.call.arguments !== undefined
        ? redactValue(enclosing.call.arguments, undefined)
        : undefined;
  if (args) {
    const { json, redactions } = args;
    if (json !== undefined) attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = json;
    if (redactions.length) attributes[ATTR_ATTRIBUTION_CONTENT_REDACTIONS] = redactions;
  }
  return attributes;
}

function denialReason(d: AuditDetails): string | undefined {
  const rule = d.policy?.rule ? ` (rule: ${d.policy.rule})` : '';
  if (d.policy?.decision === 'deny') return `policy denied${rule}`;
  if (d.policy?.decision === 'require_approval' && d.approval?.state !== 'approved') {
    return `approval required, approval is ${d.approval?.state ?? 'missing'}${rule}`;
  }
  if (d.approval && (d.approval.state === 'rejected' || d.approval.state === 'expired')) {
    return `approval ${d.approval.state}${rule}`;
  }
  return undefined;
}

function errorType(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && name && name !== 'Error') return name;
    if (err.constructor?.name && err.constructor.name !== 'Object') return err.constructor.name;
  }
  return '_OTHER';
}
