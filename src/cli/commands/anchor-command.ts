import { writeFileSync } from 'node:fs';
import { InconsistentCheckpointError, proveAnchorConsistency } from '../../consistency/anchor-consistency.js';
import { anchorFiles } from '../../consistency/anchor-dir.js';
import type { AuditStore } from '../../stores/audit-store.js';
import { oneLine } from '../../text/safe-text.js';
import { keepCosignatures, submitToWitness } from '../../witness/submit.js';
import { CliError, EXIT } from '../errors.js';

type Out = (s: string) => void;

/** The witnesses `ONBEHALF_WITNESSES` names: submission prefixes, comma-separated. */
export function witnessesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.ONBEHALF_WITNESSES ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
}

/**
 * Writes a new checkpoint into a checkpoint directory once it is proven consistent with the newest
 * one there: the note, the chain state at its size, and the consistency proof; then submits it to
 * each witness and keeps their cosignatures beside it. Returns what to add to the `wrote …` line. A
 * checkpoint that does not extend the anchored one is refused (exit 1) and nothing is written; a
 * witness that has seen another history of the log makes the command exit 1 after writing.
 */
export async function anchorNewCheckpoint(
  store: AuditStore,
  dir: string,
  file: string,
  note: string,
  witnesses: readonly string[] = [],
  err: Out = () => {},
): Promise<string> {
  let proven: Awaited<ReturnType<typeof proveAnchorConsistency>>;
  try {
    proven = await proveAnchorConsistency(store, dir, note);
  } catch (e) {
    if (e instanceof InconsistentCheckpointError)
      throw new CliError(`checkpoints: ${e.message}; not exporting it`, EXIT.tampered);
    throw e;
  }
  const files = anchorFiles(file);
  writeFileSync(file, note, { flag: 'wx' });
  writeFileSync(files.state, `${proven.state}\n`);
  let summary = '';
  if (proven.consistency && proven.previous) {
    writeFileSync(files.consistency, proven.consistency);
    summary = `, consistent with size ${proven.previous.checkpoint.size} (proof of ${proven.proof.length} hash(es) in ${files.consistency})`;
  }
  const refused: string[] = [];
  for (const url of witnesses) {
    const reply = await submitToWitness(url, store, dir, note, proven.previous?.checkpoint.size ?? 0);
    if (reply.status === 200) {
      keepCosignatures(file, reply.cosignatures);
      summary += `; cosigned by ${reply.cosignatures.map((l) => l.split(' ')[1]).join(', ')}`;
      continue;
    }
    const why = `witness ${url}: refused (${reply.status || 'unreachable'}): ${reply.message ?? ''}`;
    err(`${oneLine(why)}\n`);
    if (reply.conflict) refused.push(url);
  }
  if (refused.length > 0)
    throw new CliError(
      `checkpoints: ${refused.length} witness(es) have cosigned another history of this log (${refused.join(', ')}): the log is forked or was rewritten. The note was kept in ${file}`,
      EXIT.tampered,
    );
  return summary;
}
