import { type Attributes, type AttributeValue, type HrTime, SpanStatusCode } from '@opentelemetry/api';
import type { ToolCall } from '../conventions/tool-call.js';
import type { ReadableSpan } from '../otel/sdk-interfaces.js';
import { type RedactionOptions, redact, redactValue } from '../redaction/redact.js';
import { ATTRIBUTES_IN_COLUMNS } from './column-attributes.js';
import type { AuditEvent } from './event.js';
import { newEventId } from './event-id.js';

/** Longest `action` / `target` kept; longer values are cut and `truncated` is recorded. */
const MAX_FIELD = 1024;
/** Longest JSON kept in the `attributes` column. */
const MAX_ATTRIBUTES_JSON = 16_384;

const str = (v: AttributeValue | undefined): string | null => (typeof v === 'string' && v !== '' ? v : null);
const list = (v: AttributeValue | undefined): string | null =>
  Array.isArray(v) && v.length ? JSON.stringify(v.filter((x) => typeof x === 'string')) : null;

/** ISO 8601 UTC with milliseconds, the `timestamp` column's format (sorts as text). */
export function isoTime(time: HrTime | number | Date): string {
  const ms = Array.isArray(time) ? time[0] * 1000 + Math.floor(time[1] / 1e6) : Number(time);
  return new Date(ms).toISOString();
}

const hrMillis = (t: HrTime) => Math.round((t[0] * 1e3 + t[1] / 1e6) * 1000) / 1000;

/** What a span's mapping needs besides the span itself. */
export interface EventMappingOptions {
  redaction?: RedactionOptions;
}

/** The record types a span maps to; gap records are made by the writer, not from spans. */
export type SpanRecordType = 'action' | 'started' | 'approval_request' | 'approval_resolution';

/** An approval record's type, from the `onbehalf.audit.record_type` its span carries; otherwise `action`. */
export function spanRecordType(a: Attributes): 'action' | 'approval_request' | 'approval_resolution' {
  const t = a['onbehalf.audit.record_type'];
  return t === 'approval_request' || t === 'approval_resolution' ? t : 'action';
}

/**
 * Maps a finished span to an audit event: who acted (the stamped attribution), on whose behalf, the
 * trigger, the action and target, authority (policy, approval), the result, and redacted arguments.
 */
export function spanToAuditEvent(
  span: ReadableSpan,
  call: ToolCall,
  recordType: SpanRecordType,
  options: EventMappingOptions = {},
): AuditEvent {
  const a = span.attributes;
  const ctx = span.spanContext();
  const redactions = new Set<string>(
    Array.isArray(a['attribution.content.redactions'])
      ? (a['attribution.content.redactions'] as string[])
      : [],
  );
  const args = redactValue(call.arguments, options.redaction);
  for (const kind of args.redactions) redactions.add(kind);
  const rest = otherAttributes(a, options.redaction, redactions);
  const started = recordType === 'started';
  // An approval record says what was decided about an action, not how one ended.
  const approvalRecord = recordType === 'approval_request' || recordType === 'approval_resolution';
  const actorType = str(a['attribution.actor.type']);
  const riskTier = a['attribution.risk_tier'];
  return {
    event_id: newEventId(),
    record_type: recordType,
    timestamp: isoTime(started ? span.startTime : span.endTime),
    actor_type: actorType === 'agent' || actorType === 'human' || actorType === 'service' ? actorType : null,
    actor_id: str(a['attribution.actor.id']),
    actor_name: str(a['attribution.actor.name']),
    owner_id: str(a['attribution.actor.owner.id']),
    on_behalf_of: str(a['attribution.principal.id']) ?? str(a['user.id']) ?? str(a['enduser.id']),
    trigger_type: str(a['attribution.trigger.type']),
    trigger_id: str(a['attribution.trigger.id']),
    intent: str(a['attribution.intent.name']) ?? str(a['attribution.intent.id']),
    session_id: str(a['session.id']),
    delegation_chain: list(a['attribution.delegation.chain']),
    scopes: list(a['attribution.scopes']),
    action: cap(call.name, redactions),
    target: str(a['attribution.target']) === null ? null : cap(a['attribution.target'] as string, redactions),
    risk_tier:
      typeof riskTier === 'number' && Number.isInteger(riskTier) && riskTier >= 0 && riskTier <= 3
        ? riskTier
        : null,
    result: started ? 'started' : approvalRecord ? null : resultOf(span),
    policy_decision: str(a['attribution.policy.decision']),
    policy_rule: str(a['attribution.policy.rule']),
    approval_state: str(a['attribution.approval.state']),
    approved_by: str(a['attribution.approval.approver.id']),
    provenance: provenanceOf(a['attribution.provenance']),
    tool_arguments: args.json ?? null,
    redactions: redactions.size ? JSON.stringify([...redactions].sort()) : null,
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    parent_span_id: span.parentSpanContext?.spanId ?? null,
    service_name: str(span.resource.attributes['service.name'] as AttributeValue | undefined),
    duration_ms: started ? null : hrMillis(span.duration),
    attributes: rest,
  };
}

function resultOf(span: ReadableSpan): 'ok' | 'error' | 'denied' {
  const r = span.attributes['attribution.result'];
  if (r === 'ok' || r === 'error' || r === 'denied') return r;
  return span.status.code === SpanStatusCode.ERROR ? 'error' : 'ok';
}

function provenanceOf(v: AttributeValue | undefined): AuditEvent['provenance'] {
  return v === 'local' || v === 'verified' || v === 'unverified' ? v : null;
}

function cap(value: string, redactions: Set<string>): string {
  if (value.length <= MAX_FIELD) return value;
  redactions.add('truncated');
  return `${value.slice(0, MAX_FIELD)}…`;
}

function otherAttributes(
  a: Attributes,
  options: RedactionOptions | undefined,
  found: Set<string>,
): string | null {
  const rest: Record<string, unknown> = {};
  let n = 0;
  for (const key of Object.keys(a)) {
    if (ATTRIBUTES_IN_COLUMNS.has(key)) continue;
    rest[key] = a[key];
    n++;
  }
  if (n === 0) return null;
  const { json, redactions } = redact(rest, { ...options, maxLength: MAX_ATTRIBUTES_JSON });
  for (const kind of redactions) found.add(kind);
  return json ?? null;
}
