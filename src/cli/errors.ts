/** Exit codes of the CLI (contract for `verify`: 0 intact, 1 tampered, 2 unusable input). */
export const EXIT = { ok: 0, tampered: 1, unusable: 2 } as const;

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
