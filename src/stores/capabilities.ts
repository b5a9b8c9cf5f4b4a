import type { TrustedKey } from '../keys/keys.js';
import type { LogRow } from '../log-format/chain.js';
import type { AuditEvent, StoredAuditEvent } from '../pipeline/event.js';
import type { AuditQuery, SqlOptions, StoredCheckpoint, StructureProblem } from './audit-store.js';

/**
 * What a store can do, one interface per capability, so a caller names what it needs instead of
 * probing optional members at run time: the audit pipeline needs a writer, `verify` a log reader,
 * the CLI's `query` and `sql` a queryable store. The synchronous forms are separate interfaces that a
 * store has or has not (SQLite has them, PostgreSQL does not); the guards below tell them apart.
 */

/** Appends to this writer's log and signs its checkpoints. */
export interface AuditLogWriter {
  /** This writer's log. */
  readonly origin: string;
  /** Appends events in order, in one transaction, and returns them as stored. */
  append(events: readonly AuditEvent[]): Promise<StoredAuditEvent[]>;
  /** Writes a signed checkpoint of this writer's log now, if it grew since the last one. */
  checkpoint(): Promise<StoredCheckpoint | undefined>;
  /** Calls `listener` with every checkpoint this writer signs (e.g. to ship it off-host). */
  onCheckpoint(listener: (checkpoint: StoredCheckpoint) => void): void;
  /** Calls `listener` with the rows of every append once they are committed (e.g. to ship them as OTLP logs). */
  onAppend(listener: (rows: StoredAuditEvent[]) => void): void;
}

/** A writer that commits on the calling thread: the append is durable when the call returns. */
export interface SyncAuditLogWriter extends AuditLogWriter {
  /** {@link AuditLogWriter.append}, committed before it returns. */
  appendSync(events: readonly AuditEvent[]): StoredAuditEvent[];
}

/** Reads logs back for verification. */
export interface AuditLogReader {
  /** Every origin (writer log) in the store. */
  origins(): Promise<string[]>;
  /** One origin's rows in seq order, in batches. */
  readLog(origin: string, batchSize?: number): AsyncIterable<StoredAuditEvent[]>;
  /** Checkpoints stored in the log, ascending by size; one origin's or all. */
  checkpoints(origin?: string): Promise<StoredCheckpoint[]>;
  /** Public keys recorded in the store for its checkpoints (consistency only: pin keys to prove authenticity). */
  recordedKeys(): Promise<TrustedKey[]>;
}

/** A reader that reads on the calling thread: verification then skips an await per batch. */
export interface SyncAuditLogReader extends AuditLogReader {
  /** {@link AuditLogReader.readLog}, synchronously. */
  readLogSync(origin: string, batchSize?: number): Iterable<StoredAuditEvent[]>;
  /** Rows with their canonical text rendered by the database (an accelerator; see `sqlite-prerendered.ts`). */
  readLogPrerendered(origin: string, batchSize?: number): Iterable<LogRow[]>;
}

/** Answers the CLI's questions about stored rows. */
export interface QueryableAuditStore {
  /** Rows matching `q`. */
  query(q: AuditQuery): Promise<StoredAuditEvent[]>;
  /** Runs one read-only SQL statement. */
  sql(text: string, options?: SqlOptions): Promise<Record<string, unknown>[]>;
  /** The database's own soundness, for stores that can check it; empty when sound. */
  structureProblems?(): Promise<StructureProblem[]>;
}

/** Whether `store` reads synchronously ({@link SyncAuditLogReader}). */
export function isSyncReader<S extends object>(store: S): store is S & SyncAuditLogReader {
  const s = store as Partial<SyncAuditLogReader>;
  return typeof s.readLogSync === 'function' && typeof s.readLogPrerendered === 'function';
}

// The pipeline declares what it writes to (pipeline/audit-sink.ts); the stores' writers satisfy it.
export {
  canRecordUnwritten,
  isSyncWriter,
  type UnwrittenEventsRecorder,
} from '../pipeline/audit-sink.js';
