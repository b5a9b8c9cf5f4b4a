import type { AuditQuery } from '../../stores/audit-store.js';
import { resolveDay, resolveTime, TIME_FORMS } from '../../time/relative-time.js';
import { CliError, EXIT } from '../errors.js';
import {
  APPROVAL_STATES,
  actorType,
  approval,
  outputFormat,
  provenance,
  recordTypes,
  wholeNumber,
  withStore,
} from '../registry/arguments.js';
import { defineCommand, type OptionValues } from '../registry/command.js';
import { formatQueryRows, parseColumns, QUERY_COLUMN_NAMES } from './columns.js';

const QUERY_OPTIONS = {
  'actor-type': { type: 'string', value: 'T', description: 'agent, human or service' },
  actor: { type: 'string', value: 'ID', description: 'actor_id or actor_name' },
  'on-behalf-of': { type: 'string', value: 'ID', description: 'the principal the actor acted for' },
  trigger: { type: 'string', value: 'ID', description: 'trigger_id, or type:id (email:msg-8821)' },
  action: { type: 'string', value: 'A', description: 'the action name (send_mail)' },
  target: {
    type: 'string',
    value: 'PATTERN',
    description: "the target, * and ? as wildcards, A-Z either case ('patient/*')",
  },
  provenance: { type: 'string', value: 'P', description: 'local, verified or unverified (a claim)' },
  approval: { type: 'string', value: 'STATE', description: APPROVAL_STATES.join(', ') },
  'record-type': {
    type: 'string',
    value: 'TYPES',
    description: 'comma-separated: action, started, gap, approval_request, approval_resolution',
  },
  since: { type: 'string', value: 'TIME', description: 'from TIME on (inclusive)' },
  until: { type: 'string', value: 'TIME', description: 'before TIME (exclusive)' },
  day: {
    type: 'string',
    value: 'DAY',
    description: 'one UTC day: today, yesterday, last-tuesday, 2026-01-01',
  },
  limit: { type: 'string', value: 'N', description: 'at most N rows' },
  columns: { type: 'string', value: 'LIST', description: 'these columns, in this order, in every format' },
  format: {
    type: 'string',
    value: 'table|json|ndjson',
    description: 'json and ndjson give every stored column unless --columns is given',
  },
} as const;

/** The store query the options ask for; times resolved against `now`. */
export function queryFromOptions(
  values: OptionValues<typeof QUERY_OPTIONS>,
  now: number = Date.now(),
): AuditQuery {
  let since = values.since === undefined ? undefined : resolveTime(values.since, '--since', now);
  let until = values.until === undefined ? undefined : resolveTime(values.until, '--until', now);
  if (values.day !== undefined) {
    if (since !== undefined || until !== undefined)
      throw new CliError('--day: give either --day or --since/--until, not both');
    [since, until] = resolveDay(values.day, '--day', now);
  }
  return {
    recordTypes: recordTypes(values['record-type']),
    actorType: actorType(values['actor-type']),
    actor: values.actor,
    onBehalfOf: values['on-behalf-of'],
    trigger: values.trigger,
    action: values.action,
    target: values.target,
    provenance: provenance(values.provenance),
    approval: approval(values.approval),
    since,
    until,
    limit: values.limit === undefined ? undefined : wholeNumber(values.limit, '--limit'),
  };
}

/** Breaks a long comma list into lines of about 100 characters. */
function wrap(text: string): string {
  return text
    .replace(/(.{1,90})(, |$)/g, (_, chunk: string, sep: string) => `${chunk}${sep.trim()}\n`)
    .trimEnd();
}

export const queryCommand = defineCommand({
  name: 'query',
  args: 'STORE',
  positionals: { min: 1, max: 1 },
  summary:
    'rows matching every filter given, oldest first; the table adds\nowner, rule, scopes and approval when rows hold them',
  options: QUERY_OPTIONS,
  details: `TIME: ${TIME_FORMS}.
last-tuesday is the most recent Tuesday before today (on a Tuesday, a week ago); this-week starts on
Monday 00:00 UTC; day words mean that day's midnight, so --since yesterday --until today is all of
yesterday, the same as --day yesterday.
LIST, from: ${wrap(QUERY_COLUMN_NAMES.join(', '))}.

Examples:
  onbehalf query onbehalf-demo.db --actor care-assistant --target 'patient/*' --day last-tuesday
  onbehalf query onbehalf-demo.db --actor-type agent --since 7d --columns timestamp,actor,action,approval`,
  async run({ values, positionals }, { out }) {
    const q = queryFromOptions(values);
    const columns = parseColumns(values.columns);
    const format = outputFormat(values.format);
    return await withStore(positionals[0]!, async (store) => {
      out(formatQueryRows(await store.query(q), format, columns));
      return EXIT.ok;
    });
  },
});
