import { type AuditEvent, EVENT_COLUMNS } from '../pipeline/event.js';
import { CANONICAL_KEYS, wellFormedEvent } from './canonical.js';

/**
 * A writer's hot path from an event to what it hashes and what it binds, in one walk: the event's
 * columns go once into the insert's positional bind array, and the canonical text (docs/log-format.md,
 * "Canonical bytes") is serialized from that array, with no object per column set in between and no
 * second pass over the event. Byte for byte what `canonicalJson` gives, which stays the reference
 * (and the path for values a driver hands back: numbers as text, bigints).
 */

const RISK_TIER = EVENT_COLUMNS.indexOf('risk_tier');
const DURATION_MS = EVENT_COLUMNS.indexOf('duration_ms');

/**
 * The hashed columns in RFC 8785 key order, read from `v` where event column i sits at `v[o + i]`
 * (EVENT_COLUMNS order), so one native JSON.stringify writes the canonical text. Checked against
 * CANONICAL_KEYS and EVENT_COLUMNS when this module loads; {@link canonicalColumns} gives up otherwise.
 */
function ordered(v: readonly unknown[], o: number, origin: string): object {
  return {
    action: v[o + 14],
    actor_id: v[o + 4],
    actor_name: v[o + 5],
    actor_type: v[o + 3],
    approval_state: v[o + 20],
    approved_by: v[o + 21],
    attributes: v[o + 30],
    delegation_chain: v[o + 12],
    duration_ms: v[o + 29],
    event_id: v[o + 0],
    intent: v[o + 10],
    on_behalf_of: v[o + 7],
    origin,
    owner_id: v[o + 6],
    parent_span_id: v[o + 27],
    policy_decision: v[o + 18],
    policy_rule: v[o + 19],
    provenance: v[o + 22],
    record_type: v[o + 1],
    redactions: v[o + 24],
    result: v[o + 17],
    risk_tier: v[o + 16],
    scopes: v[o + 13],
    service_name: v[o + 28],
    session_id: v[o + 11],
    span_id: v[o + 26],
    target: v[o + 15],
    timestamp: v[o + 2],
    tool_arguments: v[o + 23],
    trace_id: v[o + 25],
    trigger_id: v[o + 9],
    trigger_type: v[o + 8],
  };
}

const probe = ordered(EVENT_COLUMNS, 0, 'origin') as Record<string, unknown>;
/** Whether {@link ordered} lists exactly the canonical keys, each read from its own column (false once the schema grows). */
export const ONE_WALK_MATCHES_SCHEMA =
  Object.keys(probe).join(',') === CANONICAL_KEYS.join(',') && CANONICAL_KEYS.every((k) => probe[k] === k);

/**
 * Writes the event's columns into `values` from index `offset` on (EVENT_COLUMNS order, a missing
 * column as null) and returns the canonical JSON text of `{origin, ...columns}`, or undefined when
 * a value is not already in its column's canonical type (text or null; a finite number, whole in
 * `risk_tier`, or null): the caller then takes the general path, which coerces or refuses it.
 */
export function canonicalColumns(
  event: AuditEvent,
  origin: string,
  values: unknown[],
  offset: number,
): string | undefined {
  if (!ONE_WALK_MATCHES_SCHEMA) return undefined;
  const e = event as unknown as Record<string, unknown>;
  for (let i = 0; i < EVENT_COLUMNS.length; i++) {
    const value = e[EVENT_COLUMNS[i]!] ?? null;
    if (value !== null && typeof value !== 'string') {
      if (typeof value !== 'number') return undefined;
      if (i === RISK_TIER ? !Number.isInteger(value) : i !== DURATION_MS || !Number.isFinite(value)) {
        return undefined;
      }
    } else if (value !== null && (i === RISK_TIER || i === DURATION_MS)) {
      return undefined;
    }
    values[offset + i] = value;
  }
  return JSON.stringify(ordered(values, offset, origin));
}

/**
 * How a store makes an event storable before it is hashed (what its database cannot hold replaced),
 * with a pattern over the event's canonical JSON that matches whenever `prepare` could change
 * anything: the writer then tests one text once instead of every column, and prepares only on a
 * match (a false match costs a call of `prepare` that changes nothing).
 */
export interface StorableForm {
  prepare(event: AuditEvent): AuditEvent;
  suspect: RegExp;
}

/**
 * The SQLite form: lone surrogates replaced ({@link wellFormedEvent}). JSON.stringify writes a lone
 * surrogate, and only a lone one, as a `\udXXX` escape, so the canonical text shows one whenever the
 * event has one.
 */
export const WELL_FORMED_UTF8: StorableForm = { prepare: wellFormedEvent, suspect: /\\ud[89a-f]/ };
