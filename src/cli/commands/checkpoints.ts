import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrustedKey } from '../../keys/keys.js';
import { parseCheckpoint } from '../../log-format/checkpoint.js';
import type { AuditStore } from '../../stores/audit-store.js';
import { verifyAuditStore } from '../../verify/verify-store.js';
import { CliError, EXIT } from '../errors.js';
import { anchorNewCheckpoint } from './anchor-command.js';

type Out = (s: string) => void;

/** The file extension of an exported checkpoint note. */
export const NOTE_EXTENSION = '.note';

/**
 * `onbehalf checkpoints STORE [--out DIR]`: the latest signed checkpoint of each log, to keep where the
 * agent's host cannot write. `verify --checkpoint DIR` then catches a log truncated, rolled back or
 * rewritten after the export, which the store's own checkpoints cannot show. The store is verified
 * first, against the notes already in DIR too: an anchor taken of a broken log would vouch for the
 * break.
 */
export async function checkpoints(
  store: AuditStore,
  options: { outDir?: string; trustedKeys?: readonly TrustedKey[]; witnesses?: readonly string[] },
  out: Out,
  err: Out,
): Promise<number> {
  // Checked against what was exported before too: a log cut back and regrown must not be anchored anew.
  const earlier = options.outDir ? exportedNotes(options.outDir) : [];
  const verified = await verifyAuditStore(store, {
    trustedKeys: options.trustedKeys,
    externalCheckpoints: earlier,
  });
  if (!verified.ok) {
    throw new CliError(
      `checkpoints: log ${verified.origin} is tampered (${verified.reason}); not exporting a checkpoint of a broken log. Run: onbehalf verify ${store.location}`,
      EXIT.tampered,
    );
  }
  const latest = [];
  for (const log of verified.logs) {
    const last = (await store.checkpoints(log.origin)).at(-1);
    if (last) latest.push(last);
    // On stderr: stdout may be redirected into the anchor file itself.
    else
      err(
        `${log.origin}: no signed checkpoint yet (the writer signs one every 1000 events, 60 s and on close)\n`,
      );
  }
  if (verified.logs.length === 0) err('the store holds no logs yet: nothing to export\n');
  if (!options.outDir) {
    if (latest.length > 1)
      throw new CliError(
        `checkpoints: the store holds ${latest.length} logs; use --out DIR to write one file each`,
      );
    for (const cp of latest) out(cp.note);
    return EXIT.ok;
  }
  mkdirSync(options.outDir, { recursive: true });
  for (const cp of latest) {
    const file = join(
      options.outDir,
      `${cp.origin.replace(/[^A-Za-z0-9._-]+/g, '_')}.${cp.size}${NOTE_EXTENSION}`,
    );
    if (existsSync(file)) {
      // It verified against this log, so its root is the same: but two signed notes for one size
      // mean someone signed this log's checkpoint again, under another key.
      if (readFileSync(file, 'utf8') !== cp.note)
        throw new CliError(
          `checkpoints: ${file} already holds a different checkpoint of ${cp.origin} at size ${cp.size}, signed again since it was exported`,
          EXIT.tampered,
        );
      out(`${file}: unchanged (${cp.origin} at size ${cp.size})\n`);
      continue;
    }
    // Proven to extend the newest checkpoint already in DIR, by a consistency proof, before it is kept.
    const proven = await anchorNewCheckpoint(store, options.outDir, file, cp.note, options.witnesses, err);
    out(`wrote ${file} (${cp.origin} at size ${cp.size})${proven}\n`);
  }
  return EXIT.ok;
}

/** The notes already in an export directory (none when it does not exist yet). */
function exportedNotes(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const any = readdirSync(dir).some((name) => name.endsWith(NOTE_EXTENSION));
  return any ? readCheckpointNotes([dir]) : [];
}

/**
 * The checkpoint notes of `--checkpoint` arguments: files, or directories of `*.note` files (what
 * {@link checkpoints} writes). A file that is no checkpoint is the operator's mistake (exit 2), not
 * evidence of tampering.
 */
export function readCheckpointNotes(paths: readonly string[]): string[] {
  const files = paths.flatMap((path) => {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (e) {
      throw new CliError(`--checkpoint ${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    if (!isDir) return [path];
    const notes = readdirSync(path)
      .filter((name) => name.endsWith(NOTE_EXTENSION))
      .sort()
      .map((name) => join(path, name));
    if (notes.length === 0) throw new CliError(`--checkpoint ${path}: no *${NOTE_EXTENSION} files in it`);
    return notes;
  });
  return files.map((file) => {
    let note: string;
    try {
      note = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CliError(`--checkpoint ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    try {
      parseCheckpoint(note);
    } catch (e) {
      throw new CliError(`--checkpoint ${file}: not a signed checkpoint note (${(e as Error).message})`);
    }
    return note;
  });
}
