import { createRequire } from 'node:module';
import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import {
  ATTR_ATTRIBUTION_RESULT,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_ONBEHALF_AUDIT_ATTRIBUTES,
  ATTR_ONBEHALF_AUDIT_DURATION_MS,
  ATTR_ONBEHALF_AUDIT_EVENT_ID,
  ATTR_ONBEHALF_AUDIT_HASH,
  ATTR_ONBEHALF_AUDIT_ORIGIN,
  ATTR_ONBEHALF_AUDIT_PARENT_SPAN_ID,
  ATTR_ONBEHALF_AUDIT_PREV_HASH,
  ATTR_ONBEHALF_AUDIT_RECORD_TYPE,
  ATTR_ONBEHALF_AUDIT_SEQ,
  ATTR_ONBEHALF_AUDIT_SERVICE_NAME,
  ATTR_ONBEHALF_CHECKPOINT_NOTE,
  ATTR_ONBEHALF_CHECKPOINT_ROOT,
  ATTR_ONBEHALF_CHECKPOINT_SIZE,
} from '../conventions/generated.js';
import { type AnyValue, type AnyValueMap, type LogRecord, SeverityNumber } from '../otel/sdk-interfaces.js';
import { COLUMN_ATTRIBUTES } from '../pipeline/column-attributes.js';
import type { StoredAuditEvent } from '../pipeline/event.js';
import type { StoredCheckpoint } from '../stores/audit-store.js';
import { toOcsfApiActivity } from './ocsf.js';

/** `event.name` of an audit event's log record. */
export const AUDIT_EVENT_NAME = 'onbehalf.audit.event';
/** `event.name` of a signed checkpoint's log record. */
export const AUDIT_CHECKPOINT_NAME = 'onbehalf.audit.checkpoint';

/** How an audit event's log record body is written. */
export type AuditLogFormat = 'text' | 'ocsf';

/** Columns whose value is a JSON list, sent as an OTLP array. */
const LIST_COLUMNS = new Set(['delegation_chain', 'scopes', 'redactions']);
/** The members of `attribution.result`; `started` and `gap` rows say what they are in `onbehalf.audit.record_type`. */
const RESULTS: ReadonlySet<unknown> = new Set(['ok', 'error', 'denied']);

// canonicalize is CommonJS whose typings declare an ES default export; require() sidesteps the mismatch.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string | undefined;

/** Column → attribute: the attribution conventions where they exist, `onbehalf.audit.*` for the rest. */
const LOG_ATTRIBUTES: readonly (readonly [keyof StoredAuditEvent, string])[] = [
  ...COLUMN_ATTRIBUTES,
  ['event_id', ATTR_ONBEHALF_AUDIT_EVENT_ID],
  ['record_type', ATTR_ONBEHALF_AUDIT_RECORD_TYPE],
  ['origin', ATTR_ONBEHALF_AUDIT_ORIGIN],
  ['seq', ATTR_ONBEHALF_AUDIT_SEQ],
  ['prev_hash', ATTR_ONBEHALF_AUDIT_PREV_HASH],
  ['hash', ATTR_ONBEHALF_AUDIT_HASH],
  ['service_name', ATTR_ONBEHALF_AUDIT_SERVICE_NAME],
  ['parent_span_id', ATTR_ONBEHALF_AUDIT_PARENT_SPAN_ID],
  ['duration_ms', ATTR_ONBEHALF_AUDIT_DURATION_MS],
  ['attributes', ATTR_ONBEHALF_AUDIT_ATTRIBUTES],
];

/**
 * The one-line human form of an audit event, e.g.
 * `actor=inbox-agent (nhi:agent-7f3) on_behalf_of=tom action=send_mail target=… trigger=email:msg-8821 result=ok`.
 */
export function auditLine(row: StoredAuditEvent): string {
  const parts: string[] = [];
  const actor = row.actor_name
    ? `${row.actor_name} (${row.actor_id ?? 'unknown'})`
    : (row.actor_id ?? 'unknown');
  parts.push(`actor=${actor}`);
  if (row.on_behalf_of && row.on_behalf_of !== row.actor_id) parts.push(`on_behalf_of=${row.on_behalf_of}`);
  parts.push(`action=${row.action}`);
  if (row.target) parts.push(`target=${row.target}`);
  if (row.trigger_id)
    parts.push(`trigger=${row.trigger_type ? `${row.trigger_type}:` : ''}${row.trigger_id}`);
  if (row.policy_decision && row.policy_decision !== 'allow') parts.push(`policy=${row.policy_decision}`);
  if (row.result) parts.push(`result=${row.result}`);
  return parts.join(' ');
}

/**
 * The attributes of an audit event's log record: every non-null column under its attribute name, so
 * that a SIEM can rebuild the row's canonical bytes and recompute its hash (docs/log-format.md): a list
 * column goes as an array only when the array's RFC 8785 JSON is the column's exact text, and the
 * result of a `started` or `gap` row (which is its record type) is left out of `attribution.result`.
 */
export function auditEventAttributes(row: StoredAuditEvent): AnyValueMap {
  const attributes: AnyValueMap = { 'event.name': AUDIT_EVENT_NAME };
  for (const [column, key] of LOG_ATTRIBUTES) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    if (key === ATTR_ATTRIBUTION_RESULT && !RESULTS.has(value)) continue;
    attributes[key] = LIST_COLUMNS.has(column) ? exactList(value as string) : (value as AnyValue);
  }
  if (row.actor_type === 'agent') {
    if (row.actor_id) attributes[ATTR_GEN_AI_AGENT_ID] = row.actor_id;
    if (row.actor_name) attributes[ATTR_GEN_AI_AGENT_NAME] = row.actor_name;
  }
  return attributes;
}

/**
 * An audit event as an OpenTelemetry log record: body the {@link auditLine} (or the OCSF API Activity
 * object), attributes the attribution columns, timestamp the event's, and the event's trace and span
 * ids, so a SIEM can jump from the record to the trace in Jaeger.
 */
export function auditEventToLogRecord(row: StoredAuditEvent, format: AuditLogFormat = 'text'): LogRecord {
  return {
    eventName: AUDIT_EVENT_NAME,
    timestamp: new Date(row.timestamp),
    severityNumber: SEVERITY[row.result ?? 'ok'] ?? SeverityNumber.INFO,
    severityText: SEVERITY_TEXT[row.result ?? 'ok'] ?? 'INFO',
    body: format === 'ocsf' ? toOcsfApiActivity(row) : auditLine(row),
    attributes: auditEventAttributes(row),
    context: spanContextOf(row.trace_id, row.span_id),
  };
}

/** A signed checkpoint as a log record: body the C2SP note, so a copy of it lives off-host. */
export function checkpointToLogRecord(cp: StoredCheckpoint): LogRecord {
  return {
    eventName: AUDIT_CHECKPOINT_NAME,
    timestamp: new Date(cp.created_at),
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: cp.note,
    attributes: {
      'event.name': AUDIT_CHECKPOINT_NAME,
      [ATTR_ONBEHALF_AUDIT_ORIGIN]: cp.origin,
      [ATTR_ONBEHALF_CHECKPOINT_SIZE]: cp.size,
      [ATTR_ONBEHALF_CHECKPOINT_ROOT]: cp.root,
      [ATTR_ONBEHALF_CHECKPOINT_NOTE]: cp.note,
    },
  };
}

const SEVERITY: Record<string, SeverityNumber> = {
  ok: SeverityNumber.INFO,
  started: SeverityNumber.INFO,
  denied: SeverityNumber.WARN,
  gap: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};
const SEVERITY_TEXT: Record<string, string> = {
  ok: 'INFO',
  started: 'INFO',
  denied: 'WARN',
  gap: 'WARN',
  error: 'ERROR',
};

const HEX_TRACE = /^(?!0+$)[0-9a-f]{32}$/;
const HEX_SPAN = /^(?!0+$)[0-9a-f]{16}$/;

/** A context carrying the event's span, so the SDK writes its ids into the record. */
function spanContextOf(traceId: string | null, spanId: string | null) {
  if (!traceId || !spanId || !HEX_TRACE.test(traceId) || !HEX_SPAN.test(spanId)) return undefined;
  // The event was recorded whatever the sampler decided, so the sampled flag would claim too much.
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.NONE, isRemote: true });
}

/** A list column as an array when that loses nothing of its text, else the text itself. */
function exactList(text: string): string[] | string {
  const list = jsonList(text);
  return Array.isArray(list) && canonicalize(list) === text ? list : text;
}

/** A JSON list column as a list of strings (the column's own text when it is not one). */
export function jsonList(text: string): string[] | string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return parsed.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  } catch {
    // Not JSON: keep the text as it is.
  }
  return text;
}
