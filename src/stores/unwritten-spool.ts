// Events a writer could not hand to an asynchronous store before its process ended. On `exit`
// (process.exit(), an uncaught exception) and on a signal that ends the process, nothing
// asynchronous runs any more: a PostgreSQL append cannot be sent. What can still happen is a
// synchronous file write, so the writer leaves a note of what it lost beside its key, and the next
// writer of the same store turns each note into a gap record in its own log: the loss is counted,
// and `verify`, `query --record-type gap` and the report show it.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditEvent, auditEvent } from '../pipeline/event.js';
import { newEventId } from '../pipeline/event-id.js';
import type { ExitLoss } from '../pipeline/exit-loss.js';

/** What a writer could not write: how many events, why, and when they happened. */
/** What a writer lost at exit: a count, why, and the timestamps (ISO 8601) of the first and last. */
export type UnwrittenEvents = ExitLoss;

/** A note as left on disk, naming the log of the writer that lost the events. */
interface SpoolNote extends UnwrittenEvents {
  store: string;
  origin: string;
  pid: number;
}

const SUFFIX = '.unwritten.json';

/** The directory of the notes left for the store at `location`, under `dir` (the writer's key directory). */
function spoolDir(dir: string, location: string): string {
  const id = createHash('sha256').update(location).digest('hex').slice(0, 16);
  return join(dir, 'unwritten', id);
}

/**
 * Leaves a note of `unwritten` for the next writer of the store at `location` (synchronously: this
 * runs where nothing asynchronous will). Written aside and renamed, so a reader never sees half a note.
 */
export function spoolUnwrittenSync(
  dir: string,
  location: string,
  origin: string,
  unwritten: UnwrittenEvents,
): void {
  const target = spoolDir(dir, location);
  mkdirSync(target, { recursive: true });
  const name = `${Date.now()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const note: SpoolNote = {
    ...unwritten,
    reasons: [...unwritten.reasons],
    store: location,
    origin,
    pid: process.pid,
  };
  const partial = join(target, `${name}.partial`);
  writeFileSync(partial, `${JSON.stringify(note)}\n`, { mode: 0o600 });
  renameSync(partial, join(target, `${name}${SUFFIX}`));
}

/** Notes taken for writing: the gap records to append, and what to do once they are (or are not). */
export interface TakenNotes {
  gaps: AuditEvent[];
  /** Removes the notes: their gap records are committed. */
  done(): void;
  /** Puts the notes back for a later writer: their gap records could not be written. */
  release(): void;
}

/**
 * Takes the notes left for the store at `location`, each claimed by renaming it (two writers starting
 * at once never both write one), as gap records. A note that cannot be read still becomes a gap
 * record, saying so: a loss is never dropped because its note was damaged.
 */
export function takeUnwrittenNotes(dir: string, location: string): TakenNotes {
  const source = spoolDir(dir, location);
  let names: string[];
  try {
    names = readdirSync(source).filter((n) => n.endsWith(SUFFIX));
  } catch {
    names = [];
  }
  const taken: { claimed: string; original: string }[] = [];
  const gaps: AuditEvent[] = [];
  for (const name of names.sort()) {
    const original = join(source, name);
    const claimed = `${original}.taken-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(original, claimed);
    } catch {
      continue; // Another writer took it.
    }
    taken.push({ claimed, original });
    gaps.push(gapOf(claimed));
  }
  return {
    gaps,
    done: () => {
      for (const t of taken) unlinkQuietly(t.claimed);
    },
    release: () => {
      for (const t of taken) {
        try {
          renameSync(t.claimed, t.original);
        } catch {
          // Left under its claimed name: still on disk for an operator to see.
        }
      }
    },
  };
}

function gapOf(path: string): AuditEvent {
  let note: Partial<SpoolNote> = {};
  let unreadable: string | undefined;
  try {
    note = JSON.parse(readFileSync(path, 'utf8')) as SpoolNote;
  } catch (err) {
    unreadable = (err as Error).message;
  }
  const count = Number.isSafeInteger(note.count) && (note.count as number) > 0 ? (note.count as number) : 1;
  const reasons = Array.isArray(note.reasons) ? note.reasons.map(String) : [];
  if (unreadable !== undefined) reasons.push('a note of unwritten events could not be read');
  const now = new Date().toISOString();
  return auditEvent({
    event_id: newEventId(),
    record_type: 'gap',
    timestamp: now,
    action: 'gap',
    result: 'gap',
    attributes: JSON.stringify({
      lost: count,
      reasons: [...new Set(reasons)].sort(),
      from: typeof note.from === 'string' ? note.from : now,
      to: typeof note.to === 'string' ? note.to : now,
      ...(typeof note.origin === 'string' && { origin: note.origin }),
    }),
  });
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/**
 * Appends the notes left for the store at `location` as gap records with `append` (the next writer's
 * first write), removing them once committed; if the append fails they stay for the writer after.
 */
export async function writeUnwrittenNotes(
  dir: string,
  location: string,
  append: (gaps: AuditEvent[]) => Promise<unknown>,
): Promise<number> {
  const taken = takeUnwrittenNotes(dir, location);
  if (taken.gaps.length === 0) return 0;
  try {
    await append(taken.gaps);
  } catch (err) {
    taken.release();
    throw err;
  }
  taken.done();
  return taken.gaps.length;
}
