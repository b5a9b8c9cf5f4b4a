// The worker thread of verification in ranges (verify-ranges.ts; docs/log-format.md, "Verification"):
// it opens the SQLite file read-only on its own connection, so the reading, which bounds
// verification, runs on as many cores as there are workers, and checks the chain of each range it is
// given. It loads the log format and the SQLite reader only: no SDK, exporter or PostgreSQL driver.
import { parentPort, workerData } from 'node:worker_threads';
import { type ChainFault, hexOf, LogState, type StoredRow } from '../log-format/chain.js';
import { openSameFile } from '../stores/file-identity.js';
import { openSqlite, type SqliteDatabase, type SqliteDriverName } from '../stores/sqlite-driver.js';
import { readPrerendered } from '../stores/sqlite-prerendered.js';
import { readWholeRows } from '../stores/sqlite-rows.js';

/** What a worker is started with. */
export interface RangeWorkerData {
  path: string;
  /** The file the store opened (`file-identity.ts`): any other file at `path` is refused. */
  identity: string;
  driver?: SqliteDriverName;
  origin: string;
  batchSize: number;
  /** Log sizes at which to report the range's frontier: every checkpoint's size, ascending. */
  marks: readonly number[];
  progressEvery: number;
  /** Tests only: fail on this range, by throwing or by ending the thread. */
  fail?: { range: number; how: 'throw' | 'exit' };
  /** Tests only: hold this range back for `ms` before checking it, so later ranges finish first. */
  delay?: { range: number; ms: number };
}

/** One range to check: the rows with `after < seq ≤ upTo` (no upper bound for the last range). */
export interface RangeTask {
  range: number;
  after: number;
  upTo?: number;
}

/** The range's own Merkle frontier at a log size: hex subtree roots, largest first. */
export interface RangeFrontier {
  size: number;
  frontier: string[];
}

/** What a worker found in a range; a range with no rows has no `first`. */
export interface RangeResult {
  range: number;
  /** The first row's link columns, for the check across the range's start. */
  first?: Pick<StoredRow, 'seq' | 'origin' | 'prev_hash'>;
  /** The range's frontier at each mark it reached, before its end. */
  marks: RangeFrontier[];
  /** Where the range's checked rows end: their count's log size and frontier, and the last hash. */
  end: RangeFrontier & { lastHash: string };
  /** The first row after `end` that is not the next link. */
  fault?: ChainFault;
}

/** Messages a worker posts. */
export type RangeWorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; rows: number }
  | { type: 'done'; result: RangeResult }
  | { type: 'error'; range: number; message: string };

/** Checks one range's rows: each link inside it, trusting the first row's prev_hash (checked by the caller). */
export function checkRange(
  db: SqliteDatabase,
  data: RangeWorkerData,
  task: RangeTask,
  progress: (n: number) => void,
): RangeResult {
  const { origin, batchSize, marks } = data;
  const range = { after: task.after, upTo: task.upTo };
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new Error(`store ${data.path}: ${describeSqlite(err)}`, { cause: err });
    }
  };
  const rows = readPrerendered(
    db,
    origin,
    batchSize,
    {
      wholeRows: (after) => readWholeRows(db, origin, batchSize, { after, upTo: task.upTo }, guard),
      guard,
    },
    range,
  );
  const result: RangeResult = {
    range: task.range,
    marks: [],
    end: { size: task.after, frontier: [], lastHash: '' },
  };
  let state: LogState | undefined;
  let mark = marks.findIndex((m) => m > task.after);
  if (mark < 0) mark = marks.length;
  let unreported = 0;
  outer: for (const batch of rows) {
    for (const row of batch) {
      if (!state) {
        result.first = { seq: row.seq, origin: row.origin, prev_hash: row.prev_hash };
        const prev = hexOf(row.prev_hash);
        // Not a hash: the caller's link check fails on this row, whatever came before.
        if (prev === undefined || !/^[0-9a-f]{64}$/.test(prev)) break outer;
        state = LogState.forRange(origin, task.after, prev);
      }
      const fault = state.appendStored(row);
      if (fault) {
        result.fault = fault;
        break outer;
      }
      const size = state.size;
      while (mark < marks.length && marks[mark]! < size) mark++;
      if (marks[mark] === size) result.marks.push({ size, frontier: state.merkle.snapshot().frontier });
      if (++unreported === data.progressEvery) {
        progress(unreported);
        unreported = 0;
      }
    }
  }
  if (unreported > 0) progress(unreported);
  if (state) {
    result.end = { size: state.size, frontier: state.merkle.snapshot().frontier, lastHash: state.lastHash };
    // A mark at the range's end is the end itself.
    if (result.marks.at(-1)?.size === state.size) result.marks.pop();
  }
  return result;
}

function describeSqlite(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  return e?.code ? `${e.code}: ${msg}` : msg;
}

function serve(port: NonNullable<typeof parentPort>, data: RangeWorkerData): void {
  let db: SqliteDatabase;
  try {
    db = openSameFile(data.path, data.identity, () =>
      openSqlite(data.path, { readonly: true, driver: data.driver }),
    );
  } catch (err) {
    port.postMessage({
      type: 'error',
      range: -1,
      message: `store ${data.path}: cannot open: ${describeSqlite(err)}`,
    });
    return;
  }
  port.on('message', (task: RangeTask | { type: 'close' }) => {
    if ('type' in task) {
      db.close();
      port.close();
      return;
    }
    try {
      if (data.delay?.range === task.range) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, data.delay.ms);
      }
      if (data.fail?.range === task.range) {
        if (data.fail.how === 'exit') process.exit(70);
        throw new Error('forced failure');
      }
      const result = checkRange(db, data, task, (rows) => port.postMessage({ type: 'progress', rows }));
      port.postMessage({ type: 'done', result } satisfies RangeWorkerMessage);
    } catch (err) {
      port.postMessage({ type: 'error', range: task.range, message: (err as Error).message ?? String(err) });
    }
  });
  port.postMessage({ type: 'ready' } satisfies RangeWorkerMessage);
}

if (parentPort) serve(parentPort, workerData as RangeWorkerData);
