import { parseArgs } from 'node:util';
import { CliError } from '../errors.js';

/** One option of a command: what `util.parseArgs` needs, and what its help says. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** The value's name in usage text (`--since TIME`); string options only. */
  readonly value?: string;
  /** One line for `--help`. */
  readonly description: string;
  /** The command refuses to run without it; usage shows it unbracketed. */
  readonly required?: boolean;
}

/** The parsed values of an options table, typed from it. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['multiple'] extends true
      ? string[]
      : string;
};

/** What a command's `run` is given. */
export interface CommandInput<O extends Record<string, OptionSpec>> {
  values: OptionValues<O>;
  positionals: string[];
}

/** Where a command writes; both escape what they print for a terminal. */
export interface CommandIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/**
 * A CLI command declared once: its usage line, its `--help` and the `parseArgs` table it parses with
 * are all made from this, so they cannot disagree.
 */
export interface CliCommand<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  readonly name: string;
  /** Positional arguments as usage shows them, e.g. `STORE` or `STORE "SELECT …"`. */
  readonly args: string;
  /** How many positionals it takes; `max` undefined for any number from `min`. */
  readonly positionals: { readonly min: number; readonly max?: number };
  /** What it does, a line or two, shown under its usage. */
  readonly summary: string;
  /** Options (without `--help`, which every command has). */
  readonly options: O;
  /** Further text of its `--help` (forms of values, examples). */
  readonly details?: string;
  run(input: CommandInput<O>, io: CommandIo): Promise<number>;
}

/** Declares a command, keeping its options' literal types for `run`. */
export function defineCommand<const O extends Record<string, OptionSpec>>(
  command: CliCommand<O>,
): CliCommand<O> {
  return command;
}

/** A command of any options table, as the registry holds it. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds commands of different option tables
export type AnyCommand = CliCommand<any>;

/** The `util.parseArgs` options table of a command, `--help` included. */
export function parseTable(command: AnyCommand) {
  const table: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, spec] of Object.entries(command.options as Record<string, OptionSpec>)) {
    table[name] = spec.multiple ? { type: spec.type, multiple: true } : { type: spec.type };
  }
  return table;
}

/** What a usage error ends with: the command's synopsis and where to read more. */
function usageHint(command: AnyCommand): string {
  return `${synopsisLines(command).join('\n')}\n(onbehalf ${command.name} --help for more)`;
}

/** Parses `args` by the command's table; `help` is set when `--help` was given (positionals then unchecked). */
export function parseCommand(
  command: AnyCommand,
  args: string[],
): { help: boolean; input: CommandInput<Record<string, OptionSpec>> } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: parseTable(command), allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError(`${command.name}: ${(e as Error).message}\n\n${usageHint(command)}`);
  }
  const { help, ...values } = parsed.values as Record<string, unknown>;
  if (help) return { help: true, input: { values: {}, positionals: [] } };
  for (const [name, spec] of Object.entries(command.options as Record<string, OptionSpec>)) {
    if (spec.required && values[name] === undefined)
      throw new CliError(
        `${command.name}: --${name}${spec.value ? ` ${spec.value}` : ''} is required\n\n${usageHint(command)}`,
      );
  }
  const n = parsed.positionals.length;
  const { min, max } = command.positionals;
  if (n < min || (max !== undefined && n > max)) {
    const want = max === 0 ? 'no arguments' : command.args;
    throw new CliError(`${command.name}: expected ${want}, got ${n} argument(s)\n\n${usageHint(command)}`);
  }
  return {
    help: false,
    input: {
      values: values as CommandInput<Record<string, OptionSpec>>['values'],
      positionals: parsed.positionals,
    },
  };
}

function optionUsage(name: string, spec: OptionSpec): string {
  const flag = spec.type === 'boolean' ? `--${name}` : `--${name} ${spec.value ?? 'VALUE'}`;
  return `${spec.required ? flag : `[${flag}]`}${spec.multiple ? '...' : ''}`;
}

const WIDTH = 106;
const SUMMARY_COLUMN = 47;

/** `onbehalf NAME ARGS [--option VALUE]…`, wrapped under itself. */
function synopsisLines(command: AnyCommand): string[] {
  const head = `onbehalf ${command.name}${command.args ? ` ${command.args}` : ''}`;
  const indent = ' '.repeat(head.length + 1);
  const lines: string[] = [];
  let line = head;
  for (const [name, spec] of Object.entries(command.options as Record<string, OptionSpec>)) {
    const part = optionUsage(name, spec);
    if (line.length + 1 + part.length > WIDTH) {
      lines.push(line);
      line = `${indent}${part}`;
    } else line = `${line} ${part}`;
  }
  lines.push(line);
  return lines;
}

/** The command's lines in the overall usage: its synopsis, then its summary in a column of its own. */
export function usageLines(command: AnyCommand): string[] {
  const synopsis = synopsisLines(command);
  const summary = command.summary.split('\n');
  // A short synopsis with a one-line summary share a line, as usage has always shown them.
  if (synopsis.length === 1 && summary.length === 1 && synopsis[0]!.length < SUMMARY_COLUMN - 3) {
    return [`${synopsis[0]!.padEnd(SUMMARY_COLUMN - 2)}${summary[0]}`];
  }
  return [...synopsis, ...summary.map((s) => `${' '.repeat(SUMMARY_COLUMN - 2)}${s}`)];
}

/** `onbehalf COMMAND --help`: synopsis, summary, each option with its description, details. */
export function commandHelp(command: AnyCommand): string {
  const options = Object.entries(command.options as Record<string, OptionSpec>).map(([name, spec]) => [
    `--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}${spec.multiple ? ' (repeatable)' : ''}`,
    spec.description,
  ]);
  options.push(['--help, -h', 'this help']);
  const width = Math.max(...options.map(([flag]) => flag!.length));
  const parts = [
    `Usage: onbehalf ${command.name}${command.args ? ` ${command.args}` : ''}${Object.keys(command.options).length ? ' [options]' : ''}`,
    '',
    command.summary.replace(/\n/g, ' '),
    '',
    'Options:',
    ...options.map(([flag, text]) => `  ${flag!.padEnd(width)}  ${text}`),
  ];
  if (command.details) parts.push('', command.details.trimEnd());
  return `${parts.join('\n')}\n`;
}
