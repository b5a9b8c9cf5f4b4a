import { statSync } from 'node:fs';
import { type IncrementalLogResult, verifyIncrementally } from '../../consistency/incremental-verify.js';
import { formatFault } from '../../errors/verification-fault.js';
import { loadTrustedKeys } from '../../keys/keys.js';
import type { AuditStore } from '../../stores/audit-store.js';
import { oneLine } from '../../text/safe-text.js';
import { CliError, verdictExit } from '../errors.js';
import type { OutputFormat } from '../format.js';

type Out = (s: string) => void;

/**
 * `onbehalf verify STORE --checkpoint DIR --incremental`: only the rows after the newest checkpoint
 * anchored in DIR, and the proof that the store's later checkpoints extend it. Exit codes as verify.
 */
export async function incrementalVerify(
  store: AuditStore,
  options: { checkpoints?: readonly string[]; trustedKeys?: string; format?: OutputFormat },
  out: Out,
): Promise<number> {
  const dirs = options.checkpoints ?? [];
  if (dirs.length !== 1)
    throw new CliError(
      'verify --incremental: give exactly one --checkpoint DIR (what onbehalf checkpoints --out DIR wrote)',
    );
  const dir = dirs[0]!;
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // Said below.
  }
  if (!isDir) throw new CliError(`verify --incremental: --checkpoint ${dir} is not a directory`);
  const trustedKeys = options.trustedKeys ? await loadTrustedKeys(options.trustedKeys) : undefined;
  const result = await verifyIncrementally(store, { anchorDir: dir, trustedKeys });
  if (options.format && options.format !== 'table') {
    out(`${JSON.stringify(result, null, options.format === 'json' ? 2 : undefined)}\n`);
    return verdictExit(result.verdict);
  }
  const lines = result.logs.flatMap(logLines);
  if (result.logs.length === 0) lines.push('empty: nothing was ever recorded in this store');
  if (result.keySource === 'store')
    lines.push(
      'note: checkpoint keys were read from the store itself, which anyone who can write it can replace; pass --trusted-keys JWKS to prove who signed them',
    );
  lines.push(
    'note: incremental: rows up to each anchored checkpoint were verified when it was anchored and are not read again, and the database itself (SQLite integrity check and schema, PostgreSQL triggers and policies) is not checked; a full onbehalf verify does both',
  );
  out(`${lines.join('\n')}\n`);
  return verdictExit(result.verdict);
}

function logLines(log: IncrementalLogResult): string[] {
  const status = log.verdict === 'intact' ? 'intact' : log.verdict === 'tampered' ? 'TAMPERED' : 'UNVOUCHED';
  const lines = [
    `${status}  ${oneLine(log.origin)}: ${log.newRows} new row(s) after the checkpoint anchored at seq ${log.anchoredSize}, ${log.checkpointsVerified} later signed checkpoint(s) consistent with it`,
  ];
  if (log.verdict !== 'intact') {
    if (log.firstBadSeq !== undefined) lines.push(`  first bad seq: ${log.firstBadSeq}`);
    lines.push(`  reason: ${oneLine(log.fault && formatFault(log.fault))}`);
    return lines;
  }
  if (log.unanchored) {
    const { count, fromSeq, toSeq } = log.unanchored;
    lines.push(
      `  unanchored tail: ${count} row(s), seq ${fromSeq === toSeq ? fromSeq : `${fromSeq}..${toSeq}`}: they link, but no signed checkpoint covers them yet`,
    );
  }
  return lines;
}
