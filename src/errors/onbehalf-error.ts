/**
 * Every error onbehalf throws on purpose is an {@link OnbehalfError}: one `instanceof` to catch them,
 * and a `code` from a closed list to branch on, which stays stable when messages are reworded. Each
 * subclass keeps its own fields (`field`, `kind`, `reason`, `seq`…); an underlying error is kept as
 * `cause`.
 */
export type OnbehalfErrorCode =
  /** An attribution failed validation ({@link AttributionError}; `field` names where). */
  | 'attribution.invalid'
  /** Policy or approval refused an action; it did not run ({@link ActionDeniedError}). */
  | 'action.denied'
  /** An inbound access token was absent, invalid, carried unusable claims, or too deep a chain. */
  | 'inbound_token.missing'
  | 'inbound_token.invalid'
  | 'inbound_token.claims'
  | 'inbound_token.chain_too_deep'
  /** A key or key set cannot be used (KeyError). */
  | 'key.unusable'
  /** A store cannot be read, its chain is broken, or it cannot be written (StoreError `kind`). */
  | 'store.unusable'
  | 'store.tampered'
  | 'store.unwritable'
  /** A log state cannot be restored or rebuilt from its rows (ChainError). */
  | 'chain.invalid'
  /** A checkpoint cannot be formatted or parsed (CheckpointError). */
  | 'checkpoint.malformed'
  /** A CLI usage or input error (CliError). */
  | 'cli.usage';

/** The base of onbehalf's errors; see {@link OnbehalfErrorCode}. */
export class OnbehalfError extends Error {
  override name = 'OnbehalfError';
  constructor(
    /** What went wrong, from a closed list. */
    readonly code: OnbehalfErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
