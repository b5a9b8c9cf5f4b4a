import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fault, type VerificationFault, type VerificationFaultCode } from '../errors/verification-fault.js';
import { type LogRow, LogState, type LogStateSnapshot, rowLeafHash } from '../log-format/chain.js';
import { type ParsedCheckpoint, parseCheckpoint } from '../log-format/checkpoint.js';
import type { AuditStore } from '../stores/audit-store.js';
import { SqliteAuditStore } from '../stores/sqlite-store.js';

/**
 * A checkpoint directory (docs/receipts.md, "Checkpoint directories"): what `onbehalf checkpoints
 * --out DIR` keeps off-host for each log. `<log>.<size>.note` is the signed checkpoint (with any
 * witness cosignatures); `<log>.<size>.state.json` the log's chain state at that size (its Merkle
 * frontier and last row hash), from which the next checkpoint is proven consistent and the rows
 * after it verified without reading the older ones; `<log>.<size>.consistency` the consistency
 * proof from the previous note, as a tlog-witness add-checkpoint body.
 */

/** The extension of a checkpoint note in a checkpoint directory. */
export const NOTE_FILE = '.note';
const STATE_FILE = '.state.json';
const CONSISTENCY_FILE = '.consistency';

/** The file name stem of a log's checkpoint at `size`: the origin with unsafe characters replaced. */
export function anchorStem(dir: string, origin: string, size: number): string {
  return join(dir, `${origin.replace(/[^A-Za-z0-9._-]+/g, '_')}.${size}`);
}

/** An anchored checkpoint read from a directory. */
export interface Anchor {
  /** The note's file; undefined for a checkpoint not (yet) in a directory. */
  file: string | undefined;
  note: string;
  checkpoint: ParsedCheckpoint;
}

/** The newest (largest) checkpoint of `origin` in `dir`, if any; unreadable notes are skipped. */
export function newestAnchor(dir: string, origin: string): Anchor | undefined {
  if (!existsSync(dir)) return undefined;
  let best: Anchor | undefined;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(NOTE_FILE)) continue;
    const file = join(dir, name);
    const note = readFileSync(file, 'utf8');
    let checkpoint: ParsedCheckpoint;
    try {
      checkpoint = parseCheckpoint(note);
    } catch {
      continue;
    }
    if (checkpoint.origin !== origin) continue;
    if (!best || checkpoint.size > best.checkpoint.size) best = { file, note, checkpoint };
  }
  return best;
}

/** The files written beside a note. */
export function anchorFiles(noteFile: string): { state: string; consistency: string } {
  const stem = noteFile.endsWith(NOTE_FILE) ? noteFile.slice(0, -NOTE_FILE.length) : noteFile;
  return { state: `${stem}${STATE_FILE}`, consistency: `${stem}${CONSISTENCY_FILE}` };
}

/** Rows of `origin` after seq `after`, in seq order and in batches, read from seq `after + 1` on. */
export async function* rowsAfter(
  store: AuditStore,
  origin: string,
  after: number,
  batchSize = 5000,
): AsyncIterable<LogRow[]> {
  if (store instanceof SqliteAuditStore) {
    yield* store.readLogSync(origin, batchSize, after);
    return;
  }
  // Any other store: read-only SQL by seq, which its primary key (origin, seq) serves.
  const quoted = `'${origin.replaceAll("'", "''")}'`;
  let from = after;
  for (;;) {
    const rows = await store.sql(
      `SELECT * FROM audit_events WHERE origin = ${quoted} AND seq > ${from} ORDER BY seq LIMIT ${batchSize}`,
    );
    if (rows.length === 0) return;
    yield rows as unknown as LogRow[];
    from = Number(rows[rows.length - 1]!.seq);
  }
}

/** Why an anchored state cannot be used; `tampered` when the store or the files disagree with the note. */
export class AnchorError extends Error {
  override name = 'AnchorError';
  /** The same, as a verification fault. */
  readonly fault: VerificationFault;
  constructor(
    code: VerificationFaultCode,
    message: string,
    readonly seq?: number,
  ) {
    super(message);
    this.fault = fault(code, message, { seq });
  }
}

/**
 * The log's chain state at the anchor's size, checked against the anchor's signed root: from the
 * state file beside the note, or (when there is none) rebuilt from the store's rows 1..size. The
 * Merkle frontier must hash to the signed root, so a state file someone edited cannot pass; the
 * row at the anchored size must still carry the state's last hash, as the writer checks on open.
 */
export async function anchoredState(store: AuditStore, anchor: Anchor): Promise<LogState> {
  const { origin, size, root } = anchor.checkpoint;
  const stateFile = anchor.file === undefined ? undefined : anchorFiles(anchor.file).state;
  let state: LogState;
  if (stateFile !== undefined && existsSync(stateFile)) {
    try {
      const snapshot = JSON.parse(readFileSync(stateFile, 'utf8')) as LogStateSnapshot;
      state = LogState.restore({ ...snapshot, origin });
    } catch (err) {
      throw new AnchorError(
        'consistency.anchor_invalid',
        `${stateFile}: not a log state (${(err as Error).message})`,
      );
    }
    if (state.size !== size || !state.root().equals(root))
      throw new AnchorError(
        'consistency.anchor_invalid',
        `${stateFile}: its Merkle frontier does not hash to the root the note at size ${size} signs`,
      );
    const last: LogRow | undefined = (await firstBatch(rowsAfter(store, origin, size - 1, 1)))[0];
    if (!last || Number(last.seq) !== size)
      throw new AnchorError(
        'consistency.rows_missing',
        `seq ${size}: missing: the log holds fewer rows than its anchored checkpoint (rolled back)`,
        size,
      );
    if (last.hash !== state.lastHash)
      throw new AnchorError(
        'consistency.inconsistent',
        `seq ${size}: does not match the anchored checkpoint's chain state (row edited or replaced)`,
        size,
      );
    return state;
  }
  state = new LogState(origin);
  for await (const batch of rowsAfter(store, origin, 0)) {
    for (const row of batch) {
      if (state.size >= size) break;
      const f = state.appendStored(row);
      if (f) throw new AnchorError(f.code, f.reason, f.seq);
    }
    if (state.size >= size) break;
  }
  if (state.size < size)
    throw new AnchorError(
      'consistency.rows_missing',
      `seq ${state.size + 1}: missing: the log holds fewer rows than its anchored checkpoint (rolled back)`,
      state.size + 1,
    );
  if (!state.root().equals(root))
    throw new AnchorError(
      'consistency.inconsistent',
      `the rows 1..${size} do not hash to the root the anchored checkpoint signs (rows rewritten)`,
      1,
    );
  return state;
}

async function firstBatch(rows: AsyncIterable<LogRow[]>): Promise<LogRow[]> {
  for await (const batch of rows) return batch;
  return [];
}

/**
 * Appends the store's rows after `state` up to seq `toSize` (every row when not given), checking each
 * link, and returns their leaf hashes (none with `collect: false`); `onSize` is called after each row.
 */
export async function extendState(
  store: AuditStore,
  state: LogState,
  toSize = Number.POSITIVE_INFINITY,
  options: { collect?: boolean; onSize?: (state: LogState) => void } = {},
): Promise<Buffer[]> {
  const leaves: Buffer[] = [];
  const collect = options.collect ?? true;
  for await (const batch of rowsAfter(store, state.origin, state.size)) {
    for (const row of batch) {
      if (state.size >= toSize) return leaves;
      const f = state.appendStored(row);
      if (f) throw new AnchorError(f.code, f.reason, f.seq);
      if (collect) leaves.push(rowLeafHash(row as Parameters<typeof rowLeafHash>[0]));
      options.onSize?.(state);
    }
  }
  return leaves;
}
