import { z } from 'zod';

/**
 * One row of `audit_events` (docs/log-format.md, "Rows"), without the integrity columns. Column names are the
 * contract: the seed's queries (`where actor_type = 'agent'`, `where trigger_id = 'msg-8821'`) run on
 * them as written. Lists are stored as JSON text; `timestamp` is ISO 8601 UTC with milliseconds, so it
 * sorts as text.
 */
export const AuditEventSchema = z
  .object({
    event_id: z.string().min(1),
    /**
     * `action` (a completed action), `started` (a risk tier ≥ 2 action began), `gap` (events lost),
     * `approval_request` / `approval_resolution` (a policy asked for human approval; it was answered).
     */
    record_type: z.enum(['action', 'started', 'gap', 'approval_request', 'approval_resolution']),
    timestamp: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO 8601 UTC with milliseconds'),
    actor_type: z.enum(['agent', 'human', 'service']).nullable(),
    actor_id: z.string().nullable(),
    actor_name: z.string().nullable(),
    owner_id: z.string().nullable(),
    on_behalf_of: z.string().nullable(),
    trigger_type: z.string().nullable(),
    trigger_id: z.string().nullable(),
    intent: z.string().nullable(),
    session_id: z.string().nullable(),
    delegation_chain: z.string().nullable(),
    scopes: z.string().nullable(),
    action: z.string(),
    target: z.string().nullable(),
    risk_tier: z.number().int().min(0).max(3).nullable(),
    result: z.enum(['ok', 'error', 'denied', 'started', 'gap']).nullable(),
    policy_decision: z.string().nullable(),
    policy_rule: z.string().nullable(),
    approval_state: z.string().nullable(),
    approved_by: z.string().nullable(),
    provenance: z.enum(['local', 'verified', 'unverified']).nullable(),
    tool_arguments: z.string().nullable(),
    redactions: z.string().nullable(),
    trace_id: z.string().nullable(),
    span_id: z.string().nullable(),
    parent_span_id: z.string().nullable(),
    service_name: z.string().nullable(),
    duration_ms: z.number().nullable(),
    /** JSON of the span's other attributes (after redaction). */
    attributes: z.string().nullable(),
  })
  .strict();

/** An audit event before it is appended: every column but the integrity ones. */
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** The integrity columns the store adds when it appends. */
export interface IntegrityColumns {
  /** The writer's log this row belongs to (one hash chain per origin). */
  origin: string;
  /** 1-based position in the origin's chain. */
  seq: number;
  /** Hex SHA-256 of the previous row (64 zeros for the first). */
  prev_hash: string;
  /** Hex chain hash of this row: SHA-256(0x02 ‖ prev_hash ‖ SHA-256(0x00 ‖ E)). */
  hash: string;
}

/** A row as stored. */
export type StoredAuditEvent = AuditEvent & IntegrityColumns;

/** Column names of `audit_events`, in table order; the canonical form hashes the event columns only. */
export const EVENT_COLUMNS = Object.keys(AuditEventSchema.shape) as (keyof AuditEvent)[];
export const INTEGRITY_COLUMNS = ['origin', 'seq', 'prev_hash', 'hash'] as const;

/** The fields every event must have; {@link auditEvent} sets every other column to null. */
export type RequiredEventFields = Pick<AuditEvent, 'event_id' | 'record_type' | 'timestamp' | 'action'>;

/** An event with the given columns and null in all others (e.g. a gap record, or a test's row). */
export function auditEvent(fields: RequiredEventFields & Partial<AuditEvent>): AuditEvent {
  const event = {} as Record<keyof AuditEvent, unknown>;
  for (const column of EVENT_COLUMNS) event[column] = fields[column] ?? null;
  return event as AuditEvent;
}
