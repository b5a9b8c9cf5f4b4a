import type { StoredAuditEvent } from '../pipeline/event.js';
import { oneLine } from '../text/safe-text.js';

/** Output formats of `query`, `sql` and `timeline`. */
export type OutputFormat = 'table' | 'json' | 'ndjson';

/** The columns a person reads first; `--format json` gives every column. */
const TABLE_COLUMNS: [header: string, cell: (r: StoredAuditEvent) => string][] = [
  ['timestamp', (r) => r.timestamp],
  ['actor_type', (r) => r.actor_type ?? ''],
  ['actor', (r) => actorLabel(r)],
  ['on_behalf_of', (r) => r.on_behalf_of ?? ''],
  ['trigger', (r) => triggerLabel(r)],
  ['action', (r) => actionLabel(r)],
  ['target', (r) => r.target ?? ''],
  ['risk', (r) => (r.risk_tier === null ? '' : String(r.risk_tier))],
  ['policy', (r) => r.policy_decision ?? ''],
  ['result', (r) => r.result ?? ''],
  // Whether who/for whom/why rests on this process, a verified signature, or a caller's claim.
  ['provenance', (r) => r.provenance ?? ''],
];

/** `send_mail`, `send_mail (started)`, `pay_invoice (approval requested)`, `pay_invoice (approved by tom)`. */
export function actionLabel(
  r: Pick<StoredAuditEvent, 'record_type' | 'action' | 'approval_state' | 'approved_by'>,
): string {
  if (r.record_type === 'started') return `${r.action} (started)`;
  if (r.record_type === 'approval_request') return `${r.action} (approval requested)`;
  if (r.record_type === 'approval_resolution')
    return `${r.action} (${r.approval_state ?? 'resolved'}${r.approved_by ? ` by ${r.approved_by}` : ''})`;
  return r.action;
}

/** `inbox-agent (nhi:agent-7f3)`, or the id alone. */
export function actorLabel(r: Pick<StoredAuditEvent, 'actor_name' | 'actor_id'>): string {
  if (r.actor_name && r.actor_id && r.actor_name !== r.actor_id) return `${r.actor_name} (${r.actor_id})`;
  return r.actor_id ?? r.actor_name ?? '';
}

/** `email:msg-8821`. */
export function triggerLabel(r: Pick<StoredAuditEvent, 'trigger_type' | 'trigger_id'>): string {
  if (!r.trigger_id) return '';
  return r.trigger_type ? `${r.trigger_type}:${r.trigger_id}` : r.trigger_id;
}

/** Audit rows as text for a person (`table`) or a machine (`json`, `ndjson`). */
export function formatEvents(rows: readonly StoredAuditEvent[], format: OutputFormat): string {
  if (format !== 'table') return formatRows(rows as unknown as readonly Record<string, unknown>[], format);
  return table(
    TABLE_COLUMNS.map(([h]) => h),
    rows.map((r) => TABLE_COLUMNS.map(([, cell]) => cell(r))),
  );
}

/** Arbitrary rows (from `sql`) in any format; a table shows every column. */
export function formatRows(rows: readonly Record<string, unknown>[], format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (format === 'ndjson') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  const headers = rows.length ? Object.keys(rows[0]!) : [];
  return table(
    headers.map(oneLine),
    rows.map((r) => headers.map((h) => cellText(r[h]))),
  );
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Aligned columns; cells are cut at 60 characters, their control and bidi characters escaped. */
export function table(headers: readonly string[], rows: readonly string[][]): string {
  if (rows.length === 0) return '(no rows)\n';
  const clean = (s: string) => {
    // Control characters in stored values must not move the terminal's cursor.
    const out = oneLine(s);
    return out.length > 60 ? `${out.slice(0, 59)}…` : out;
  };
  const cells = rows.map((r) => r.map(clean));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`;
}
