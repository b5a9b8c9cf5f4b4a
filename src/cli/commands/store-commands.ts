import type { StoredAuditEvent } from '../../audit/event.js';
import { verifyAuditStore } from '../../audit/verify-store.js';
import { loadTrustedKeys } from '../../keys/keys.js';
import type { AuditQuery, AuditStore } from '../../stores/audit-store.js';
import { EXIT } from '../errors.js';
import { actorLabel, formatEvents, formatRows, type OutputFormat, triggerLabel } from '../format.js';
import { progressBar } from '../progress.js';
import { readCheckpointNotes } from './checkpoints.js';

type Out = (s: string) => void;

/** `onbehalf verify STORE [--checkpoint FILE|DIR] [--trusted-keys JWKS]`: exit 0 intact, 1 tampered. */
export async function verify(
  store: AuditStore,
  options: { checkpoints?: string[]; trustedKeys?: string; format?: OutputFormat },
  out: Out,
  err: Out,
): Promise<number> {
  const trustedKeys = options.trustedKeys ? await loadTrustedKeys(options.trustedKeys) : undefined;
  const externalCheckpoints = readCheckpointNotes(options.checkpoints ?? []);
  const total = await countRows(store);
  const bar = progressBar(total, err);
  const result = await verifyAuditStore(store, { trustedKeys, externalCheckpoints, onProgress: bar.update });
  bar.done();
  if (options.format && options.format !== 'table') {
    // For a scheduled check or a SIEM: the whole result, one JSON document (one line with ndjson).
    out(`${JSON.stringify(result, null, options.format === 'json' ? 2 : undefined)}\n`);
    return result.ok ? EXIT.ok : EXIT.tampered;
  }
  for (const log of result.logs) {
    const status = log.ok ? 'intact' : 'TAMPERED';
    out(
      `${status}  ${log.origin}: ${log.count} events, ${log.checkpointsVerified} signed checkpoint(s) verified\n`,
    );
    if (!log.ok) {
      const seq = log.firstBadSeq ?? 'none (every row links; a checkpoint is wrong)';
      out(`  first bad seq: ${seq}\n  reason: ${log.reason}\n`);
      for (const p of log.problems.filter((p) => p !== log.reason)) out(`  also: ${p}\n`);
    }
  }
  for (const problem of result.integrityProblems) out(`TAMPERED  store: ${problem}\n`);
  if (result.logs.length === 0 && result.ok) out('intact  (empty store)\n');
  if (result.gaps.records > 0) {
    // Intact is not complete: these rows say events happened that the store could not take.
    out(
      `gaps: ${result.gaps.records} gap record(s), ${result.gaps.lost} event(s) not recorded (${result.gaps.reasons.join(', ') || 'reason not recorded'}); ` +
        `list them: onbehalf query ${store.location} --record-type gap\n`,
    );
  }
  if (result.keySource === 'store') {
    out(
      'note: checkpoint keys were read from the store itself; pass --trusted-keys JWKS to prove who signed them\n',
    );
  }
  return result.ok ? EXIT.ok : EXIT.tampered;
}

async function countRows(store: AuditStore): Promise<number> {
  const [row] = await store.sql('SELECT count(*) AS n FROM audit_events');
  return Number(row?.n ?? 0);
}

/** `onbehalf query STORE [filters] [--format]`. */
export async function query(
  store: AuditStore,
  q: AuditQuery,
  format: OutputFormat,
  out: Out,
): Promise<number> {
  out(formatEvents(await store.query(q), format));
  return EXIT.ok;
}

/** `onbehalf sql STORE "SELECT …"`: read-only. */
export async function sql(store: AuditStore, text: string, format: OutputFormat, out: Out): Promise<number> {
  out(formatRows(await store.sql(text, { untrusted: true }), format));
  return EXIT.ok;
}

/** `onbehalf timeline STORE --trigger ID`: every action one trigger set in motion, in order. */
export async function timeline(
  store: AuditStore,
  trigger: string,
  format: OutputFormat,
  out: Out,
): Promise<number> {
  const rows = await store.query({ trigger, order: 'asc' });
  if (format !== 'table') {
    out(formatEvents(rows, format));
    return EXIT.ok;
  }
  if (rows.length === 0) {
    out(`no actions with trigger ${trigger}\n`);
    return EXIT.ok;
  }
  out(`Timeline of ${triggerLabel(rows[0]!)}: ${rows.length} record(s)\n\n`);
  for (const r of rows) out(`${timelineLine(r)}\n`);
  return EXIT.ok;
}

/** One line of a timeline: when, who (for whom), what, to what, how it ended. */
export function timelineLine(r: StoredAuditEvent): string {
  const who = `${r.actor_type ?? '?'} ${actorLabel(r)}${r.on_behalf_of && r.on_behalf_of !== r.actor_id ? ` for ${r.on_behalf_of}` : ''}`;
  const what = r.record_type === 'started' ? `${r.action} started` : r.action;
  const policy =
    r.policy_decision && r.policy_decision !== 'not_evaluated' ? `  policy=${r.policy_decision}` : '';
  const tier = r.risk_tier === null ? '' : `  tier=${r.risk_tier}`;
  return `${r.timestamp}  ${who}  ${what}${r.target ? ` → ${r.target}` : ''}  result=${r.result ?? ''}${policy}${tier}`;
}
