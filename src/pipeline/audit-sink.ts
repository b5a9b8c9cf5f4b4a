import type { AuditEvent } from './event.js';
import type { ExitLoss } from './exit-loss.js';

/**
 * What the audit pipeline needs of the place its events go: the stores in `stores/` satisfy it (see
 * `stores/capabilities.ts` for their full writer interfaces), and the pipeline depends on nothing
 * downstream of itself. A sink MUST append events in the order given, in one transaction per call,
 * and MUST NOT resolve `append` before the events are committed.
 */
export interface AuditSink {
  /** Appends events in order, in one transaction. */
  append(events: readonly AuditEvent[]): Promise<unknown>;
  /** Writes a signed checkpoint now, if the log grew since the last one. */
  checkpoint(): Promise<unknown>;
  /** Writes a last checkpoint and closes. */
  close(): Promise<void>;
}

/** A sink that commits on the calling thread: the append is durable when the call returns (SQLite). */
export interface SyncAuditSink extends AuditSink {
  appendSync(events: readonly AuditEvent[]): unknown;
}

/**
 * A sink whose appends are asynchronous (PostgreSQL) and which can still, synchronously, leave a note
 * of the events it could not write before its process ends; the next writer of the store turns the
 * note into a gap record. It MUST NOT throw for a note it could write.
 */
export interface UnwrittenEventsRecorder {
  recordUnwrittenSync(unwritten: ExitLoss): void;
}

/** Whether `sink` commits synchronously ({@link SyncAuditSink}). */
export function isSyncWriter<S extends object>(sink: S): sink is S & SyncAuditSink {
  return typeof (sink as Partial<SyncAuditSink>).appendSync === 'function';
}

/** Whether `sink` can leave a note of unwritten events at exit ({@link UnwrittenEventsRecorder}). */
export function canRecordUnwritten<S extends object>(sink: S): sink is S & UnwrittenEventsRecorder {
  return typeof (sink as Partial<UnwrittenEventsRecorder>).recordUnwrittenSync === 'function';
}
