/**
 * Exit codes of the CLI (contract for `verify` and `report`): 0 intact, 1 tampered, 2 unusable input,
 * 3 nothing found wrong but the keys or off-host checkpoints given cannot vouch for the store.
 */
export const EXIT = { ok: 0, tampered: 1, unusable: 2, unvouched: 3 } as const;

/** The exit code of a verification verdict. */
export function verdictExit(verdict: 'intact' | 'tampered' | 'unvouched'): number {
  return verdict === 'intact' ? EXIT.ok : verdict === 'tampered' ? EXIT.tampered : EXIT.unvouched;
}

/** A usage or input error: printed without a stack trace, exit code 2. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.unusable,
  ) {
    super(message);
  }
}
