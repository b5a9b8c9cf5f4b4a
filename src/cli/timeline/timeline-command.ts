import type { StoredAuditEvent } from '../../pipeline/event.js';
import { oneLine } from '../../text/safe-text.js';
import { EXIT } from '../errors.js';
import { actionLabel, actorLabel, formatRows, triggerLabel } from '../format.js';
import { outputFormat, withStore } from '../registry/arguments.js';
import { defineCommand } from '../registry/command.js';
import { actionTime, mergeTimeline, type SourcedRow, type TimelineAction } from './merge.js';

/** A row whose attribution neither this process set nor a verified signature carried. */
export function restsOnClaim(r: StoredAuditEvent): boolean {
  return r.record_type !== 'gap' && r.provenance !== 'local' && r.provenance !== 'verified';
}

function who(r: StoredAuditEvent): string {
  const forWhom = r.on_behalf_of && r.on_behalf_of !== r.actor_id ? ` for ${r.on_behalf_of}` : '';
  return `${r.actor_type ?? '?'} ${actorLabel(r)}${forWhom}`;
}

function authority(r: StoredAuditEvent): string {
  const policy =
    r.policy_decision && r.policy_decision !== 'not_evaluated' ? `  policy=${r.policy_decision}` : '';
  const tier = r.risk_tier === null ? '' : `  tier=${r.risk_tier}`;
  const claim = restsOnClaim(r) ? '  CLAIM' : '';
  return `${policy}${tier}  provenance=${r.provenance ?? 'not recorded'}${claim}`;
}

/** One record as one line: when, who (for whom), what, to what, how it ended. */
export function timelineLine(r: StoredAuditEvent): string {
  const what = r.record_type === 'started' ? `${r.action} started` : actionLabel(r);
  return oneLine(
    `${r.timestamp}  ${who(r)}  ${what}${r.target ? ` → ${r.target}` : ''}  result=${r.result ?? ''}${authority(r)}`,
  );
}

function duration(ms: number | null): string {
  if (ms === null) return '';
  return ms < 1000 ? `  took ${Math.round(ms)} ms` : `  took ${(ms / 1000).toFixed(1)} s`;
}

/**
 * One action as one line: when it began, its trace, who (for whom), what, to what, how it ended and
 * how long it took; a start with no outcome says it never finished.
 */
export function actionLine(a: TimelineAction): string {
  const r = a.row;
  const trace = r.trace_id ? `[${r.trace_id.slice(0, 8)}]` : '[no trace]';
  const outcome = a.finished
    ? `result=${r.result ?? ''}${duration(a.durationMs)}`
    : 'NEVER FINISHED (started, no outcome recorded)';
  return oneLine(
    `${actionTime(a)}  ${trace}  ${who(r)}  ${r.action}${r.target ? ` → ${r.target}` : ''}  ${outcome}${authority(r)}`,
  );
}

/** The timeline as text: a heading that counts actions, one line per action, then what rests on claims. */
export function timelineText(actions: readonly TimelineAction[], trigger: string, stores: number): string {
  if (actions.length === 0) return `no actions with trigger ${oneLine(trigger)}\n`;
  const traces = new Set(actions.map((a) => a.row.trace_id ?? a.row.event_id)).size;
  const unfinished = actions.filter((a) => !a.finished).length;
  const from = stores > 1 ? ` from ${stores} stores` : '';
  const lines = [
    `Timeline of ${oneLine(triggerLabel(actions[0]!.row) || trigger)}: ${actions.length} action(s) in ${traces} trace(s)${from}${unfinished ? `, ${unfinished} never finished` : ''}`,
    '',
    ...actions.map(actionLine),
  ];
  const claims = actions.filter((a) => restsOnClaim(a.row));
  if (claims.length > 0) {
    lines.push(
      '',
      `${claims.length} of ${actions.length} action(s) rest on claims, not on this process or a verified signature ` +
        `(seq ${claims.map((a) => a.row.seq).join(', ')}): who acted, for whom and why on them are a caller's word`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `--format json|ndjson`: one object per action, its outcome row with the start folded in. */
function timelineObjects(actions: readonly TimelineAction[]): Record<string, unknown>[] {
  return actions.map((a) => ({
    ...a.row,
    began_at: actionTime(a),
    started_event_id: a.started?.event_id ?? null,
    finished: a.finished,
    duration_ms: a.durationMs,
    store: a.store,
  }));
}

export const timelineCommand = defineCommand({
  name: 'timeline',
  args: 'STORE...',
  positionals: { min: 1 },
  summary:
    'every action one trigger set in motion, merged across stores\nby trace and time: one line per action, with its duration',
  options: {
    trigger: {
      type: 'string',
      value: 'ID',
      description: 'trigger_id, or type:id (email:msg-8821)',
      required: true,
    },
    format: {
      type: 'string',
      value: 'table|json|ndjson',
      description: 'json: one object per action (its outcome row, began_at, finished, duration_ms, store)',
    },
  },
  details:
    "Several STOREs (SQLite files or postgres:// URLs) are read together: an agent's store and its tool\nservice's give one timeline, a fleet URL every writer's. The same row read from two stores is shown\nonce. A risky action's `started` record is folded into its outcome; a start with no outcome shows\nas NEVER FINISHED. Each line starts with when the action began, then its trace.",
  async run({ values, positionals }, { out }) {
    const trigger = values.trigger!;
    const format = outputFormat(values.format);
    const rows: SourcedRow[] = [];
    for (const location of positionals) {
      await withStore(location, async (store) => {
        for (const row of await store.query({ trigger, order: 'asc' }))
          rows.push({ row, store: store.location });
        return EXIT.ok;
      });
    }
    const actions = mergeTimeline(rows);
    if (format === 'table') out(timelineText(actions, trigger, positionals.length));
    else out(formatRows(timelineObjects(actions), format));
    return EXIT.ok;
  },
});
