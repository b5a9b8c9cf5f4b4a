/**
 * Every code a verifier reports, grouped by what was checked: `row.*` a log row (its seq, origin,
 * link, contents or stored values), `checkpoint.*` a signed checkpoint, `store.*` the database around
 * the rows, `consistency.*` a checkpoint against one anchored earlier, `receipt.*` an inclusion
 * receipt, `witness.*` a witness policy, `token.*` an inbound attribution token. The list is closed:
 * docs/verification-faults.md documents each, and a test holds the two to each other.
 */
export const VERIFICATION_FAULT_CODES = [
  /** A row has no usable seq. */
  'row.seq_invalid',
  /** A row names another log's origin than the one it is read as part of (row moved or edited). */
  'row.origin_mismatch',
  /** An origin no writer could have (rows written by hand). */
  'row.origin_invalid',
  /** One or more seqs are missing before the next row (rows deleted). */
  'row.missing',
  /** A seq appears twice (row duplicated or inserted). */
  'row.duplicate',
  /** A row's prev_hash does not link to the row before it (inserted, deleted, reordered or replaced). */
  'row.chain_broken',
  /** A row's contents cannot be canonicalized, so they cannot be hashed. */
  'row.contents_invalid',
  /** A row's hash does not match its contents (row edited). */
  'row.hash_mismatch',
  /** A stored value has the wrong type or form (row edited below the chain). */
  'row.type_invalid',
  /** A row lies outside every chain (e.g. below seq 1), where verify does not read it. */
  'row.outside_chain',
  /** Rows of a log that is not the store's own (rows planted). */
  'row.foreign_log',
  /** A checkpoint note cannot be parsed. */
  'checkpoint.malformed',
  /** A trusted key's signature is there and does not verify: the note was edited. */
  'checkpoint.signature_invalid',
  /** No trusted key signed the note: an unknown signer (or no keys given), not a broken signature. */
  'checkpoint.untrusted',
  /** The checkpoint is for another origin than the log it is stored with. */
  'checkpoint.origin_mismatch',
  /** A stored checkpoint's root is not the Merkle root of the rows it covers (rows rewritten). */
  'checkpoint.root_mismatch',
  /** An off-host checkpoint's root is not that of the rows it covers (history forked or rewritten). */
  'checkpoint.forked',
  /** A stored checkpoint covers more rows than the log holds (log truncated). */
  'checkpoint.beyond_log',
  /** An off-host checkpoint covers more rows than the log holds, or names a log the store lacks (rolled back). */
  'checkpoint.rollback',
  /** The checkpoints verify only under a pinned key not bound to this log's origin. */
  'checkpoint.key_unbound',
  /** No checkpoint signed by a pinned key covers any of the log's rows. */
  'checkpoint.unvouched',
  /** Off-host checkpoints were given and none is for this log. */
  'checkpoint.unanchored',
  /** The SQLite integrity check failed: the file was edited below SQL or is damaged. */
  'store.integrity_failed',
  /** A schema object (table, index, trigger, view) was added, edited or dropped. */
  'store.schema_changed',
  /** The schema version is not one this release knows. */
  'store.version_unknown',
  /** Store metadata (`audit_meta`) was added to or deleted from. */
  'store.meta_changed',
  /** A table is missing or has row-level security off. */
  'store.table_changed',
  /** A trigger is missing, not the migration's, or not always enabled. */
  'store.trigger_changed',
  /** A row-level security policy is missing or not the migration's. */
  'store.policy_changed',
  /** A function is missing, not the migration's, or has an added overload. */
  'store.function_changed',
  /** The writer role holds a privilege the migration does not grant. */
  'store.privilege_excess',
  /** A recorded key is not a usable public Ed25519 key. */
  'store.key_unusable',
  /** A store value outside the log rows has the wrong type or form. */
  'store.value_invalid',
  /** No checkpoint of this log is anchored yet, so an incremental verify has nothing to start from. */
  'consistency.no_anchor',
  /** The anchored chain state does not hash to the root its checkpoint signs. */
  'consistency.anchor_invalid',
  /** A later checkpoint is not consistent with the anchored one (log rewritten or forked). */
  'consistency.inconsistent',
  /** The store holds fewer rows than a checkpoint past the anchor signs (rows deleted). */
  'consistency.rows_missing',
  /** The file is not a receipt (not UTF-8, or not in the tlog-proof form). */
  'receipt.malformed',
  /** The receipt's row or checkpoint is not well formed (not canonical, not JSON, not a checkpoint). */
  'receipt.contents_invalid',
  /** The receipt's row is of another log than its checkpoint. */
  'receipt.origin_mismatch',
  /** The receipt's checkpoint has extension lines, which no onbehalf log signs. */
  'receipt.extensions',
  /** The receipt's index is outside its checkpoint's tree. */
  'receipt.index_out_of_range',
  /** The inclusion proof does not lead from the row to the checkpoint's root. */
  'receipt.proof_invalid',
  /** The receipt's checkpoint is not signed by a trusted key (or its signature is broken). */
  'receipt.checkpoint_invalid',
  /** The checkpoint is not signed by a log the witness policy lists. */
  'witness.log_unknown',
  /** Too few of the policy's witnesses cosigned the checkpoint. */
  'witness.quorum_unmet',
  /** The token is larger than an attribution token may be. */
  'token.oversized',
  /** The token is not a compact JWS with JSON header and claims. */
  'token.malformed',
  /** The token's algorithm is not EdDSA. */
  'token.algorithm',
  /** The token's `typ` is not the attribution token type. */
  'token.type',
  /** No trusted key has the token's `kid`. */
  'token.unknown_key',
  /** The token's signature does not verify. */
  'token.signature',
  /** The token's claims are missing or of the wrong type. */
  'token.claims',
  /** The token has expired. */
  'token.expired',
  /** The token is not valid yet. */
  'token.not_yet_valid',
  /** The token's lifetime is longer than allowed. */
  'token.lifetime',
  /** The token's delegation chain is deeper than allowed. */
  'token.chain_too_deep',
  /** The signing key is not bound to the actor the token names. */
  'token.unbound_actor',
  /** The token does not name this receiver in its audience. */
  'token.audience',
  /** The token was seen before. */
  'token.replay',
  /** The token is bound to another trace than the one it arrived with. */
  'token.trace_mismatch',
] as const;

/** What any verification can find wrong: one of {@link VERIFICATION_FAULT_CODES}. */
export type VerificationFaultCode = (typeof VERIFICATION_FAULT_CODES)[number];

/**
 * One thing a verification found wrong, in the shape every verifier reports it: a stable `code` to
 * branch on, where it is (`origin`, `seq`) when known, and the sentence a person reads.
 */
export interface VerificationFault {
  readonly code: VerificationFaultCode;
  /** The log the fault is in. */
  readonly origin?: string;
  /** The row at fault (the first one, for a range). */
  readonly seq?: number;
  /**
   * Human-readable and self-locating where it is in a log (`seq 4: …`, `checkpoint at size 9: …`);
   * without a prefix naming the kind of verifier (the caller adds its own).
   */
  readonly message: string;
}

/**
 * A fault as a person reads it: its message, then its code to look up in docs/verification-faults.md.
 * Not sanitized: output to a terminal goes through src/text/safe-text.ts.
 */
export function formatFault(fault: VerificationFault): string {
  return `${fault.message} [${fault.code}]`;
}

/** Builds a fault, leaving out `origin` and `seq` when not known (so JSON shows only what is). */
export function fault(
  code: VerificationFaultCode,
  message: string,
  where: { origin?: string | undefined; seq?: number | undefined } = {},
): VerificationFault {
  // Built in {code, origin, seq, message} order, the order JSON output shows them in.
  return {
    code,
    ...(where.origin !== undefined && { origin: where.origin }),
    ...(where.seq !== undefined && { seq: where.seq }),
    message,
  };
}
