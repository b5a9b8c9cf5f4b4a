import { OnbehalfError } from '../errors/onbehalf-error.js';
import { terminalSafe } from '../text/safe-text.js';
import { CliError, EXIT, exitCodeOf } from './errors.js';
import { commandHelp, parseCommand } from './registry/command.js';
import { findCommand, usage } from './registry/registry.js';

/** Writes to stdout; every byte printed is escaped for a terminal first (see `safe-text.ts`). */
export const out = (s: string) => void process.stdout.write(terminalSafe(s));
/** Writes to stderr, escaped likewise. */
export const err = (s: string) => void process.stderr.write(terminalSafe(s));

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    out(usage());
    return name ? EXIT.ok : EXIT.unusable;
  }
  try {
    if (name === 'help') {
      // `onbehalf help query` is `onbehalf query --help`.
      const topic = rest[0] === undefined ? undefined : findCommand(rest[0]);
      if (rest[0] !== undefined && !topic)
        throw new CliError(`help: unknown command: ${rest[0]}\n\n${usage()}`);
      out(topic ? commandHelp(topic) : usage());
      return EXIT.ok;
    }
    const command = findCommand(name);
    if (!command) throw new CliError(`unknown command: ${name}\n\n${usage()}`);
    const { help, input } = parseCommand(command, rest);
    if (help) {
      out(commandHelp(command));
      return EXIT.ok;
    }
    return await command.run(input, { out, err });
  } catch (e) {
    // The one place an error becomes an exit code: onbehalf's own by their code, a bad number
    // (RangeError) as unusable input; anything else is a bug and main() prints its stack.
    if (e instanceof OnbehalfError || e instanceof RangeError) {
      err(`onbehalf: ${e.message}\n`);
      if (e instanceof CliError) return e.exitCode;
      return e instanceof OnbehalfError ? exitCodeOf(e.code) : EXIT.unusable;
    }
    throw e;
  }
}
