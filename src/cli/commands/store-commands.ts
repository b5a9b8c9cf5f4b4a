import { loadTrustedKeys } from '../../keys/keys.js';
import type { StoredAuditEvent } from '../../pipeline/event.js';
import { type AuditQuery, type AuditStore, StoreError } from '../../stores/audit-store.js';
import { type StoreLogResult, type VerifyStoreResult, verifyAuditStore } from '../../verify/verify-store.js';
import { EXIT, verdictExit } from '../errors.js';
import { actorLabel, formatEvents, type OutputFormat, triggerLabel } from '../format.js';
import { progressBar } from '../progress.js';
import { oneLine } from '../safe-text.js';
import { readCheckpointNotes } from './checkpoints.js';

type Out = (s: string) => void;

/**
 * `onbehalf verify STORE [--checkpoint FILE|DIR] [--trusted-keys JWKS]`: exit 0 intact, 1 tampered,
 * 3 not vouched for by the keys or checkpoints given.
 */
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
    return verdictExit(result.verdict);
  }
  out(verifyText(result, store.location));
  return verdictExit(result.verdict);
}

/** The human form of a verification: one block per log, then what the verdict rests on. */
export function verifyText(result: VerifyStoreResult, location: string): string {
  const lines: string[] = [];
  for (const p of result.database) {
    if (p.origin === undefined || !result.logs.some((l) => l.origin === p.origin))
      lines.push(`TAMPERED  database: ${oneLine(p.reason)}`);
  }
  for (const problem of result.integrityProblems) lines.push(`TAMPERED  store: ${oneLine(problem)}`);
  for (const log of result.logs) lines.push(...logText(log));
  if (result.logs.length === 0 && result.database.length === 0 && result.integrityProblems.length === 0)
    lines.push(
      'empty: nothing was ever recorded in this store (no event, no gap record). If an agent ran against it, its spans never reached onbehalf: see the line onbehalf printed at start-up and at exit.',
    );
  if (result.gaps.records > 0) {
    // Intact is not complete: these rows say events happened that the store could not take.
    lines.push(
      `gaps: ${result.gaps.records} gap record(s), ${result.gaps.lost} event(s) not recorded (${oneLine(result.gaps.reasons.join(', ') || 'reason not recorded')}); ` +
        `list them: onbehalf query ${oneLine(location)} --record-type gap`,
    );
  }
  if (result.keySource === 'store') {
    lines.push(
      'note: checkpoint keys were read from the store itself, which anyone who can write it can replace; pass --trusted-keys JWKS to prove who signed them',
    );
  }
  if (result.anchors === 0 && result.logs.length > 0) {
    lines.push(
      'note: no off-host checkpoint given: a log cut back together with its own checkpoints, or rewritten and re-signed with the key kept on its host, ' +
        `looks the same as this one. Only a checkpoint kept where the host cannot write tells them apart: export with onbehalf checkpoints ${oneLine(location)} --out DIR, check with --checkpoint DIR`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Further problems listed under a broken log; a swapped index makes one per row. */
const MAX_ALSO = 10;

function logText(log: StoreLogResult): string[] {
  const status = log.verdict === 'intact' ? 'intact' : log.verdict === 'tampered' ? 'TAMPERED' : 'UNVOUCHED';
  const lines = [
    `${status}  ${oneLine(log.origin)}: ${log.count} events, ${log.checkpointsVerified} signed checkpoint(s) verified`,
  ];
  if (log.verdict === 'tampered') {
    const seq = log.firstBadSeq ?? 'none (every row links; a checkpoint is wrong)';
    lines.push(`  first bad seq: ${seq}`, `  reason: ${oneLine(log.reason)}`);
    const also = log.problems.filter((p) => p !== log.reason);
    for (const p of also.slice(0, MAX_ALSO)) lines.push(`  also: ${oneLine(p)}`);
    if (also.length > MAX_ALSO)
      lines.push(`  … and ${also.length - MAX_ALSO} more (--format json lists them all)`);
    return lines;
  }
  if (log.verdict === 'unvouched') lines.push(`  reason: ${oneLine(log.reason)}`);
  if (log.anchoredSize > 0) lines.push(`  vouched for by signed checkpoints up to seq ${log.anchoredSize}`);
  if (log.externallyAnchoredSize > 0)
    lines.push(`  anchored off-host up to seq ${log.externallyAnchoredSize}`);
  if (log.unanchored && log.anchoredSize > 0) {
    const { count, fromSeq, toSeq } = log.unanchored;
    lines.push(
      `  unanchored tail: ${count} row(s), seq ${fromSeq === toSeq ? fromSeq : `${fromSeq}..${toSeq}`}: they link, but no signed checkpoint covers them yet`,
    );
  }
  return lines;
}

async function countRows(store: AuditStore): Promise<number> {
  try {
    const [row] = await store.sql('SELECT count(*) AS n FROM audit_events');
    return Number(row?.n ?? 0);
  } catch (e) {
    // A store that refuses queries is verified all the same: only the progress bar goes without.
    if (e instanceof StoreError && e.kind === 'tampered') return 0;
    throw e;
  }
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
    out(`no actions with trigger ${oneLine(trigger)}\n`);
    return EXIT.ok;
  }
  out(`Timeline of ${oneLine(triggerLabel(rows[0]!))}: ${rows.length} record(s)\n\n`);
  for (const r of rows) out(`${timelineLine(r)}\n`);
  const claims = rows.filter(restsOnClaim);
  if (claims.length > 0) {
    out(
      `\n${claims.length} of ${rows.length} record(s) rest on claims, not on this process or a verified signature ` +
        `(seq ${claims.map((r) => r.seq).join(', ')}): who acted, for whom and why on them are a caller's word\n`,
    );
  }
  return EXIT.ok;
}

/** One line of a timeline: when, who (for whom), what, to what, how it ended; every value on one line. */
export function timelineLine(r: StoredAuditEvent): string {
  return oneLine(timelineFields(r));
}

function timelineFields(r: StoredAuditEvent): string {
  const who = `${r.actor_type ?? '?'} ${actorLabel(r)}${r.on_behalf_of && r.on_behalf_of !== r.actor_id ? ` for ${r.on_behalf_of}` : ''}`;
  const what = r.record_type === 'started' ? `${r.action} started` : r.action;
  const policy =
    r.policy_decision && r.policy_decision !== 'not_evaluated' ? `  policy=${r.policy_decision}` : '';
  const tier = r.risk_tier === null ? '' : `  tier=${r.risk_tier}`;
  const claim = restsOnClaim(r) ? '  CLAIM' : '';
  return `${r.timestamp}  ${who}  ${what}${r.target ? ` → ${r.target}` : ''}  result=${r.result ?? ''}${policy}${tier}  provenance=${r.provenance ?? 'not recorded'}${claim}`;
}

/** A row whose attribution neither this process set nor a verified signature carried. */
function restsOnClaim(r: StoredAuditEvent): boolean {
  return r.record_type !== 'gap' && r.provenance !== 'local' && r.provenance !== 'verified';
}
