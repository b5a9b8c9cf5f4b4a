import type { AuditEvent } from './event.js';

/**
 * What the audit pipeline needs of the place its events go: the stores in `stores/` satisfy it, and
 * the pipeline depends on nothing downstream of itself.
 */
export interface AuditSink {
  /** Appends events in order, in one transaction. */
  append(events: readonly AuditEvent[]): Promise<unknown>;
  /** The same, committed before it returns; only sinks that can (SQLite) have it. */
  appendSync?(events: readonly AuditEvent[]): unknown;
  /** Writes a signed checkpoint now, if the log grew since the last one. */
  checkpoint(): Promise<unknown>;
  /** Writes a last checkpoint and closes. */
  close(): Promise<void>;
}
