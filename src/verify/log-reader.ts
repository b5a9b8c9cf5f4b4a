import type { TrustedKey } from '../keys/keys.js';
import type { LogRow } from '../log-format/chain.js';
import type { StoredAuditEvent } from '../pipeline/event.js';
import type { StoredCheckpoint, StructureProblem } from '../stores/audit-store.js';

/**
 * What verification reads from a store: its logs, checkpoints and recorded keys, and the checks the
 * database can run on itself. The stores in `stores/` satisfy it; so can any other reader of a log.
 * Optional members are faster or stricter paths a store may offer.
 */
export interface AuditLogReader {
  /** Every origin (writer log) in the store. */
  origins(): Promise<string[]>;
  /** One origin's rows in seq order, in batches. */
  readLog(origin: string, batchSize?: number): AsyncIterable<StoredAuditEvent[]>;
  /** {@link readLog}, synchronously: verification then skips an await per batch. */
  readLogSync?(origin: string, batchSize?: number): Iterable<StoredAuditEvent[]>;
  /** Rows with their canonical text rendered by the database. */
  readLogPrerendered?(origin: string, batchSize?: number): Iterable<LogRow[]>;
  /** Checkpoints stored in the log, ascending by size. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  /** Public keys recorded in the store for its checkpoints. */
  recordedKeys(): Promise<TrustedKey[]>;
  /** The recorded keys that may sign `origin`'s checkpoints, where keys are bound to writers. */
  recordedKeysFor?(origin: string): Promise<TrustedKey[]>;
  /** The database's own soundness; empty when sound. */
  structureProblems?(): Promise<StructureProblem[]>;
  /** How the database differs from the store's migration; one sentence each. */
  integrityProblems?(): Promise<string[]>;
  /** One read-only SQL statement (the gap records are read through it). */
  sql(text: string): Promise<Record<string, unknown>[]>;
}
