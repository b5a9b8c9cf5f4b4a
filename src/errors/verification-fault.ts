/**
 * One thing a verification found wrong, in the shape every verifier reports it: a stable `code` to
 * branch on, where it is (`origin`, `seq`) when known, and the sentence a person reads.
 */
export interface VerificationFault {
  code: VerificationFaultCode;
  /** The log the fault is in. */
  origin?: string;
  /** The row at fault. */
  seq?: number;
  /** Human-readable, without a prefix naming the kind of thing checked (the caller adds its own). */
  message: string;
}

/** What a checkpoint verification can find wrong. */
export type VerificationFaultCode =
  /** The note cannot be parsed. */
  | 'checkpoint.malformed'
  /** A trusted key's signature is there and does not verify: the note was edited. */
  | 'checkpoint.signature_invalid'
  /** No trusted key signed it: an unknown signer, not a broken signature. */
  | 'checkpoint.untrusted';
