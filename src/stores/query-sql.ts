import { EVENT_COLUMNS } from '../pipeline/event.js';
import type { AuditQuery } from './audit-store.js';

/** Columns of `audit_events` in table order: the integrity columns around the event columns. */
export const TABLE_COLUMNS = ['seq', 'origin', ...EVENT_COLUMNS, 'prev_hash', 'hash'] as const;

/**
 * The WHERE/ORDER/LIMIT of an {@link AuditQuery}, with placeholders made by `placeholder(n)` (`?` for
 * SQLite, `$n` for PostgreSQL), so both stores filter exactly alike.
 */
export function buildQuery(
  q: AuditQuery,
  placeholder: (n: number) => string,
): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(placeholder(params.length)));
  };
  if (q.actorType) add((p) => `actor_type = ${p}`, q.actorType);
  if (q.actor) {
    params.push(q.actor, q.actor);
    where.push(
      `(actor_id = ${placeholder(params.length - 1)} OR actor_name = ${placeholder(params.length)})`,
    );
  }
  if (q.onBehalfOf) add((p) => `on_behalf_of = ${p}`, q.onBehalfOf);
  if (q.trigger) {
    const colon = q.trigger.indexOf(':');
    if (colon > 0) {
      add((p) => `trigger_type = ${p}`, q.trigger.slice(0, colon));
      add((p) => `trigger_id = ${p}`, q.trigger.slice(colon + 1));
    } else {
      add((p) => `trigger_id = ${p}`, q.trigger);
    }
  }
  if (q.action) add((p) => `action = ${p}`, q.action);
  if (q.target) add((p) => `lower(target) LIKE ${p} ESCAPE '\\'`, globToLike(q.target));
  if (q.provenance) add((p) => `provenance = ${p}`, q.provenance);
  if (q.approval) add((p) => `approval_state = ${p}`, q.approval);
  if (q.since) add((p) => `timestamp >= ${p}`, normalizeTime(q.since, 'since'));
  if (q.until) add((p) => `timestamp < ${p}`, normalizeTime(q.until, 'until'));
  if (q.recordTypes?.length) {
    const ps = q.recordTypes.map((t) => {
      params.push(t);
      return placeholder(params.length);
    });
    where.push(`record_type IN (${ps.join(', ')})`);
  }
  const dir = q.order === 'desc' ? 'DESC' : 'ASC';
  let sql = `SELECT ${TABLE_COLUMNS.join(', ')} FROM audit_events`;
  if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ` ORDER BY timestamp ${dir}, origin ${dir}, seq ${dir}`;
  if (q.limit !== undefined) {
    params.push(Math.max(0, Math.floor(q.limit)));
    sql += ` LIMIT ${placeholder(params.length)}`;
  }
  return { sql, params };
}

/** Accepts any ISO 8601 date or time and returns the `timestamp` column's format. */
function normalizeTime(value: string, name: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`--${name}: not an ISO 8601 date or time: ${value}`);
  return new Date(ms).toISOString();
}

/**
 * A glob (`*`, `?`) as a LIKE pattern with `\\` as escape, matched against `lower(target)`: A–Z match
 * either case in both stores (PostgreSQL's `lower()` folds other letters as well, SQLite's does not).
 */
function globToLike(glob: string): string {
  const lowered = glob.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return lowered.replace(/[\\%_*?]/g, (c) => (c === '*' ? '%' : c === '?' ? '_' : `\\${c}`));
}
