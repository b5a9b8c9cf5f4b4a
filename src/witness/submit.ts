import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { AnchorError, anchorStem, extendState } from '../consistency/anchor-dir.js';
import { consistencyProofFromFrontier } from '../consistency/frontier-proof.js';
import { LogState, type LogStateSnapshot } from '../log-format/chain.js';
import { parseCheckpoint } from '../log-format/checkpoint.js';
import type { AuditStore } from '../stores/audit-store.js';

/**
 * The log side of C2SP tlog-witness: submits a checkpoint to a witness with a consistency proof
 * from the size the witness last cosigned, and keeps the cosignature lines it returns in
 * `<log>.<size>.cosignatures` beside the note in the checkpoint directory (docs/receipts.md).
 */

/** What one witness said. */
export interface WitnessReply {
  url: string;
  /** The cosignature lines (each `— <name> <base64>`), when it cosigned. */
  cosignatures: string[];
  /** The HTTP status; 0 when the witness could not be reached. */
  status: number;
  /** Its message, when it refused. */
  message?: string;
  /** A refusal that means the witness saw another history of this log (409 or 422). */
  conflict: boolean;
}

const TIMEOUT_MS = 10_000;

/** The file beside a note that holds witnesses' cosignature lines. */
export function cosignaturesFile(noteFile: string): string {
  return noteFile.replace(/\.note$/, '.cosignatures');
}

/** The chain state of the log at `size`: from the directory's state file, else from the store's rows. */
async function stateAt(store: AuditStore, dir: string, origin: string, size: number): Promise<LogState> {
  const file = `${anchorStem(dir, origin, size)}.state.json`;
  if (existsSync(file)) {
    const snapshot = JSON.parse(readFileSync(file, 'utf8')) as LogStateSnapshot;
    return LogState.restore({ ...snapshot, origin });
  }
  const state = new LogState(origin);
  await extendState(store, state, size, { collect: false });
  if (state.size !== size)
    throw new AnchorError('consistency.rows_missing', `the log holds ${state.size} rows, fewer than ${size}`);
  return state;
}

/** An add-checkpoint body from `oldSize` to the note's size. */
async function body(store: AuditStore, dir: string, note: string, oldSize: number): Promise<string> {
  const cp = parseCheckpoint(note);
  if (oldSize === 0 || oldSize === cp.size) return `old ${oldSize}\n\n${note}`;
  const state = await stateAt(store, dir, cp.origin, oldSize);
  const old = state.snapshot();
  const leaves = await extendState(store, state, cp.size);
  const proof = consistencyProofFromFrontier({ size: old.size, frontier: old.frontier }, leaves);
  return `old ${oldSize}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${note}`;
}

async function post(url: string, text: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${url.replace(/\/+$/, '')}/add-checkpoint`, {
    method: 'POST',
    body: text,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/**
 * Submits the note to a witness: first from `guess` (the previous size anchored in the directory),
 * then, if the witness answers 409 with the size it holds, once more from that size.
 */
export async function submitToWitness(
  url: string,
  store: AuditStore,
  dir: string,
  note: string,
  guess: number,
): Promise<WitnessReply> {
  try {
    let reply = await post(url, await body(store, dir, note, guess));
    if (reply.status === 409 && reply.type.startsWith('text/x.tlog.size')) {
      const held = Number(reply.text.trim());
      if (Number.isSafeInteger(held) && held !== guess && held <= parseCheckpoint(note).size)
        reply = await post(url, await body(store, dir, note, held));
    }
    if (reply.status === 200) {
      const cosignatures = reply.text.split('\n').filter((l) => l.startsWith('\u2014 '));
      return { url, cosignatures, status: 200, conflict: false };
    }
    return {
      url,
      cosignatures: [],
      status: reply.status,
      message: reply.text.trim().slice(0, 500),
      conflict: reply.status === 409 || reply.status === 422,
    };
  } catch (err) {
    return { url, cosignatures: [], status: 0, message: (err as Error).message, conflict: false };
  }
}

/** Adds cosignature lines to the file beside a note, once each. */
export function keepCosignatures(noteFile: string, lines: readonly string[]): void {
  const file = cosignaturesFile(noteFile);
  const have = existsSync(file) ? new Set(readFileSync(file, 'utf8').split('\n')) : new Set<string>();
  const fresh = lines.filter((l) => !have.has(l));
  if (fresh.length > 0) appendFileSync(file, fresh.map((l) => `${l}\n`).join(''));
}

/** A note with the cosignatures kept beside it appended to its signature lines. */
export function withCosignatures(noteFile: string, note: string): string {
  const file = cosignaturesFile(noteFile);
  if (!existsSync(file)) return note;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('\u2014 ') && !note.includes(`${l}\n`));
  return note + lines.map((l) => `${l}\n`).join('');
}
