import { queryCommand } from '../query/query-command.js';
import { timelineCommand } from '../timeline/timeline-command.js';
import { type AnyCommand, usageLines } from './command.js';
import {
  approveCommand,
  checkpointsCommand,
  demoCommand,
  keygenCommand,
  proveCommandDefinition,
  reportCommand,
  sqlCommand,
  verifyCommand,
  verifyReceiptCommandDefinition,
  witnessCommandDefinition,
} from './definitions.js';

/** Every command of the CLI, in the order usage lists them. A new command is one entry here. */
export const COMMANDS: readonly AnyCommand[] = [
  demoCommand,
  verifyCommand,
  checkpointsCommand,
  queryCommand,
  sqlCommand,
  timelineCommand,
  reportCommand,
  approveCommand,
  keygenCommand,
  proveCommandDefinition,
  verifyReceiptCommandDefinition,
  witnessCommandDefinition,
];

/** The command named `name`, if there is one. */
export function findCommand(name: string): AnyCommand | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** `onbehalf --help`: every command's synopsis and summary, made from the registry. */
export function usage(): string {
  const lines = COMMANDS.flatMap(usageLines).map((l) => `  ${l}`);
  return `onbehalf: truthful audit trails for AI agents

Usage:
${lines.join('\n')}

STORE is a SQLite file path or a postgres:// URL. onbehalf COMMAND --help says more about each.
`;
}
