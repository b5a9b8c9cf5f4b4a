import { OnbehalfError, type OnbehalfErrorCode } from '../errors/onbehalf-error.js';

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
export class CliError extends OnbehalfError {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.unusable,
    options?: ErrorOptions,
  ) {
    super('cli.usage', message, options);
  }
}

/** The exit code of an error the CLI reports: a tampered store is 1, everything else it cannot use is 2. */
export function exitCodeOf(code: OnbehalfErrorCode): number {
  return code === 'store.tampered' ? EXIT.tampered : EXIT.unusable;
}
