import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ChainFault, GENESIS_HASH, LogState, linkFault } from '../log-format/chain.js';
import { parseCheckpoint } from '../log-format/checkpoint.js';
import { MerkleFrontier } from '../log-format/merkle.js';
import { StoreError, type StructureProblem } from '../stores/audit-store.js';
import { fileIdentity, openSameFile } from '../stores/file-identity.js';
import { openSqlite, type SqliteDatabase } from '../stores/sqlite-driver.js';
import type { AuditLogReader } from './log-reader.js';
import type { StructureWorkerData, StructureWorkerMessage } from './structure-worker.js';
import {
  type ChainProgress,
  PROGRESS_EVERY,
  type VerifyLogInput,
  type VerifyLogResult,
  verifyChain,
  verifyLog,
} from './verify-log.js';
import type {
  RangeFrontier,
  RangeResult,
  RangeTask,
  RangeWorkerData,
  RangeWorkerMessage,
} from './verify-worker.js';

/**
 * Verification of one log in ranges, on worker threads (docs/log-format.md, "Verification"). The log
 * is cut at multiples of a power of two, so each whole range is one perfect subtree of the log's
 * Merkle tree; each worker opens the SQLite file itself and checks the links inside its ranges, and
 * this thread checks the links across range ends and feeds the ranges, in order, to the same
 * {@link verifyChain} the sequential path runs: the same faults, the same checkpoint checks, the
 * same result.
 */

/**
 * Worker threads when `workers` is not given: one per core on a machine with more than two, none on
 * two or fewer, where they measured slower than the calling thread (a 100k-row store: 2.2–2.3 s
 * against 1.6–1.8 s, `node bench/profile-verify.mjs 2` against `… 1`): the structure check and the
 * ranges then share two cores, and each thread's start, JIT and GC are not paid back.
 */
function defaultWorkers(): number {
  const cores = availableParallelism();
  return cores > 2 ? cores : 1;
}

/** Below this many rows a log is verified on the calling thread unless `workers` asks otherwise. */
export const PARALLEL_MIN_ROWS = 50_000;

const MIN_RANGE = 2 ** 12;
const MAX_RANGE = 2 ** 20;

/** Tuning of verification in ranges, for tests only (not exported by the package). */
export interface RangeTuning {
  /** Rows per range, a power of two. */
  rangeRows?: number;
  /** Make the worker given this range fail: throw, or end its thread. */
  fail?: { range: number; how: 'throw' | 'exit' };
  /** Hold this range back for `ms` before checking it, so later ranges finish (or fail) first. */
  delay?: { range: number; ms: number };
  /** Make the structure worker fail: throw, or end its thread. */
  failStructure?: 'throw' | 'exit';
}

/** The key of {@link RangeTuning} in `verifyAuditStore`'s options. */
export const RANGE_TUNING: unique symbol = Symbol('onbehalf.verify.rangeTuning');

/** How verification in ranges is asked for: `workers` (0 or 1: on the calling thread), plus tuning. */
export interface RangeOptions {
  workers?: number;
  [RANGE_TUNING]?: RangeTuning;
}

/**
 * Verifies one log of `store`: in ranges on worker threads when the store is a SQLite file, more than
 * one worker is asked for (by default: more than two cores, and at least {@link PARALLEL_MIN_ROWS}
 * rows), else with {@link verifyLog} on this thread. PostgreSQL stays on this thread.
 */
export async function verifyStoredLog(
  store: AuditLogReader,
  options: RangeOptions,
  input: VerifyLogInput,
): Promise<VerifyLogResult> {
  const asked = options.workers;
  if (asked !== undefined && (!Number.isSafeInteger(asked) || asked < 0)) {
    throw new RangeError(`verify: workers must be a whole number (0 or 1: no worker threads), got ${asked}`);
  }
  const workers = asked ?? defaultWorkers();
  const file = sqliteFileOf(store);
  if (workers <= 1 || file === undefined) return verifyLog(input);
  const state = new RangeState(input.origin);
  const rows = rowCount(file, input.origin);
  if (asked === undefined && rows < PARALLEL_MIN_ROWS) return verifyLog(input);
  const tuning = options[RANGE_TUNING] ?? {};
  const rangeRows = tuning.rangeRows ?? rangeSize(rows, workers);
  if (!Number.isSafeInteger(rangeRows) || !Number.isInteger(Math.log2(rangeRows))) {
    throw new RangeError(`verify: rows per range must be a power of two, got ${rangeRows}`);
  }
  // As many ranges as the rows fill: a row at a far seq falls into the last, open-ended, range.
  const count = Math.max(1, Math.ceil(rows / rangeRows));
  const tasks: RangeTask[] = [];
  for (let i = 0; i < count; i++) {
    tasks.push({ range: i, after: i * rangeRows, upTo: i === count - 1 ? undefined : (i + 1) * rangeRows });
  }
  const pool = new RangePool(
    {
      path: file.path,
      identity: file.identity,
      origin: input.origin,
      batchSize: 5000,
      marks: checkpointSizes(input),
      progressEvery: PROGRESS_EVERY,
      fail: tuning.fail,
      delay: tuning.delay,
    },
    tasks,
    Math.min(workers, count),
    input.onProgress,
  );
  try {
    const result = await verifyChain({ ...input, onProgress: undefined }, state, pool.items(state));
    input.onProgress?.(result.count);
    return result;
  } finally {
    await pool.close();
  }
}

/** The SQLite file a store reads, and which file it is. */
interface StoreFile {
  path: string;
  identity: string;
}

/**
 * The SQLite file a store reads, when other connections can open it too: only while its path still
 * names the file the store opened (a file swapped in under the same name is verified nowhere but on
 * the store's own connection, which still reads the file it opened).
 */
function sqliteFileOf(store: AuditLogReader): StoreFile | undefined {
  const s = store as Partial<{ kind: string; location: string; fileIdentity: string }>;
  if (s.kind !== 'sqlite' || typeof s.location !== 'string' || s.fileIdentity === undefined) return undefined;
  if (fileIdentity(s.location) !== s.fileIdentity) return undefined;
  return { path: s.location, identity: s.fileIdentity };
}

/** Whether the file holds enough rows for a structure worker; one that cannot be counted is checked here. */
function worthAWorker(file: StoreFile): boolean {
  try {
    return rowCount(file) >= PARALLEL_MIN_ROWS;
  } catch {
    // The store's own check, on this thread, says what is wrong with such a file.
    return false;
  }
}

/**
 * How many rows the log has (every log's, without `origin`), whatever their seqs: the ranges are
 * planned for that many, and a structure worker is started only for a file worth it.
 */
function rowCount({ path, identity }: StoreFile, origin?: string): number {
  let db: SqliteDatabase | undefined;
  try {
    db = openSameFile(path, identity, () => openSqlite(path, { readonly: true }));
    const row =
      origin === undefined
        ? db.prepare('SELECT count(*) AS n FROM audit_events').get()
        : db.prepare('SELECT count(*) AS n FROM audit_events WHERE origin = ?').get(origin);
    return (row as { n: number }).n;
  } catch (err) {
    throw new StoreError(
      `store ${path}: cannot plan verification in ranges: ${(err as Error).message}`,
      'unusable',
      { cause: err },
    );
  } finally {
    db?.close();
  }
}

/** About four ranges per worker, so a slow one does not leave the others idle. */
function rangeSize(rows: number, workers: number): number {
  const target = Math.ceil(rows / (workers * 4));
  let size = MIN_RANGE;
  while (size < target && size < MAX_RANGE) size *= 2;
  return size;
}

/** Every size a checkpoint (stored or external) names: each worker reports its frontier there. */
function checkpointSizes(input: VerifyLogInput): number[] {
  const sizes = new Set<number>();
  for (const { note } of [...input.checkpoints, ...(input.externalCheckpoints ?? [])]) {
    try {
      sizes.add(parseCheckpoint(note).size);
    } catch {
      // A note that does not parse is a fault verifyChain reports; it checks no root.
    }
  }
  return [...sizes].filter((s) => s > 0).sort((a, b) => a - b);
}

/** One step of a log verified in ranges, in the order its rows come. */
type RangeItem =
  | { kind: 'link'; result: RangeResult }
  | { kind: 'mark'; at: RangeFrontier }
  | { kind: 'end'; result: RangeResult }
  | { kind: 'fault'; fault: ChainFault };

/**
 * The log as its ranges come in: size, last hash and Merkle frontier at range ends, and the root at
 * each checkpoint size inside a range from the range's own frontier there.
 */
class RangeState implements ChainProgress<RangeItem> {
  readonly origin: string;
  size = 0;
  #lastHex = GENESIS_HASH;
  /** The log's frontier up to the end of the last range fed in. */
  #frontier = new MerkleFrontier();
  /** The root at `size` when it falls inside a range. */
  #inside: Buffer | undefined;

  constructor(origin: string) {
    // The origin check, and its error, of the sequential path.
    this.origin = new LogState(origin).origin;
  }

  appendStored(item: RangeItem): ChainFault | undefined {
    switch (item.kind) {
      case 'link':
        return linkFault(this.origin, this.size, this.#lastHex, item.result.first!);
      case 'mark': {
        const frontier = this.#frontier.clone();
        appendRange(frontier, item.at);
        this.size = item.at.size;
        this.#inside = frontier.root();
        return undefined;
      }
      case 'end':
        appendRange(this.#frontier, item.result.end);
        this.size = item.result.end.size;
        this.#lastHex = item.result.end.lastHash;
        this.#inside = undefined;
        return undefined;
      case 'fault':
        return item.fault;
    }
  }

  root(): Buffer {
    return this.#inside ?? this.#frontier.root();
  }
}

/** Appends a range's frontier (subtrees whose sizes are the bits of its row count, largest first). */
function appendRange(frontier: MerkleFrontier, at: RangeFrontier): void {
  let rows = at.size - frontier.size;
  let i = 0;
  for (let height = 52; height >= 0; height--) {
    const width = 2 ** height;
    if (rows < width) continue;
    frontier.appendSubtree(at.frontier[i++]!, height);
    rows -= width;
  }
  if (i !== at.frontier.length)
    throw new Error(`verify: a range's frontier at ${at.size} does not match its size`);
}

/** Where a worker entry is: beside this module, or (run from the TypeScript sources) in the build. */
function workerEntry(file = 'verify-worker.js'): URL {
  const here = fileURLToPath(import.meta.url);
  const beside = join(dirname(here), file);
  if (existsSync(beside)) return pathToFileURL(beside);
  return pathToFileURL(join(dirname(here), '../../dist/verify', file));
}

/**
 * The store's structure problems (`structureProblems()`), checked on a worker thread of its own when
 * the store's logs are verified in ranges, so the whole-file integrity check runs beside the ranges
 * instead of before them; otherwise by the store itself. The worker failing fails the verification.
 */
export async function structureProblemsOf(
  store: AuditLogReader,
  options: RangeOptions,
): Promise<readonly StructureProblem[]> {
  const file = sqliteFileOf(store);
  const workers = options.workers ?? defaultWorkers();
  const parallel = file !== undefined && workers > 1 && (options.workers !== undefined || worthAWorker(file));
  if (!parallel) return (await store.structureProblems?.()) ?? [];
  const { path, identity } = file;
  const data: StructureWorkerData = { path, identity, fail: options[RANGE_TUNING]?.failStructure };
  const worker = new Worker(workerEntry('structure-worker.js'), { workerData: data });
  const fail = (message: string) =>
    new StoreError(
      `verify: the worker thread checking the structure of ${path} failed, so the store was not verified: ${message}`,
      'unusable',
    );
  try {
    const [m] = (await Promise.race([
      once(worker, 'message'),
      once(worker, 'exit').then(([code]) => {
        throw fail(`the thread ended (exit code ${code}) before it answered`);
      }),
    ])) as [StructureWorkerMessage];
    if (m.type === 'error') throw fail(m.message);
    return m.problems;
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw fail((err as Error).message);
  } finally {
    void worker.terminate();
  }
}

/**
 * Worker threads taking ranges from a queue; results come out in range order. A worker's error or
 * crash fails the verification: the log is never judged on ranges not checked.
 */
class RangePool {
  readonly #workers: Worker[] = [];
  readonly #results = new Map<number, RangeResult>();
  readonly #tasks: RangeTask[];
  #queued = 0;
  #failure: Error | undefined;
  /** The range the failure is at: ranges before it are still checked by the workers holding them. */
  #failedAt = Number.POSITIVE_INFINITY;
  #waiting: { range: number; resolve: (r: RangeResult) => void; reject: (e: Error) => void } | undefined;
  #closing = false;
  #progress = 0;

  constructor(
    private readonly data: RangeWorkerData,
    tasks: RangeTask[],
    workers: number,
    private readonly onProgress: ((count: number) => void) | undefined,
  ) {
    this.#tasks = tasks;
    const entry = workerEntry();
    for (let i = 0; i < workers; i++) this.#start(entry);
  }

  #start(entry: URL): void {
    const worker = new Worker(entry, { workerData: this.data });
    this.#workers.push(worker);
    // The range this worker holds: a thread that dies takes only that range with it.
    let current: number | undefined;
    const give = () => {
      const task = this.#tasks[this.#queued];
      current = task?.range;
      if (task) {
        this.#queued++;
        worker.postMessage(task);
      }
    };
    worker.on('message', (m: RangeWorkerMessage) => {
      if (m.type === 'ready') give();
      else if (m.type === 'progress') {
        this.#progress += m.rows;
        this.onProgress?.(this.#progress);
      } else if (m.type === 'done') {
        this.#results.set(m.result.range, m.result);
        give();
        this.#settle();
      } else this.#fail(m.range >= 0 ? m.range : current, m.message);
    });
    worker.on('error', (err) => this.#fail(current, `the thread failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (!this.#closing)
        this.#fail(current, `the thread ended (exit code ${code}) before its ranges were checked`);
    });
  }

  #fail(range: number | undefined, message: string): void {
    if (this.#closing) return;
    // A thread that held no range fails every range not handed out yet.
    const at = range ?? this.#queued;
    if (at >= this.#failedAt) return;
    this.#failedAt = at;
    const task = range === undefined ? undefined : this.#tasks[range];
    const where = task
      ? `seq ${task.after + 1}..${task.upTo ?? 'end'} of log ${JSON.stringify(this.data.origin)}`
      : `log ${JSON.stringify(this.data.origin)}`;
    this.#failure = new StoreError(
      `verify: a worker thread verifying ${where} failed, so the log was not verified: ${message}`,
      'unusable',
    );
    this.#settle();
  }

  #settle(): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    // A range checked before another failed still counts: its fault may stop verification first.
    const result = this.#results.get(waiting.range);
    if (result) {
      this.#waiting = undefined;
      this.#results.delete(waiting.range);
      waiting.resolve(result);
    } else if (this.#failure && waiting.range >= this.#failedAt) {
      this.#waiting = undefined;
      waiting.reject(this.#failure);
    }
  }

  #result(range: number): Promise<RangeResult> {
    return new Promise((resolve, reject) => {
      this.#waiting = { range, resolve, reject };
      this.#settle();
    });
  }

  /** Each range's steps, in order: the link across its start, its marks, its end, its fault. */
  async *items(state: RangeState): AsyncGenerator<RangeItem> {
    for (const task of this.#tasks) {
      const result = await this.#result(task.range);
      // A range with no rows: the next row of the log is the next range's first.
      if (!result.first) continue;
      yield { kind: 'link', result };
      // The link held, so the log so far ends where this range starts.
      if (state.size !== task.after)
        throw new Error(`verify: range at ${task.after} joined at ${state.size}`);
      for (const at of result.marks) yield { kind: 'mark', at };
      yield { kind: 'end', result };
      if (result.fault) {
        yield { kind: 'fault', fault: result.fault };
        return;
      }
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
