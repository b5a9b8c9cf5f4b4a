import type { StoredAuditEvent } from '../pipeline/event.js';
import { TABLE_COLUMNS } from './query-sql.js';

/**
 * A row read as an array of `TABLE_COLUMNS` (better-sqlite3's raw mode) turned into an object. The
 * driver's own object rows cost about twice as much to build as an object literal of a fixed shape,
 * and reading rows back is most of what verification spends its time on.
 */
function literalRow(a: readonly unknown[]): StoredAuditEvent {
  return {
    seq: a[0],
    origin: a[1],
    event_id: a[2],
    record_type: a[3],
    timestamp: a[4],
    actor_type: a[5],
    actor_id: a[6],
    actor_name: a[7],
    owner_id: a[8],
    on_behalf_of: a[9],
    trigger_type: a[10],
    trigger_id: a[11],
    intent: a[12],
    session_id: a[13],
    delegation_chain: a[14],
    scopes: a[15],
    action: a[16],
    target: a[17],
    risk_tier: a[18],
    result: a[19],
    policy_decision: a[20],
    policy_rule: a[21],
    approval_state: a[22],
    approved_by: a[23],
    provenance: a[24],
    tool_arguments: a[25],
    redactions: a[26],
    trace_id: a[27],
    span_id: a[28],
    parent_span_id: a[29],
    service_name: a[30],
    duration_ms: a[31],
    attributes: a[32],
    prev_hash: a[33],
    hash: a[34],
  } as StoredAuditEvent;
}

/** Whether {@link literalRow} still lists exactly `TABLE_COLUMNS` in order (false once the schema grows). */
export const RAW_ROWS_MATCH_SCHEMA =
  Object.keys(literalRow([])).join(',') === TABLE_COLUMNS.join(',') &&
  TABLE_COLUMNS.every(
    (c, i) => (literalRow(TABLE_COLUMNS) as unknown as Record<string, unknown>)[c] === TABLE_COLUMNS[i],
  );

/** One row's values in `TABLE_COLUMNS` order (a raw read, or a writer's bind array) as an object keyed by column name. */
export function rowFromColumns(values: readonly unknown[]): StoredAuditEvent {
  if (RAW_ROWS_MATCH_SCHEMA) return literalRow(values);
  const row: Record<string, unknown> = {};
  for (let i = 0; i < TABLE_COLUMNS.length; i++) row[TABLE_COLUMNS[i]!] = values[i];
  return row as unknown as StoredAuditEvent;
}

/** Turns raw rows into objects keyed by column name. */
export function rowsFromColumns(rows: readonly (readonly unknown[])[]): StoredAuditEvent[] {
  return rows.map(literalRow);
}
