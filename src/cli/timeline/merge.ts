import type { StoredAuditEvent } from '../../pipeline/event.js';

/**
 * One action of a timeline: its `started` record (risk tier ≥ 2 actions leave one when they begin)
 * folded together with its outcome, whichever of the two the stores hold.
 */
export interface TimelineAction {
  /** The outcome (`action` or `gap` record), or the `started` record when no outcome was recorded. */
  row: StoredAuditEvent;
  /** The `started` record, when there is one. */
  started?: StoredAuditEvent;
  /** Whether an outcome was recorded: a start without one "never finished" (crashed, hung, or its record lost). */
  finished: boolean;
  /** Milliseconds from start to outcome: the span's own duration, or the gap between the two records. */
  durationMs: number | null;
  /** The store the outcome (or start) was read from, as the auditor named it. */
  store: string;
}

/** A row together with the store it came from. */
export interface SourcedRow {
  row: StoredAuditEvent;
  store: string;
}

/** The span a record is of: a `started` record and its outcome share it. */
function spanKey(r: StoredAuditEvent): string | undefined {
  return r.trace_id && r.span_id ? `${r.trace_id}/${r.span_id}` : undefined;
}

/**
 * Merges rows read from several stores into one timeline: the same row read twice (a store and its
 * fleet copy) once; each `started` record folded into its outcome; actions grouped by trace, traces in
 * the order of their first action, and by time within a trace.
 */
export function mergeTimeline(rows: readonly SourcedRow[]): TimelineAction[] {
  const seen = new Set<string>();
  const starts = new Map<string, SourcedRow>();
  const outcomes: SourcedRow[] = [];
  for (const sourced of rows) {
    if (seen.has(sourced.row.event_id)) continue;
    seen.add(sourced.row.event_id);
    const key = spanKey(sourced.row);
    if (sourced.row.record_type === 'started' && key && !starts.has(key)) starts.set(key, sourced);
    else outcomes.push(sourced);
  }
  const actions: TimelineAction[] = outcomes.map(({ row, store }) => {
    const key = spanKey(row);
    const start = row.record_type === 'started' || !key ? undefined : starts.get(key);
    if (start && key) starts.delete(key);
    const unfinished = row.record_type === 'started';
    return {
      row,
      started: unfinished ? row : start?.row,
      finished: !unfinished,
      durationMs: unfinished ? null : durationOf(row, start?.row),
      store,
    };
  });
  for (const { row, store } of starts.values())
    actions.push({ row, started: row, finished: false, durationMs: null, store });
  return orderByTrace(actions);
}

function durationOf(outcome: StoredAuditEvent, start: StoredAuditEvent | undefined): number | null {
  if (outcome.duration_ms !== null) return outcome.duration_ms;
  if (!start) return null;
  return Date.parse(outcome.timestamp) - Date.parse(start.timestamp);
}

/**
 * When an action began, as ISO text: its start record's time, else its outcome's time less its
 * duration (an outcome is stamped when the action ends).
 */
export function actionTime(a: TimelineAction): string {
  if (a.started) return a.started.timestamp;
  if (a.row.duration_ms === null) return a.row.timestamp;
  return new Date(Date.parse(a.row.timestamp) - a.row.duration_ms).toISOString();
}

function orderByTrace(actions: TimelineAction[]): TimelineAction[] {
  const began = new Map(actions.map((a) => [a, actionTime(a)]));
  actions.sort((x, y) => {
    const [tx, ty] = [began.get(x)!, began.get(y)!];
    return tx < ty ? -1 : tx > ty ? 1 : x.row.seq - y.row.seq;
  });
  // Rows with no trace each stand alone, in time order.
  const traces = new Map<string, TimelineAction[]>();
  for (const a of actions) {
    const key = a.row.trace_id ?? `event:${a.row.event_id}`;
    const group = traces.get(key);
    if (group) group.push(a);
    else traces.set(key, [a]);
  }
  // A Map keeps insertion order: each trace sits where its first action falls.
  return [...traces.values()].flat();
}
