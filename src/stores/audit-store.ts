import { OnbehalfError } from '../errors/onbehalf-error.js';
import type { VerificationFault } from '../errors/verification-fault.js';
import type { SigningKey, TrustedKey } from '../keys/keys.js';
import type { AuditEvent } from '../pipeline/event.js';
import type { AuditLogReader, AuditLogWriter, QueryableAuditStore } from './capabilities.js';

/** Filters of {@link AuditStore.query}; all given ones must hold. */
export interface AuditQuery {
  actorType?: 'agent' | 'human' | 'service';
  /** `actor_id` (or `actor_name`). */
  actor?: string;
  onBehalfOf?: string;
  /** `trigger_id`, or `type:id` (e.g. `email:msg-8821`). */
  trigger?: string;
  action?: string;
  /**
   * `target` matching a glob: `*` any run of characters, `?` one; letters A–Z match either case
   * (e.g. `patient/*`; PostgreSQL also folds other letters). Without a wildcard, the whole target must match.
   */
  target?: string;
  /** Where the attribution came from: `local`, `verified` or `unverified`. */
  provenance?: NonNullable<AuditEvent['provenance']>;
  /** `approval_state`, e.g. `approved` or `not_required`. */
  approval?: string;
  /** ISO 8601; inclusive. */
  since?: string;
  /** ISO 8601; exclusive. */
  until?: string;
  /** Record types to include; all by default. */
  recordTypes?: AuditEvent['record_type'][];
  /** By timestamp then seq; `asc` by default. */
  order?: 'asc' | 'desc';
  limit?: number;
}

/** A signed checkpoint as stored in the log. */
export interface StoredCheckpoint {
  origin: string;
  size: number;
  /** Base64 RFC 6962 Merkle root of the first `size` leaves. */
  root: string;
  /** The C2SP signed note. */
  note: string;
  created_at: string;
}

/** Thrown when a store cannot be opened or used; the message names the store and what is wrong. */
export class StoreError extends OnbehalfError {
  override name = 'StoreError';
  constructor(
    message: string,
    /** `unusable` (cannot read it at all), `tampered` (its chain is broken), or `unwritable`. */
    readonly kind: 'unusable' | 'tampered' | 'unwritable' = 'unusable',
    options?: ErrorOptions,
  ) {
    super(`store.${kind}`, message, options);
  }
}

/**
 * A way the database itself differs from what its rows' verification assumes (an index that no longer
 * matches its table, a schema that is not the migration's, a value of the wrong type, a row outside
 * every chain): queries could then show rows verify never checked, or hide rows it did.
 */
export interface StructureProblem extends VerificationFault {
  /** The column at fault, when one is. */
  readonly column?: string;
  /**
   * Whether a query could read other rows than verify checked (an index, a table or a value), rather
   * than the store only being changed around its rows (a trigger dropped, `audit_meta` edited).
   */
  hidesRows: boolean;
}

/** Options of {@link AuditStore.sql}. */
export interface SqlOptions {
  /**
   * Cancel the statement after this many milliseconds (0: never). Default 30 000 for
   * {@link SqlOptions.untrusted} text, else the database's own setting.
   */
  timeoutMs?: number;
  /**
   * The text comes from a person (`onbehalf sql`), not from onbehalf: besides running read-only, the
   * store refuses a connection whose role could reach beyond the database (on PostgreSQL a superuser,
   * or a role that can `COPY … TO PROGRAM` or read the server's files).
   */
  untrusted?: boolean;
}

/** Options every store kind takes. */
export interface AuditStoreOptions {
  /** Open for reading only (verify, query, sql): nothing is created or written. */
  readonly?: boolean;
  /** Checkpoint signing key; by default one the store keeps beside itself, created on first use. */
  signingKey?: SigningKey;
  /** Sign a checkpoint every this many events (default 1000)… */
  checkpointEvery?: number;
  /** …or this often when events arrived (default 60 s), and always on close. */
  checkpointIntervalMs?: number;
}

/**
 * An append-only, tamper-evident store of audit events: one hash chain per writer (`origin`), with
 * signed checkpoints. SQLite ({@link SqliteAuditStore}) embedded, PostgreSQL for a fleet. It is a
 * writer, a log reader and a queryable store (`capabilities.ts`); a store that commits or reads
 * synchronously also is a `SyncAuditLogWriter` / `SyncAuditLogReader` (`isSyncWriter`, `isSyncReader`).
 */
export interface AuditStore extends AuditLogWriter, AuditLogReader, QueryableAuditStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the store is, for messages (a path, or a URL without its password). */
  readonly location: string;
  /** This writer's log. */
  readonly origin: string;
  /** Resolves once the store is usable (connected, schema in place); rejects with a {@link StoreError} otherwise. */
  ready?(): Promise<void>;
  /**
   * The recorded keys that may sign `origin`'s checkpoints, for stores that bind keys to writers
   * (PostgreSQL: those recorded by the login role that registered the origin).
   */
  recordedKeysFor?(origin: string): Promise<TrustedKey[]>;
  /**
   * How the database differs from what the store's migration made (triggers, policies, functions,
   * grants) and rows it cannot use (a key row that is not a key): one fault each, none when sound.
   */
  integrityProblems?(): Promise<VerificationFault[]>;
  /** Writes a last checkpoint (if writable) and closes. */
  close(): Promise<void>;
}
