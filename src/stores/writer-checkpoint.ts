import type { SigningKey, TrustedKey } from '../keys/keys.js';
import { LogState, type LogStateSnapshot } from '../log-format/chain.js';
import { signCheckpoint, verifyCheckpoint } from '../log-format/checkpoint.js';
import { type StoredCheckpoint, StoreError } from './audit-store.js';

/**
 * What a writer keeps of each checkpoint it signs, and reads back when it resumes its log: the signed
 * note, and the chain state (Merkle frontier, last hash) at that size, so only the rows after it need
 * checking on open. Both stores share this; only the SQL around it differs.
 */

/** A writer's last checkpoint row, as stored in `audit_checkpoints`. */
export interface SavedCheckpoint {
  note: string;
  /** JSON of the {@link LogStateSnapshot} at the checkpoint's size. */
  state: string;
}

/** A new signed checkpoint of `state`, and the row that stores it. */
export function signWriterCheckpoint(
  origin: string,
  state: LogState,
  key: SigningKey,
): { checkpoint: StoredCheckpoint; state: string } {
  const cp = state.checkpoint();
  return {
    checkpoint: {
      origin,
      size: cp.size,
      root: Buffer.from(cp.root).toString('base64'),
      note: signCheckpoint(cp, key),
      created_at: new Date().toISOString(),
    },
    state: JSON.stringify(state.snapshot()),
  };
}

/**
 * The chain state saved with a writer's last checkpoint, once its note verifies under `keys` and the
 * saved state agrees with the signed root and size. The caller then checks the row at `state.size`
 * with {@link checkCheckpointedRow} and replays the rows after it.
 *
 * @throws StoreError (`tampered`) naming what disagrees; `tampered` builds its message.
 */
export function restoreWriterState(
  saved: SavedCheckpoint,
  keys: readonly TrustedKey[],
  tampered: (reason: string) => string,
): LogState {
  const check = verifyCheckpoint(saved.note, keys);
  if (!check.ok || !check.checkpoint)
    throw new StoreError(tampered(`last checkpoint: ${check.fault?.message}`), 'tampered');
  let state: LogState;
  try {
    state = LogState.restore(JSON.parse(saved.state) as LogStateSnapshot);
  } catch (err) {
    throw new StoreError(
      tampered(`last checkpoint state: ${err instanceof Error ? err.message : String(err)}`),
      'tampered',
    );
  }
  if (!Buffer.from(check.checkpoint.root).equals(state.root()) || check.checkpoint.size !== state.size)
    throw new StoreError(tampered('last checkpoint state does not match its signed root'), 'tampered');
  return state;
}

/**
 * The row at the checkpoint's size must still be the one it signed: an edit or deletion of it (or of
 * the rows before it, which its hash chains) would otherwise go unseen until a full verify.
 */
export function checkCheckpointedRow(
  state: LogState,
  hash: string | undefined,
  tampered: (reason: string) => string,
): void {
  if (hash !== state.lastHash)
    throw new StoreError(
      tampered(`seq ${state.size}: does not match the last signed checkpoint (row edited or deleted)`),
      'tampered',
    );
}

/** The message of a store that refuses to append, with the command that shows where it breaks. */
export function tamperedStoreMessage(location: string, reason: string, origin?: string): string {
  const what = origin ? `store ${location}: log ${origin} is tampered` : `store ${location} is tampered`;
  return `${what} (${reason}); refusing to append. Run: onbehalf verify ${location}`;
}
