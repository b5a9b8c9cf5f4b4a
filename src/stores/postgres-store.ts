import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { VerificationFault } from '../errors/verification-fault.js';
import { thisHostOrigins } from '../keys/key-binding.js';
import type { TrustedKey } from '../keys/keys.js';
import { reportProblem } from '../metrics/problem-channel.js';
import type { AuditEvent, StoredAuditEvent } from '../pipeline/event.js';
import type {
  AuditQuery,
  AuditStore,
  AuditStoreOptions,
  SqlOptions,
  StoredCheckpoint,
} from './audit-store.js';
import { StoreError } from './audit-store.js';
import { resolveCheckpointKey } from './checkpoint-key.js';
import { LogWriterCore } from './log-writer-core.js';
import { pgDriver } from './pg-driver.js';
import { describe, redactUrl } from './postgres-errors.js';
import { type KeyRow, keysFromRows } from './postgres-keys.js';
import { POSTGRES_MIGRATION_LOCK, POSTGRES_SCHEMA_VERSION, postgresMigration } from './postgres-schema.js';
import { postgresIntegrityProblems, probePostgresStore } from './postgres-schema-check.js';
import { runReadOnlySql } from './postgres-sql.js';
import { INSERT_EVENTS, POSTGRES_TEXT, pgTypes } from './postgres-values.js';
import { buildQuery, TABLE_COLUMNS } from './query-sql.js';
import { spoolUnwrittenSync, type UnwrittenEvents, writeUnwrittenNotes } from './unwritten-spool.js';
import type { SavedCheckpoint } from './writer-checkpoint.js';

/** Options of {@link PostgresAuditStore}; its checkpoint key defaults to `<keyDir>/signing-key.jwk`. */
export interface PostgresAuditStoreOptions extends AuditStoreOptions {
  /** Where the checkpoint key is kept when none is given; `./onbehalf-keys` by default. */
  keyDir?: string;
  /**
   * This writer's log. By default a new one per store instance, `onbehalf/<host>/<random>`, so writers
   * never share a chain. Naming one registered earlier by the same login role resumes it (its rows since
   * the last signed checkpoint are verified first); one registered by another role is refused.
   */
  origin?: string;
  /** Create or upgrade the schema, roles and grants when missing (default true; needs the owner's rights). */
  migrate?: boolean;
  /** Most connections (default 4). */
  maxConnections?: number;
  /** Accepted for symmetry with SQLite; PostgreSQL's own `synchronous_commit` decides durability. */
  durability?: 'normal' | 'strict';
}

/** The default directory of a PostgreSQL writer's checkpoint key. */
export const POSTGRES_KEY_DIR = './onbehalf-keys';

type Row = Record<string, unknown>;

/**
 * The fleet audit store: PostgreSQL, table `audit_events` with the same columns as SQLite, one hash
 * chain per writer (`origin`), so many hosts append at once without a global lock. Append-only by
 * trigger, grants and row-level security (see {@link postgresMigration}). Constructing it connects nothing; `ready()`
 * (awaited by {@link openAuditStore} and by the first append) connects and migrates.
 *
 * @example
 * const store = new PostgresAuditStore('postgres://agent-host@db.internal/audit');
 * await store.ready();
 */
export class PostgresAuditStore implements AuditStore {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly origin: string;
  private readonly pool: pg.Pool;
  private readonly options: PostgresAuditStoreOptions;
  private readonly readonly: boolean;
  /** The writer's chain, checkpoints and listeners. */
  private readonly core: LogWriterCore;
  private opening: Promise<void> | undefined;
  private opened = false;
  /** The schema holding the store's tables (the connection's current schema when it creates them). */
  private schema = 'public';
  /** Whether `audit_keys` names who recorded each key (schema version 2 on). */
  private keysBound = false;
  private timer: NodeJS.Timeout | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(url: string, options: PostgresAuditStoreOptions = {}) {
    this.location = redactUrl(url);
    this.options = options;
    this.readonly = options.readonly ?? false;
    this.origin = options.origin ?? `onbehalf/${hostname()}/${randomBytes(4).toString('hex')}`;
    this.core = new LogWriterCore({
      location: this.location,
      origin: this.origin,
      checkpointEvery: options.checkpointEvery ?? 1000,
      nameOriginInMessages: true,
    });
    this.pool = new (pgDriver().Pool)({
      connectionString: url,
      max: options.maxConnections ?? 4,
      application_name: 'onbehalf',
      allowExitOnIdle: true,
      types: pgTypes,
    });
    // An idle connection dropped by the server must not become an uncaught error in the host.
    this.pool.on('error', (err) =>
      reportProblem({
        code: 'store.unusable',
        component: 'postgres-store',
        message: `store ${this.location}: connection failed`,
        detail: describe(err),
        cause: err,
        source: this,
      }),
    );
  }

  /** Connects, creates the schema if needed, and registers (or resumes) this writer's origin. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreError(`store ${this.location}: closed`, 'unwritable'));
    this.opening ??= this.open().catch((err: unknown) => {
      // Not cached: a database that comes up later is used from the next append on.
      this.opening = undefined;
      throw err instanceof StoreError ? err : this.error(err, this.readonly ? 'unusable' : 'unwritable');
    });
    return this.opening;
  }

  async append(events: readonly AuditEvent[]): Promise<StoredAuditEvent[]> {
    if (this.readonly) throw new StoreError(`store ${this.location}: opened read-only`, 'unwritable');
    await this.ready();
    const stored = await this.exclusive(() => this.insert(events));
    if (this.core.committed(stored)) {
      this.checkpoint().catch((err: unknown) => this.checkpointFailed(err));
    }
    return stored;
  }

  /** Leaves a note of events lost at the end of the process for the next writer (beside its key). */
  recordUnwrittenSync(unwritten: UnwrittenEvents): void {
    spoolUnwrittenSync(this.keyDir, this.location, this.origin, unwritten);
  }

  private get keyDir(): string {
    return this.options.keyDir ?? POSTGRES_KEY_DIR;
  }

  async checkpoint(): Promise<StoredCheckpoint | undefined> {
    if (this.readonly) return undefined;
    await this.ready();
    return this.exclusive(() => this.checkpointNow());
  }

  onCheckpoint(listener: (checkpoint: StoredCheckpoint) => void): void {
    this.core.listeners.onCheckpoint(listener);
  }

  /** Calls `listener` with the rows of every append once they are committed. */
  onAppend(listener: (rows: StoredAuditEvent[]) => void): void {
    this.core.listeners.onAppend(listener);
  }

  async origins(): Promise<string[]> {
    const rows = await this.read('SELECT DISTINCT origin FROM audit_events ORDER BY origin');
    return rows.map((r) => r.origin as string);
  }

  async *readLog(origin: string, batchSize = 5000): AsyncIterable<StoredAuditEvent[]> {
    const sql = `SELECT ${TABLE_COLUMNS.join(', ')} FROM audit_events WHERE origin = $1 AND seq > $2 ORDER BY seq LIMIT $3`;
    let after = 0;
    for (;;) {
      const rows = await this.read<StoredAuditEvent>(sql, [origin, after, batchSize]);
      if (rows.length === 0) return;
      yield rows;
      after = rows[rows.length - 1]!.seq;
      if (rows.length < batchSize) return;
    }
  }

  async checkpoints(origin?: string): Promise<StoredCheckpoint[]> {
    const sql = `SELECT origin, size, root, note, created_at FROM audit_checkpoints${origin ? ' WHERE origin = $1' : ''} ORDER BY origin, size`;
    return this.read<StoredCheckpoint>(sql, origin ? [origin] : []);
  }

  /** Every usable key recorded; a row that is not a key is skipped here and named by {@link integrityProblems}. */
  async recordedKeys(): Promise<TrustedKey[]> {
    return this.keysFrom(await this.read<KeyRow>('SELECT kid, jwk FROM audit_keys ORDER BY added_at'));
  }

  /** The keys recorded by the login role that registered `origin` (and those from before keys were bound). */
  async recordedKeysFor(origin: string): Promise<TrustedKey[]> {
    await this.ready();
    if (!this.keysBound) return this.recordedKeys();
    const rows = await this.run<KeyRow>(
      `SELECT k.kid, k.jwk FROM audit_keys k
        WHERE k.owner IS NULL OR k.owner = (SELECT o.owner FROM audit_origins o WHERE o.origin = $1)
        ORDER BY k.added_at`,
      [origin],
    );
    return this.keysFrom(rows);
  }

  /** How the schema differs from the migration's (triggers, policies, functions, grants), and unusable key rows. */
  async integrityProblems(): Promise<VerificationFault[]> {
    await this.ready();
    const client = await this.connect();
    try {
      return await postgresIntegrityProblems(client, this.schema, this.keysBound);
    } catch (err) {
      throw this.error(err, 'unusable', 'schema check failed');
    } finally {
      client.release();
    }
  }

  async query(q: AuditQuery): Promise<StoredAuditEvent[]> {
    const { sql, params } = buildQuery(q, (n) => `$${n}`);
    return this.read<StoredAuditEvent>(sql, params);
  }

  /**
   * Runs one statement in a READ ONLY transaction, under a statement timeout (30 s by default for
   * `untrusted` text, which a superuser or a role reaching the server's files or programs may not run).
   */
  async sql(text: string, options: SqlOptions = {}): Promise<Row[]> {
    await this.ready();
    const client = await this.connect();
    try {
      return await runReadOnlySql(client, text, options);
    } catch (err) {
      throw err instanceof StoreError ? err : this.error(err, 'unusable');
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.opened && !this.readonly) {
        if (this.timer) clearInterval(this.timer);
        await this.exclusive(() => this.checkpointNow());
      }
    } finally {
      this.closed = true;
      if (this.timer) clearInterval(this.timer);
      await this.pool.end();
    }
  }

  private async open(): Promise<void> {
    const found = await this.probe();
    if (this.readonly) {
      if (!found.events)
        throw new StoreError(`store ${this.location}: not an onbehalf audit store (no audit_events table)`);
      this.opened = true;
      return;
    }
    if (!found.events || found.version !== POSTGRES_SCHEMA_VERSION) {
      if (this.options.migrate === false)
        throw new StoreError(
          `store ${this.location}: schema missing or outdated (migration turned off)`,
          'unwritable',
        );
      await this.migrate();
      await this.probe();
    }
    // A fixed origin is bound as named; the default one changes per instance, so this host's are.
    const key = resolveCheckpointKey(this.keyDir, this.options.signingKey, [
      this.options.origin ?? thisHostOrigins(),
    ]);
    await this.recordKey(key);
    this.core.key = key;
    await this.claimOrigin();
    this.opened = true;
    // What a writer of this store lost when its process ended (recordUnwrittenSync) becomes gap records here.
    await writeUnwrittenNotes(this.keyDir, this.location, async (gaps) => {
      this.core.committed(await this.exclusive(() => this.insert(gaps)));
    }).catch((err: unknown) =>
      reportProblem({
        code: 'store.unwritable',
        component: 'postgres-store',
        message: `store ${this.location}: gap records not written`,
        detail: describe(err),
        cause: err,
        source: this,
      }),
    );
    const interval = this.options.checkpointIntervalMs ?? 60_000;
    if (interval > 0) {
      this.timer = setInterval(() => {
        if (this.core.grown()) this.checkpoint().catch((err: unknown) => this.checkpointFailed(err));
      }, interval);
      this.timer.unref();
    }
  }

  private checkpointFailed(err: unknown): void {
    reportProblem({
      code: 'checkpoint.failed',
      component: 'postgres-store',
      message: `store ${this.location}: checkpoint failed, will retry`,
      detail: describe(err),
      cause: err,
      source: this,
    });
  }

  /** Where the tables are (else where they would be created), and the schema version. */
  private async probe(): Promise<{ events: boolean; version: string | undefined }> {
    const found = await probePostgresStore(this.pool);
    this.schema = found.schema;
    this.keysBound = found.keysBound;
    return found;
  }

  /**
   * Records this writer's public key, bound to its login role. A key another role recorded first is
   * refused: verify would trust it only for that role's origins.
   */
  private async recordKey(key: { kid: string; publicJwk: unknown }): Promise<void> {
    await this.pool.query(
      'INSERT INTO audit_keys (kid, jwk, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [key.kid, JSON.stringify(key.publicJwk), new Date().toISOString()],
    );
    const mine = await this.run<{ kid: string }>('SELECT kid FROM onbehalf_public_keys()');
    if (!mine.some((r) => r.kid === key.kid))
      throw new StoreError(
        `store ${this.location}: checkpoint key ${key.kid} was recorded by another writer role; give this writer a key of its own`,
        'unwritable',
      );
  }

  /** One transaction under an advisory lock: writers starting together migrate once. */
  private async migrate(): Promise<void> {
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [POSTGRES_MIGRATION_LOCK]);
      await client.query(postgresMigration(this.schema));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new StoreError(
        `store ${this.location}: cannot create the schema: ${describe(err)}`,
        'unwritable',
      );
    } finally {
      client.release();
    }
  }

  private async claimOrigin(): Promise<void> {
    const owner = (
      await this.pool.query<{ owner: string | null }>('SELECT onbehalf_own_origin_owner($1) AS owner', [
        this.origin,
      ])
    ).rows[0]?.owner;
    if (!owner) {
      await this.pool.query('INSERT INTO audit_origins (origin, created_at) VALUES ($1, $2)', [
        this.origin,
        new Date().toISOString(),
      ]);
      return;
    }
    const me = (await this.pool.query<{ me: string }>('SELECT session_user AS me')).rows[0]!.me;
    if (owner !== me)
      throw new StoreError(
        `store ${this.location}: origin ${this.origin} belongs to another writer`,
        'unwritable',
      );
    await this.resume();
  }

  /** Rebuilds the chain of a resumed origin: last signed checkpoint, then every row after it. */
  private async resume(): Promise<void> {
    const cp = (
      await this.pool.query<SavedCheckpoint>('SELECT note, state FROM onbehalf_own_checkpoint($1)', [
        this.origin,
      ])
    ).rows[0];
    const keys = cp
      ? this.keysFrom(await this.run<KeyRow>('SELECT kid, jwk FROM onbehalf_public_keys()'))
      : [];
    const core = this.core;
    const state = core.resumeFrom(cp, () => keys);
    if (cp) {
      const [last] = await this.run<{ hash: string }>('SELECT hash FROM onbehalf_own_rows($1, $2, 1)', [
        this.origin,
        state.size - 1,
      ]);
      core.checkTail(last?.hash);
    }
    const from = state.size;
    for (let after = from; ; ) {
      const rows = await this.run<StoredAuditEvent>('SELECT * FROM onbehalf_own_rows($1, $2, 5000)', [
        this.origin,
        after,
      ]);
      for (const row of rows) core.replay(row);
      if (rows.length < 5000) break;
      after = core.state.size;
    }
    core.resumed(from);
  }

  private async insert(events: readonly AuditEvent[]): Promise<StoredAuditEvent[]> {
    if (this.closed) throw new StoreError(`store ${this.location}: closed`, 'unwritable');
    const before = this.core.savepoint();
    const { rows, binds } = this.core.chain(events, POSTGRES_TEXT);
    // One array parameter per column (`unnest`), so the batch is one statement.
    const columns: unknown[][] = TABLE_COLUMNS.map((_, i) => binds.map((values) => values[i]));
    try {
      // One statement is one transaction: all the rows are committed, or none.
      if (rows.length) await this.pool.query(INSERT_EVENTS, columns);
    } catch (err) {
      this.core.rollback(before);
      throw this.error(err, 'unwritable', 'append failed');
    }
    return rows;
  }

  private async checkpointNow(): Promise<StoredCheckpoint | undefined> {
    const signed = this.core.sign();
    if (!signed) return undefined;
    const stored = signed.checkpoint;
    try {
      await this.pool.query(
        'INSERT INTO audit_checkpoints (origin, size, root, note, state, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [stored.origin, stored.size, stored.root, stored.note, signed.state, stored.created_at],
      );
    } catch (err) {
      throw this.error(err, 'unwritable', 'checkpoint failed');
    }
    this.core.checkpointed(stored, stored.size);
    return stored;
  }

  /** Runs `fn` after every earlier append or checkpoint of this writer: the chain has one order. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async read<T = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    await this.ready();
    return this.run<T>(sql, params);
  }

  /** A query without waiting for `ready()` (which itself runs some). */
  private async run<T = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(sql, params)).rows as T[];
    } catch (err) {
      throw this.error(err, 'unusable');
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.error(err, this.readonly ? 'unusable' : 'unwritable');
    }
  }

  private keysFrom(rows: readonly KeyRow[]): TrustedKey[] {
    return keysFromRows(rows, `${this.location} audit_keys`).keys;
  }

  private error(err: unknown, kind: StoreError['kind'], what?: string): StoreError {
    if (err instanceof StoreError) return err;
    return new StoreError(`store ${this.location}: ${what ? `${what}: ` : ''}${describe(err)}`, kind, {
      cause: err,
    });
  }
}

export { redactUrl } from './postgres-errors.js';
