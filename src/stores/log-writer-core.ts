import type { SigningKey, TrustedKey } from '../keys/keys.js';
import { canonicalJson } from '../log-format/canonical.js';
import { canonicalColumns, type StorableForm } from '../log-format/canonical-columns.js';
import { LogState } from '../log-format/chain.js';
import { type AuditEvent, EVENT_COLUMNS, type StoredAuditEvent } from '../pipeline/event.js';
import { type StoredCheckpoint, StoreError } from './audit-store.js';
import { rowFromColumns } from './row-from-columns.js';
import { StoreListeners } from './store-listeners.js';
import {
  checkCheckpointedRow,
  restoreWriterState,
  type SavedCheckpoint,
  signWriterCheckpoint,
  tamperedStoreMessage,
} from './writer-checkpoint.js';

/**
 * What every store's writer does whatever its database: the chain state, the rows of an append with
 * their bind values, rollback of the chain when the insert fails, checkpoint cadence and signing,
 * resuming a log (last signed checkpoint, the row it signed, every row after it) and the listeners.
 * A driver feeds it with its I/O alone: it runs the insert, the reads and the transactions.
 */

/** The rows of one append as the driver writes them. */
export interface ChainedAppend {
  /** The rows as stored (returned to the caller, told to listeners). */
  readonly rows: StoredAuditEvent[];
  /** One array per row, the values in `TABLE_COLUMNS` order, for an insert bound by position. */
  readonly binds: unknown[][];
}

/** Options of {@link LogWriterCore}. */
export interface LogWriterCoreOptions {
  /** The store, for messages. */
  location: string;
  origin: string;
  /** Sign a checkpoint every this many events. */
  checkpointEvery: number;
  /** Named in a tampered store's message (PostgreSQL has one log per writer among many). */
  nameOriginInMessages?: boolean;
}

/** See the file comment. One per writer; not shared between threads. */
export class LogWriterCore {
  readonly origin: string;
  readonly listeners = new StoreListeners();
  key: SigningKey | undefined;
  #state: LogState;
  #lastCheckpointSize = 0;
  readonly #options: LogWriterCoreOptions;

  constructor(options: LogWriterCoreOptions) {
    this.#options = options;
    this.origin = options.origin;
    this.#state = new LogState(options.origin);
  }

  /** The chain as it stands (read it; {@link chain} and {@link replay} are what change it). */
  get state(): LogState {
    return this.#state;
  }

  /** Size of the log at the last checkpoint this writer signed or resumed from. */
  get lastCheckpointSize(): number {
    return this.#lastCheckpointSize;
  }

  /**
   * Chains `events` onto the log and returns their rows and bind values; the driver inserts them and
   * calls {@link rollback} with the returned token if that fails. `storable` makes each event
   * storable (what the database cannot hold replaced) before it is hashed, so it reads back byte for
   * byte; it runs only when its pattern matches the event's canonical text.
   */
  chain(events: readonly AuditEvent[], storable: StorableForm): ChainedAppend {
    const rows: StoredAuditEvent[] = [];
    const binds: unknown[][] = [];
    const state = this.#state;
    const origin = this.origin;
    for (const given of events) {
      // One walk of the event fills the bind array and yields the canonical text it hashes.
      const values: unknown[] = new Array(EVENT_COLUMNS.length + 4);
      let canonical = canonicalColumns(given, origin, values, 2);
      if (canonical === undefined || storable.suspect.test(canonical)) {
        const event = storable.prepare(given);
        canonical = canonicalColumns(event, origin, values, 2);
        if (canonical === undefined) {
          // Values in another form than their column's (a number as text): the general path.
          for (let i = 0; i < EVENT_COLUMNS.length; i++) values[i + 2] = event[EVENT_COLUMNS[i]!] ?? null;
          canonical = canonicalJson(event, origin);
        }
      }
      const { seq, prev_hash, hash } = state.appendCanonical(canonical);
      values[0] = seq;
      values[1] = origin;
      values[EVENT_COLUMNS.length + 2] = prev_hash;
      values[EVENT_COLUMNS.length + 3] = hash;
      rows.push(rowFromColumns(values));
      binds.push(values);
    }
    return { rows, binds };
  }

  /** A copy of the chain to go back to if the transaction about to run fails. */
  savepoint(): LogState {
    return this.#state.clone();
  }

  /** The rows were rolled back, so the chain must be too. */
  rollback(to: LogState): void {
    this.#state = to;
  }

  /** The append is committed: tells the listeners; returns whether a checkpoint is due. */
  committed(rows: StoredAuditEvent[]): boolean {
    this.listeners.appended(rows);
    return this.#state.size - this.#lastCheckpointSize >= this.#options.checkpointEvery;
  }

  /** Whether the log grew since the last checkpoint (the interval timer's test). */
  grown(): boolean {
    return this.#state.size > this.#lastCheckpointSize;
  }

  /**
   * A signed checkpoint of the log as it stands and the row that stores it, or undefined when there is
   * nothing new to sign (no key, an empty log, or `storedSize`, the largest stored, already covers it).
   */
  sign(storedSize = this.#lastCheckpointSize): { checkpoint: StoredCheckpoint; state: string } | undefined {
    const state = this.#state;
    if (!this.key || state.size === 0 || storedSize >= state.size) return undefined;
    return signWriterCheckpoint(this.origin, state, this.key);
  }

  /** The checkpoint is stored (or found to be): the cadence restarts; listeners hear of a new one. */
  checkpointed(checkpoint: StoredCheckpoint | undefined, size = this.#state.size): void {
    this.#lastCheckpointSize = size;
    if (checkpoint) this.listeners.checkpointed(checkpoint);
  }

  /**
   * Resuming a log: the chain state saved with its last signed checkpoint (verified under `keys`), or
   * an empty chain when there is none. The driver then passes the hash of the row at the checkpoint's
   * size to {@link checkTail} and every later row to {@link replay}.
   */
  resumeFrom(saved: SavedCheckpoint | undefined, keys: () => readonly TrustedKey[]): LogState {
    this.#state = saved
      ? restoreWriterState(saved, keys(), (reason) => this.tampered(reason))
      : new LogState(this.origin);
    return this.#state;
  }

  /** The row the last checkpoint signed must still be there, unchanged. */
  checkTail(hash: string | undefined): void {
    checkCheckpointedRow(this.#state, hash, (reason) => this.tampered(reason));
  }

  /** A stored row after the resumed state (or another process's, on a shared file): checked, then chained. */
  replay(row: StoredAuditEvent): void {
    const fault = this.#state.appendStored(row);
    if (fault) throw new StoreError(this.tampered(fault.reason), 'tampered');
  }

  /** Resumed: the checkpoint cadence counts from `size`. */
  resumed(size = this.#state.size): void {
    this.#lastCheckpointSize = size;
  }

  /** The message of a store that refuses to append because its log is broken. */
  tampered(reason: string): string {
    return tamperedStoreMessage(
      this.#options.location,
      reason,
      this.#options.nameOriginInMessages ? this.origin : undefined,
    );
  }
}
