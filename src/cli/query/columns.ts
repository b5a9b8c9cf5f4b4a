import type { StoredAuditEvent } from '../../pipeline/event.js';
import { CliError } from '../errors.js';
import { actorLabel, formatRows, type OutputFormat, table, triggerLabel } from '../format.js';

/** A column `query` can show: its cell for a person, its value for a machine. */
interface QueryColumn {
  readonly name: string;
  readonly cell: (r: StoredAuditEvent) => string;
  /** The JSON value under `--columns` with `--format json|ndjson`; the cell text by default. */
  readonly value?: (r: StoredAuditEvent) => unknown;
  /** Shown by default only when some row has it (owner, rule, approval, scopes…). */
  readonly whenPresent?: (r: StoredAuditEvent) => boolean;
  /** Only under `--columns`. */
  readonly onRequest?: boolean;
}

/** A JSON list column (`scopes`, `redactions`, `delegation_chain`) as `a, b`; as is when not a list. */
function listText(text: string | null): string {
  if (!text) return '';
  try {
    const list: unknown = JSON.parse(text);
    if (Array.isArray(list))
      return list.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ');
  } catch {
    // Not JSON: shown as stored.
  }
  return text;
}

function listValue(text: string | null): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `approved by dana`, `not_required`, or empty. */
function approvalText(r: StoredAuditEvent): string {
  if (!r.approval_state) return '';
  return r.approved_by ? `${r.approval_state} by ${r.approved_by}` : r.approval_state;
}

/** Every column, in the order the default table shows them. */
export const QUERY_COLUMNS: readonly QueryColumn[] = [
  { name: 'timestamp', cell: (r) => r.timestamp },
  { name: 'actor_type', cell: (r) => r.actor_type ?? '', value: (r) => r.actor_type },
  { name: 'actor', cell: (r) => actorLabel(r) },
  { name: 'on_behalf_of', cell: (r) => r.on_behalf_of ?? '', value: (r) => r.on_behalf_of },
  // The human accountable for the agent (its owner), whoever it acted for.
  {
    name: 'owner',
    cell: (r) => r.owner_id ?? '',
    value: (r) => r.owner_id,
    whenPresent: (r) => !!r.owner_id,
  },
  { name: 'trigger', cell: (r) => triggerLabel(r) },
  { name: 'action', cell: (r) => (r.record_type === 'started' ? `${r.action} (started)` : r.action) },
  { name: 'target', cell: (r) => r.target ?? '', value: (r) => r.target },
  { name: 'risk', cell: (r) => (r.risk_tier === null ? '' : String(r.risk_tier)), value: (r) => r.risk_tier },
  { name: 'policy', cell: (r) => r.policy_decision ?? '', value: (r) => r.policy_decision },
  {
    name: 'rule',
    cell: (r) => r.policy_rule ?? '',
    value: (r) => r.policy_rule,
    whenPresent: (r) => !!r.policy_rule,
  },
  {
    name: 'scopes',
    cell: (r) => listText(r.scopes),
    value: (r) => listValue(r.scopes),
    whenPresent: (r) => !!r.scopes,
  },
  { name: 'approval', cell: approvalText, whenPresent: (r) => !!r.approval_state },
  { name: 'result', cell: (r) => r.result ?? '', value: (r) => r.result },
  // Whether who/for whom/why rests on this process, a verified signature, or a caller's claim.
  { name: 'provenance', cell: (r) => r.provenance ?? '', value: (r) => r.provenance },
  {
    name: 'redactions',
    cell: (r) => listText(r.redactions),
    value: (r) => listValue(r.redactions),
    onRequest: true,
  },
  {
    name: 'delegation',
    cell: (r) => listText(r.delegation_chain),
    value: (r) => listValue(r.delegation_chain),
    onRequest: true,
  },
  { name: 'intent', cell: (r) => r.intent ?? '', value: (r) => r.intent, onRequest: true },
  {
    name: 'duration_ms',
    cell: (r) => (r.duration_ms === null ? '' : String(r.duration_ms)),
    value: (r) => r.duration_ms,
    onRequest: true,
  },
  { name: 'trace_id', cell: (r) => r.trace_id ?? '', value: (r) => r.trace_id, onRequest: true },
  { name: 'service', cell: (r) => r.service_name ?? '', value: (r) => r.service_name, onRequest: true },
  { name: 'origin', cell: (r) => r.origin, onRequest: true },
  { name: 'seq', cell: (r) => String(r.seq), value: (r) => r.seq, onRequest: true },
  { name: 'event_id', cell: (r) => r.event_id, onRequest: true },
];

const BY_NAME = new Map(QUERY_COLUMNS.map((c) => [c.name, c]));

/** The names of every column, for help and errors. */
export const QUERY_COLUMN_NAMES = QUERY_COLUMNS.map((c) => c.name);

/** `--columns a,b,c`, checked against {@link QUERY_COLUMNS}. */
export function parseColumns(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !BY_NAME.has(n));
  if (names.length === 0 || unknown.length > 0)
    throw new CliError(
      `--columns: ${names.length === 0 ? 'no column named' : `no column ${unknown.join(', ')}`}; expected a comma-separated list of ${QUERY_COLUMN_NAMES.join(', ')}`,
    );
  return names;
}

/**
 * Rows of `query` for a person or a machine. Without `columns`: a table of the default columns, those
 * that depend on the row only when some row has them, and every stored column as JSON. With `columns`:
 * those columns, in that order, in every format.
 */
export function formatQueryRows(
  rows: readonly StoredAuditEvent[],
  format: OutputFormat,
  columns?: readonly string[],
): string {
  if (!columns && format !== 'table')
    return formatRows(rows as unknown as readonly Record<string, unknown>[], format);
  const chosen = columns
    ? columns.map((n) => BY_NAME.get(n)!)
    : QUERY_COLUMNS.filter((c) => !c.onRequest && (!c.whenPresent || rows.some(c.whenPresent)));
  if (format !== 'table') {
    const objects = rows.map((r) =>
      Object.fromEntries(chosen.map((c) => [c.name, c.value ? c.value(r) : c.cell(r)])),
    );
    return formatRows(objects, format);
  }
  return table(
    chosen.map((c) => c.name),
    rows.map((r) => chosen.map((c) => c.cell(r))),
  );
}
