import { formatFault, fault as makeFault, type VerificationFault } from '../errors/verification-fault.js';
import type { TrustedKey } from '../keys/keys.js';
import { type ChainFault, type LogRow, LogState } from '../log-format/chain.js';
import { verifyCheckpoint } from '../log-format/checkpoint.js';

/**
 * Verifies one writer's log end to end, streaming: every row's chain link and contents, and every
 * signed checkpoint against the Merkle root of the rows it covers. Memory is O(log n) plus the
 * checkpoints; the rows are hashed once.
 */

/** A checkpoint as a store or a file hands it over; other fields (e.g. `created_at`) are ignored. */
export interface CheckpointNote {
  /** The C2SP signed note text. */
  readonly note: string;
}

/** Rows in seq order: single rows, or batches (arrays) of rows, or any mix of the two. */
export type LogRows = Iterable<LogRow | readonly LogRow[]> | AsyncIterable<LogRow | readonly LogRow[]>;

/** What {@link verifyLog} checks. */
export interface VerifyLogInput {
  /** The log's origin; rows and checkpoints of any other origin are faults. */
  origin: string;
  /**
   * The origin's rows in seq order. A synchronous iterable is read synchronously (no per-row await);
   * an async one (e.g. a PostgreSQL cursor yielding batches) is awaited per item. Reading stops at
   * the first fault, which closes the iterator.
   */
  rows: LogRows;
  /** Checkpoints stored in the log (any order; they are sorted by size). */
  checkpoints: readonly CheckpointNote[];
  /** Checkpoints kept elsewhere (e.g. exported off-host): they catch rollback and forks. */
  externalCheckpoints?: readonly CheckpointNote[];
  /** Keys trusted to sign checkpoints; a checkpoint none of them signed is a fault. */
  trustedKeys: readonly TrustedKey[];
  /** Key name the signatures are under; the origin by default. */
  keyName?: string;
  /** Called with the number of rows verified so far, every {@link PROGRESS_EVERY} rows and at the end. */
  onProgress?: (count: number) => void;
}

/** What {@link verifyLog} found. */
export interface VerifyLogResult {
  /** True only when every row links and every checkpoint is trusted and matches. */
  ok: boolean;
  origin: string;
  /** Rows verified (on a fault, those before it). */
  count: number;
  /** The first seq that is wrong or missing (the lowest possibly rewritten one, for a root mismatch). */
  firstBadSeq?: number;
  /**
   * The first fault of `problems`, formatted by `formatFault`: a row fault (with its seq) wins over
   * a checkpoint fault.
   */
  reason?: string;
  /**
   * Every fault found, the deciding one first (reading stops at the first row fault; checkpoint
   * faults are all listed).
   */
  problems: readonly VerificationFault[];
  /** Checkpoints (stored and external) whose signature verified and whose root matched the rows. */
  checkpointsVerified: number;
  /**
   * Checkpoint faults that only say no trusted key signed the note (an unknown signer: the wrong keys
   * given, or the note re-signed by someone else): the `checkpoint.untrusted` faults in `problems`.
   */
  untrustedCheckpoints: number;
  /** The largest size a verified checkpoint (stored or external) vouches for; 0 when none does. */
  anchoredSize: number;
  /** The largest size a verified external (off-host) checkpoint vouches for; 0 when none does. */
  externallyAnchoredSize: number;
  /** Base64 Merkle root of the `count` verified rows. */
  root: string;
}

/** How often, in rows, {@link VerifyLogInput.onProgress} is called. */
export const PROGRESS_EVERY = 10_000;

interface Scheduled {
  size: number;
  root: Buffer;
  label: string;
  external: boolean;
}

function isBatch<R>(item: R | readonly R[]): item is readonly R[] {
  return Array.isArray(item);
}

function isAsync<R>(rows: ChainItems<R>): rows is AsyncIterable<R | readonly R[]> {
  return typeof (rows as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/**
 * What {@link verifyChain} advances: a {@link LogState} fed rows, or a log verified in ranges by
 * worker threads fed each range's summary (`verify-ranges.ts`). After each item `size` is the rows
 * verified and `root()` their Merkle root.
 * @internal
 */
export interface ChainProgress<R> {
  readonly size: number;
  appendStored(item: R): ChainFault | undefined;
  root(): Buffer;
}

/** @internal */
export type ChainItems<R> = Iterable<R | readonly R[]> | AsyncIterable<R | readonly R[]>;

/** Checks each note's form, origin and signature; the good ones become root checks, in size order. */
function scheduleCheckpoints(
  input: Omit<VerifyLogInput, 'rows'>,
  problems: VerificationFault[],
): Scheduled[] {
  const scheduled: Scheduled[] = [];
  const origin = input.origin;
  const sets: [readonly CheckpointNote[], boolean][] = [
    [input.checkpoints, false],
    [input.externalCheckpoints ?? [], true],
  ];
  for (const [notes, external] of sets) {
    notes.forEach(({ note }, i) => {
      const kind = external ? 'external checkpoint' : 'checkpoint';
      const v = verifyCheckpoint(note, input.trustedKeys, input.keyName ?? input.origin);
      const cp = v.checkpoint;
      if (!cp) {
        const message = `${kind} #${i + 1}: malformed: ${v.fault?.message ?? ''}`;
        problems.push(makeFault('checkpoint.malformed', message, { origin }));
        return;
      }
      const label = `${kind} at size ${cp.size}`;
      if (cp.origin !== origin) {
        const message = `${label}: is for origin ${JSON.stringify(cp.origin)}, not this log ${JSON.stringify(origin)}`;
        problems.push(makeFault('checkpoint.origin_mismatch', message, { origin }));
      } else if (input.trustedKeys.length === 0) {
        const message = `${label}: no trusted keys were given to verify its signature`;
        problems.push(makeFault('checkpoint.untrusted', message, { origin }));
      } else if (!v.ok && v.fault) {
        problems.push(makeFault(v.fault.code, `${label}: ${v.fault.message}`, { origin }));
      } else {
        scheduled.push({ size: cp.size, root: cp.root, label, external });
      }
    });
  }
  // Stable: a stored checkpoint is checked before an external one of the same size.
  return scheduled.sort((a, b) => a.size - b.size);
}

/** What {@link verifyLogResult} is built from: everything a verification of one log counted. */
export interface VerifyLogTally {
  origin: string;
  count: number;
  /** Checkpoint faults, in the order found. */
  checkpointFaults: readonly VerificationFault[];
  /** The row or root fault that stopped reading, if any: it comes first in `problems`. */
  rowFault?: VerificationFault;
  checkpointsVerified: number;
  anchoredSize: number;
  externallyAnchoredSize: number;
  root: string;
}

/**
 * The one way a {@link VerifyLogResult} is made: `problems` has the row fault first, `reason` and
 * `firstBadSeq` follow from it, and `untrustedCheckpoints` is counted from the codes.
 */
export function verifyLogResult(t: VerifyLogTally): VerifyLogResult {
  const problems = t.rowFault ? [t.rowFault, ...t.checkpointFaults] : [...t.checkpointFaults];
  const result: VerifyLogResult = {
    ok: problems.length === 0,
    origin: t.origin,
    count: t.count,
    problems,
    checkpointsVerified: t.checkpointsVerified,
    untrustedCheckpoints: t.checkpointFaults.filter((f) => f.code === 'checkpoint.untrusted').length,
    anchoredSize: t.anchoredSize,
    externallyAnchoredSize: t.externallyAnchoredSize,
    root: t.root,
  };
  if (t.rowFault?.seq !== undefined) result.firstBadSeq = t.rowFault.seq;
  if (problems[0]) result.reason = formatFault(problems[0]);
  return result;
}

/**
 * Verifies a log: rows in seq order must each link to the previous one and hash to their stored hash;
 * every checkpoint must be well-formed, for this origin, signed by a trusted key, and its root must
 * equal the Merkle root of the first `size` rows, which must all be present. Names the first bad seq
 * and why. Throws only for unusable input (an invalid origin, or the row source failing).
 */
export async function verifyLog(input: VerifyLogInput): Promise<VerifyLogResult> {
  return verifyChain(input, new LogState(input.origin), input.rows);
}

/**
 * {@link verifyLog} over any {@link ChainProgress}: the one place a log's faults, checkpoint checks
 * and result are made, whether its rows are checked here or in ranges elsewhere.
 * @internal
 */
export async function verifyChain<R>(
  input: Omit<VerifyLogInput, 'rows'>,
  state: ChainProgress<R>,
  rows: ChainItems<R>,
): Promise<VerifyLogResult> {
  const origin = input.origin;
  const checkpointFaults: VerificationFault[] = [];
  const pending = scheduleCheckpoints(input, checkpointFaults);
  let next = 0;
  let verifiedSize = 0;
  let externalSize = 0;
  let checkpointsVerified = 0;
  let fault: VerificationFault | undefined;
  const onProgress = input.onProgress;

  // Compares the root at the current size with every checkpoint of exactly that size.
  const checkRoots = (): void => {
    const size = state.size;
    // Only a checkpoint of a smaller size bounds a mismatch at this one from below.
    const floor = verifiedSize;
    let root: Buffer | undefined;
    while (!fault && next < pending.length && pending[next]!.size === size) {
      const cp = pending[next++]!;
      root ??= state.root();
      if (root.equals(cp.root)) {
        checkpointsVerified++;
        verifiedSize = size;
        if (cp.external) externalSize = size;
        continue;
      }
      // The chain cannot say which row changed; a checkpoint that still matched bounds it from below.
      const from = floor + 1;
      const range = from === size ? `seq ${size}` : `seq ${from}..${size}`;
      const why = cp.external
        ? 'this log has forked from, or rewritten, the history that checkpoint saw'
        : 'rows in this range were rewritten and the chain recomputed after it was signed';
      const message = `${range}: the Merkle root of the first ${size} rows does not match the signed ${cp.label} (${why})`;
      fault = makeFault(cp.external ? 'checkpoint.forked' : 'checkpoint.root_mismatch', message, {
        origin,
        seq: from,
      });
    }
  };

  const step = (row: R): boolean => {
    const f = state.appendStored(row);
    if (f) {
      fault = makeFault(f.code, f.reason, { origin, seq: f.seq });
      return true;
    }
    if (next < pending.length && pending[next]!.size === state.size) checkRoots();
    if (onProgress && state.size % PROGRESS_EVERY === 0) onProgress(state.size);
    return fault !== undefined;
  };
  const consume = (item: R | readonly R[]): boolean => {
    if (!isBatch(item)) return step(item);
    for (const row of item) if (step(row)) return true;
    return false;
  };

  checkRoots(); // checkpoints of size 0
  if (!fault) {
    if (isAsync(rows)) {
      for await (const item of rows) if (consume(item)) break;
    } else {
      for (const item of rows) if (consume(item)) break;
    }
  }
  if (!fault && next < pending.length) {
    // Every checkpoint left covers more rows than the log has.
    const cp = pending[pending.length - 1]!;
    const count = state.size;
    const range = count + 1 === cp.size ? `seq ${cp.size}` : `seq ${count + 1}..${cp.size}`;
    const why = cp.external ? 'log truncated or rolled back' : 'log truncated';
    const message = `${range}: missing: the log has ${count} rows but the signed ${cp.label} covers ${cp.size} (${why})`;
    fault = makeFault(cp.external ? 'checkpoint.rollback' : 'checkpoint.beyond_log', message, {
      origin,
      seq: count + 1,
    });
  }
  if (onProgress) onProgress(state.size);

  return verifyLogResult({
    origin,
    count: state.size,
    checkpointFaults,
    rowFault: fault,
    checkpointsVerified,
    anchoredSize: verifiedSize,
    externallyAnchoredSize: externalSize,
    root: state.root().toString('base64'),
  });
}
