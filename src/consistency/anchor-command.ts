import { writeFileSync } from 'node:fs';
import { CliError, EXIT } from '../cli/errors.js';
import type { AuditStore } from '../stores/audit-store.js';
import { InconsistentCheckpointError, proveAnchorConsistency } from './anchor-consistency.js';
import { anchorFiles } from './anchor-dir.js';

/**
 * Writes a new checkpoint into a checkpoint directory once it is proven consistent with the newest
 * one there: the note, the chain state at its size, and the consistency proof. Returns what to add to
 * the `wrote …` line. A checkpoint that does not extend the anchored one is refused (exit 1) and
 * nothing is written.
 */
export async function anchorNewCheckpoint(
  store: AuditStore,
  dir: string,
  file: string,
  note: string,
): Promise<string> {
  let proven: Awaited<ReturnType<typeof proveAnchorConsistency>>;
  try {
    proven = await proveAnchorConsistency(store, dir, note);
  } catch (err) {
    if (err instanceof InconsistentCheckpointError)
      throw new CliError(`checkpoints: ${err.message}; not exporting it`, EXIT.tampered);
    throw err;
  }
  const files = anchorFiles(file);
  writeFileSync(file, note, { flag: 'wx' });
  writeFileSync(files.state, `${proven.state}\n`);
  if (!proven.consistency || !proven.previous) return '';
  writeFileSync(files.consistency, proven.consistency);
  return `, consistent with size ${proven.previous.checkpoint.size} (proof of ${proven.proof.length} hash(es) in ${files.consistency})`;
}
