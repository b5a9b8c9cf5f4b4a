import { fault, type VerificationFault, type VerificationFaultCode } from '../errors/verification-fault.js';
import { parseCheckpoint } from '../log-format/checkpoint.js';
import { verifyConsistency } from '../log-format/merkle-proofs.js';
import type { AuditStore } from '../stores/audit-store.js';
import { type Anchor, AnchorError, anchoredState, extendState, newestAnchor } from './anchor-dir.js';
import { consistencyProofFromFrontier } from './frontier-proof.js';

/** What to write beside a new checkpoint in a checkpoint directory. */
export interface ProvenAnchor {
  /** The log's chain state at the new checkpoint's size (JSON of a LogStateSnapshot). */
  state: string;
  /** The anchor it was proven consistent with, if the directory held one. */
  previous?: Anchor;
  /** The consistency proof from `previous`, as a tlog-witness add-checkpoint body. */
  consistency?: string;
  /** The proof's hashes (base64). */
  proof: string[];
}

/** Thrown when the new checkpoint does not extend the one already anchored. */
export class InconsistentCheckpointError extends Error {
  override name = 'InconsistentCheckpointError';
  /** The same, as a verification fault. */
  readonly fault: VerificationFault;
  constructor(code: VerificationFaultCode, message: string, origin: string) {
    super(message);
    this.fault = fault(code, message, { origin });
  }
}

/**
 * Proves a new checkpoint of the store consistent with the newest one already in `dir`: from the
 * anchored chain state (checked against its signed root) and the rows after it only, the RFC 6962
 * consistency proof from the old size to the new; it must verify between the two signed roots.
 * Throws {@link InconsistentCheckpointError} when it does not, or when the rows in between are broken.
 */
export async function proveAnchorConsistency(
  store: AuditStore,
  dir: string,
  note: string,
): Promise<ProvenAnchor> {
  const cp = parseCheckpoint(note);
  const found = newestAnchor(dir, cp.origin);
  const previous = found && found.checkpoint.size < cp.size ? found : undefined;
  try {
    if (!previous) {
      // Nothing anchored yet: the state at the new size, from every row up to it.
      const fresh = await anchoredState(store, { file: undefined, note, checkpoint: cp });
      return { state: JSON.stringify(fresh.snapshot()), proof: [] };
    }
    const state = await anchoredState(store, previous);
    const old = state.snapshot();
    const leaves = await extendState(store, state, cp.size);
    if (state.size !== cp.size)
      throw new InconsistentCheckpointError(
        'consistency.rows_missing',
        `${cp.origin}: the store holds ${state.size} rows, its checkpoint signs ${cp.size}`,
        cp.origin,
      );
    const proof = consistencyProofFromFrontier({ size: old.size, frontier: old.frontier }, leaves);
    if (!verifyConsistency(old.size, cp.size, previous.checkpoint.root, cp.root, proof))
      throw new InconsistentCheckpointError(
        'consistency.inconsistent',
        `${cp.origin}: the checkpoint at size ${cp.size} is not consistent with the one anchored at size ${old.size} (${previous.file}): the log was rewritten or forked`,
        cp.origin,
      );
    const lines = proof.map((h) => `${h.toString('base64')}\n`).join('');
    return {
      state: JSON.stringify(state.snapshot()),
      previous,
      consistency: `old ${old.size}\n${lines}\n${note}`,
      proof: proof.map((h) => h.toString('base64')),
    };
  } catch (err) {
    if (err instanceof AnchorError)
      throw new InconsistentCheckpointError(
        err.fault.code,
        `${cp.origin}: cannot prove the new checkpoint consistent: ${err.message}`,
        cp.origin,
      );
    throw err;
  }
}
