import { formatFault } from '../../errors/verification-fault.js';
import { loadTrustedKeys } from '../../keys/keys.js';
import { type AuditStore, StoreError } from '../../stores/audit-store.js';
import { oneLine } from '../../text/safe-text.js';
import { type StoreLogResult, type VerifyStoreResult, verifyAuditStore } from '../../verify/verify-store.js';
import { verdictExit } from '../errors.js';
import type { OutputFormat } from '../format.js';
import { progressBar } from '../progress.js';
import { readCheckpointNotes } from './checkpoints.js';

type Out = (s: string) => void;

/**
 * `onbehalf verify STORE [--checkpoint FILE|DIR] [--trusted-keys JWKS] [--workers N]`: exit 0 intact, 1 tampered,
 * 3 not vouched for by the keys or checkpoints given.
 */
export async function verify(
  store: AuditStore,
  options: { checkpoints?: string[]; trustedKeys?: string; format?: OutputFormat; workers?: number },
  out: Out,
  err: Out,
): Promise<number> {
  const trustedKeys = options.trustedKeys ? await loadTrustedKeys(options.trustedKeys) : undefined;
  const externalCheckpoints = readCheckpointNotes(options.checkpoints ?? []);
  const total = await countRows(store);
  const bar = progressBar(total, err);
  const result = await verifyAuditStore(store, {
    trustedKeys,
    externalCheckpoints,
    onProgress: bar.update,
    workers: options.workers,
  });
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
      lines.push(`TAMPERED  database: ${oneLine(formatFault(p))}`);
  }
  for (const problem of result.integrityProblems)
    lines.push(`TAMPERED  store: ${oneLine(formatFault(problem))}`);
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
    // `reason` is the first problem, formatted.
    const also = log.problems.slice(1);
    for (const p of also.slice(0, MAX_ALSO)) lines.push(`  also: ${oneLine(formatFault(p))}`);
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

// `query` and `timeline` live in ../query and ../timeline; a record's timeline line is kept here too.
export { timelineLine } from '../timeline/timeline-command.js';
