/**
 * Everything the CLI prints can hold text an attacker wrote: a target from a hostile email, an origin
 * written into the store by hand. A terminal obeys C0 and C1 control characters (ANSI/OSC escapes can
 * move the cursor and overwrite a TAMPERED line with a fake "intact" one) and a bidi override
 * reorders what follows it. These are shown as `\uXXXX` instead: inside JSON that is the same string,
 * escaped.
 */

// C0 but tab and newline, DEL, C1, the bidi embeddings, overrides, isolates and marks, and the
// Unicode line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
// The same, plus tab, newline and carriage return: for a value inside one line of output.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Text safe to write to a terminal: control and bidi characters escaped; newlines and tabs kept. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escaped);
}

/** A value for one line of output: newlines, tabs and every other control or bidi character escaped. */
export function oneLine(value: unknown): string {
  return String(value ?? '').replace(UNSAFE_IN_LINE, escaped);
}
