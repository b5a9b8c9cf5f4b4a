import { formatFault } from '../errors/verification-fault.js';
import { thisHostOrigins } from '../keys/key-binding.js';
import { type TrustedKey, trustedKeysFromJwks } from '../keys/keys.js';
import { WELL_FORMED_UTF8 } from '../log-format/canonical-columns.js';
import { ChainError, type LogRow } from '../log-format/chain.js';
import { reportProblem } from '../metrics/problem-channel.js';
import type { AuditEvent, StoredAuditEvent } from '../pipeline/event.js';
import type {
  AuditQuery,
  AuditStore,
  AuditStoreOptions,
  StoredCheckpoint,
  StructureProblem,
} from './audit-store.js';
import { StoreError } from './audit-store.js';
import type { SyncAuditLogReader, SyncAuditLogWriter } from './capabilities.js';
import { resolveCheckpointKey, sqliteKeyDir } from './checkpoint-key.js';
import { fileIdentity } from './file-identity.js';
import { LogWriterCore } from './log-writer-core.js';
import { buildQuery, TABLE_COLUMNS } from './query-sql.js';
import {
  openSqlite,
  type SqliteDatabase,
  type SqliteDriverName,
  type SqliteStatement,
  type Transaction,
} from './sqlite-driver.js';
import { readPrerendered } from './sqlite-prerendered.js';
import { readWholeRows } from './sqlite-rows.js';
import { ensureSqliteSchema, initStoreMeta, storedOrigin } from './sqlite-schema.js';
import { sqliteStructureProblems } from './sqlite-structure.js';
import { StoreListeners } from './store-listeners.js';
import type { SavedCheckpoint } from './writer-checkpoint.js';

/** Options of {@link SqliteAuditStore}; its checkpoint key defaults to `<store>.keys/signing-key.jwk`. */
export interface SqliteAuditStoreOptions extends AuditStoreOptions {
  /**
   * `normal` (default): WAL with `synchronous=NORMAL`, a committed event survives a process crash.
   * `strict`: `synchronous=FULL`, it also survives power loss.
   */
  durability?: 'normal' | 'strict';
  /**
   * What the writer checks before it appends: `tail` (default) the rows since the last signed
   * checkpoint, `full` every row. A break refuses the store; `onbehalf verify` always checks all.
   */
  verifyOnOpen?: 'tail' | 'full';
  /** The SQLite driver: `node:sqlite` where Node has it (default), else `better-sqlite3`. */
  driver?: SqliteDriverName;
  /**
   * How long a write waits for another process's lock before it fails (default 5000 ms). The wait
   * blocks the thread that ends the span, so a host that prefers queueing to waiting sets it lower.
   */
  busyTimeoutMs?: number;
  /** Recorded in `audit_meta` when the store is created (e.g. `demo`, so the demo only ever replaces its own store). */
  purpose?: string;
}

type Row = Record<string, unknown>;

/**
 * The embedded audit store: one SQLite file (WAL), table `audit_events` with the seed's columns,
 * append-only by trigger, each row chained by hash and covered by signed checkpoints. Appends are
 * synchronous, so an event is committed before the span's `end()` returns.
 *
 * @example
 * const store = new SqliteAuditStore('./onbehalf-audit.db');
 * const rows = await store.query({ actorType: 'agent', order: 'desc' });
 */
export class SqliteAuditStore implements AuditStore, SyncAuditLogWriter, SyncAuditLogReader {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  /**
   * The file this store opened (device and inode; undefined in memory), so that another connection
   * opening {@link location} again can check it is the same file (see `file-identity.ts`).
   */
  readonly fileIdentity: string | undefined;
  readonly origin: string;
  private readonly db: SqliteDatabase;
  private readonly readonly: boolean;
  /** The writer's chain, checkpoints and listeners; undefined when opened read-only. */
  private core: LogWriterCore | undefined;
  /** Listeners of a read-only store: it never appends, so they are never called. */
  private readonly readerListeners = new StoreListeners();
  private timer: NodeJS.Timeout | undefined;
  private insert!: SqliteStatement;
  private closed = false;
  private readonly statements = new Map<string, SqliteStatement>();
  /** {@link structureProblems}, checked once per connection (a full index cross-check reads the whole file). */
  private structure: StructureProblem[] | undefined;
  /** Made once: better-sqlite3 wraps a new function per `transaction()` call, and appends are the hot path. */
  private appendTransaction!: Transaction<
    (core: LogWriterCore, events: readonly AuditEvent[]) => StoredAuditEvent[]
  >;

  constructor(path: string, options: SqliteAuditStoreOptions = {}) {
    this.location = path;
    this.readonly = options.readonly ?? false;
    try {
      this.db = openSqlite(path, { readonly: this.readonly, driver: options.driver });
      this.fileIdentity = fileIdentity(path);
    } catch (err) {
      throw new StoreError(
        `store ${path}: cannot open: ${describe(err)}`,
        this.readonly ? 'unusable' : 'unwritable',
        { cause: err },
      );
    }
    try {
      if (this.readonly) {
        this.origin = storedOrigin(this.db, this.location);
      } else {
        const busyMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
        // First: a writer creating the file at the same moment holds the lock journal_mode needs.
        this.db.pragma(`busy_timeout = ${busyMs}`);
        // SQLite does not wait on a busy handler to switch the journal mode, so this waits itself.
        retryWhileBusy(() => this.db.pragma('journal_mode = WAL'), busyMs);
        this.db.pragma(`synchronous = ${options.durability === 'strict' ? 'FULL' : 'NORMAL'}`);
        // A store of version 1 or 2 (its ABORT guards) and every checkpoint insert open a statement
        // journal; in memory it is no file to create, write and truncate (it only holds one undo).
        this.db.pragma('temp_store = MEMORY');
        // One write transaction taken up front (the busy timeout applies): schema and origin are
        // created by whichever writer comes first, and the other finds them whole.
        this.origin = this.db
          .transaction(() => {
            ensureSqliteSchema(this.db, path);
            return initStoreMeta(this.db, options.purpose);
          })
          .immediate();
        const core = new LogWriterCore({
          location: path,
          origin: this.origin,
          checkpointEvery: options.checkpointEvery ?? 1000,
        });
        // The key directory is this file's own; an in-memory store's is shared, so this host's origins.
        core.key = resolveCheckpointKey(sqliteKeyDir(path), options.signingKey, [
          path === ':memory:' ? thisHostOrigins() : this.origin,
        ]);
        this.db
          .prepare('INSERT OR IGNORE INTO audit_keys (kid, jwk, added_at) VALUES (?, ?, ?)')
          .run(core.key.kid, JSON.stringify(core.key.publicJwk), new Date().toISOString());
        // Bound by position: no per-row lookup of 35 parameter names. OR FAIL: one row refused on
        // conflict as ABORT would (the transaction is rolled back whole), with no statement journal.
        this.insert = this.db.prepare(
          `INSERT OR FAIL INTO audit_events (${TABLE_COLUMNS.join(', ')}) VALUES (${TABLE_COLUMNS.map(() => '?').join(', ')})`,
        );
        this.appendTransaction = this.db.transaction(
          (writer: LogWriterCore, events: readonly AuditEvent[]) => {
            this.catchUp(writer);
            const { rows, binds } = writer.chain(events, WELL_FORMED_UTF8);
            for (const values of binds) this.insert.run(...values);
            return rows;
          },
        );
        this.openLog(core, options.verifyOnOpen ?? 'tail');
        this.core = core;
        const interval = options.checkpointIntervalMs ?? 60_000;
        if (interval > 0) {
          this.timer = setInterval(() => this.checkpointQuietly(), interval);
          this.timer.unref();
        }
      }
    } catch (err) {
      this.db.close();
      if (err instanceof StoreError) throw err;
      throw new StoreError(`store ${path}: ${describe(err)}`, 'unusable', { cause: err });
    }
  }

  /** A prepared statement, prepared once per connection. */
  private statement(sql: string): SqliteStatement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Appends events in one transaction, committed before it returns. */
  appendSync(events: readonly AuditEvent[]): StoredAuditEvent[] {
    const core = this.writable();
    const before = core.savepoint();
    let stored: StoredAuditEvent[];
    try {
      stored = this.appendTransaction.immediate(core, events);
    } catch (err) {
      core.rollback(before);
      // A broken chain found while catching up stays `tampered`: retrying cannot make it writable.
      if (err instanceof StoreError && err.kind === 'tampered') throw err;
      throw new StoreError(`store ${this.location}: append failed: ${describe(err)}`, 'unwritable', {
        cause: err,
      });
    }
    if (core.committed(stored)) this.checkpointQuietly();
    return stored;
  }

  append(events: readonly AuditEvent[]): Promise<StoredAuditEvent[]> {
    try {
      return Promise.resolve(this.appendSync(events));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  checkpoint(): Promise<StoredCheckpoint | undefined> {
    try {
      return Promise.resolve(this.checkpointIfGrown());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  onCheckpoint(listener: (checkpoint: StoredCheckpoint) => void): void {
    (this.core?.listeners ?? this.readerListeners).onCheckpoint(listener);
  }

  /** Calls `listener` with the rows of every append once they are committed. */
  onAppend(listener: (rows: StoredAuditEvent[]) => void): void {
    (this.core?.listeners ?? this.readerListeners).onAppend(listener);
  }

  async origins(): Promise<string[]> {
    return this.guard(() =>
      (
        this.db.prepare('SELECT DISTINCT origin FROM audit_events ORDER BY origin').all() as {
          origin: string;
        }[]
      ).map((r) => r.origin),
    );
  }

  async *readLog(origin: string, batchSize = 5000): AsyncIterable<StoredAuditEvent[]> {
    yield* this.readLogSync(origin, batchSize);
  }

  /** {@link readLog}, synchronously: verification then needs no await per batch. */
  *readLogSync(origin: string, batchSize = 5000, fromSeq = 0): Generator<StoredAuditEvent[]> {
    yield* readWholeRows(this.db, origin, batchSize, { after: fromSeq }, (fn) => this.guard(fn));
  }

  /**
   * One origin's rows for verification, each with the canonical text SQLite renders for it (see
   * `sqlite-prerendered.ts`): verify runs about 1.7× as fast as on whole rows (BENCHMARKS.md).
   */
  *readLogPrerendered(origin: string, batchSize = 5000): Generator<LogRow[]> {
    yield* readPrerendered(this.db, origin, batchSize, {
      wholeRows: (after) => this.readLogSync(origin, batchSize, after),
      guard: (fn) => this.guard(fn),
    });
  }

  async checkpoints(origin?: string): Promise<StoredCheckpoint[]> {
    return this.guard(() => this.checkpointRows(origin));
  }

  async recordedKeys(): Promise<TrustedKey[]> {
    return this.guard(() => this.recordedKeysSync());
  }

  async structureProblems(): Promise<StructureProblem[]> {
    return this.guard(() => this.structureSync());
  }

  private structureSync(): StructureProblem[] {
    this.structure ??= sqliteStructureProblems(this.db);
    return this.structure;
  }

  /** Queries read through indexes verify does not use: refused unless they read the rows it checks. */
  private requireSound(): void {
    const problems = this.structureSync().filter((p) => p.hidesRows);
    if (problems.length === 0) return;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new StoreError(
      `store ${this.location}: refusing to read rows: the database differs from what verify checks, so a query could show rows it never verified or hide rows it did: ${formatFault(problems[0]!)}${more}. Run: onbehalf verify ${this.location}`,
      'tampered',
    );
  }

  async query(q: AuditQuery): Promise<StoredAuditEvent[]> {
    const { sql, params } = buildQuery(q, () => '?');
    return this.guard(() => {
      this.requireSound();
      return this.db.prepare(sql).all(...params) as StoredAuditEvent[];
    });
  }

  async sql(text: string): Promise<Row[]> {
    return this.guard(() => {
      this.requireSound();
      // A PRAGMA that sets something (journal_mode, writable_schema, query_only…) changes the
      // connection or the file while looking read-only to SQLite and returning a row.
      if (/^\s*PRAGMA\b[^;]*[=(]/i.test(text))
        throw new StoreError(
          'sql: only read-only statements are allowed (a PRAGMA that sets a value is not)',
        );
      const stmt = this.db.prepare(text);
      if (stmt.readonly === false)
        throw new StoreError('sql: only read-only statements are allowed (SELECT, WITH …)');
      if (!stmt.reader) throw new StoreError('sql: the statement returns no rows');
      // SQLite itself refuses every change while query_only is on, whatever the driver can tell.
      this.db.exec('PRAGMA query_only = ON');
      try {
        return stmt.all() as Row[];
      } finally {
        this.db.exec('PRAGMA query_only = OFF');
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    try {
      if (!this.readonly) this.checkpointIfGrown();
    } finally {
      this.db.close();
    }
  }

  /**
   * {@link checkpointIfGrown} where nobody could handle its failure: in a timer it would be an
   * uncaught exception that ends the host, and after an append it would report committed events as
   * failed, so they would be appended again. A missed checkpoint is retried at the next one.
   */
  private checkpointQuietly(): void {
    try {
      this.checkpointIfGrown();
    } catch (err) {
      reportProblem({
        code: 'checkpoint.failed',
        component: 'sqlite-store',
        message: `store ${this.location}: checkpoint failed, will retry`,
        detail: describe(err),
        cause: err,
        source: this,
      });
    }
  }

  /** Signs and stores a checkpoint if the log grew since the last one. */
  private checkpointIfGrown(): StoredCheckpoint | undefined {
    const core = this.core;
    if (!core || !this.db.open) return undefined;
    let stored: StoredCheckpoint | undefined;
    this.db
      .transaction(() => {
        this.catchUp(core);
        const last = this.statement('SELECT max(size) AS size FROM audit_checkpoints WHERE origin = ?').get(
          this.origin,
        ) as { size: number | null };
        const signed = core.sign(last.size ?? 0);
        if (!signed) return;
        const cp = signed.checkpoint;
        this.statement(
          'INSERT INTO audit_checkpoints (origin, size, root, note, state, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        ).run(cp.origin, cp.size, cp.root, cp.note, signed.state, cp.created_at);
        stored = cp;
      })
      .immediate();
    core.checkpointed(stored);
    return stored;
  }

  /** Another process may append to the same file: take its rows into the chain before ours. */
  private catchUp(core: LogWriterCore): void {
    const { max } = this.statement('SELECT max(seq) AS max FROM audit_events WHERE origin = ?').get(
      this.origin,
    ) as {
      max: number | null;
    };
    if ((max ?? 0) <= core.state.size) return;
    for (const batch of this.readLogSync(this.origin, 5000, core.state.size)) {
      for (const row of batch) core.replay(row);
    }
  }

  private openLog(core: LogWriterCore, mode: 'tail' | 'full'): void {
    const saved =
      mode === 'tail'
        ? (this.db
            .prepare('SELECT note, state FROM audit_checkpoints WHERE origin = ? ORDER BY size DESC LIMIT 1')
            .get(this.origin) as SavedCheckpoint | undefined)
        : undefined;
    const state = core.resumeFrom(saved, () => this.recordedKeysSync());
    if (saved) {
      const row = this.db
        .prepare('SELECT hash FROM audit_events WHERE origin = ? AND seq = ?')
        .get(this.origin, state.size) as { hash: string } | undefined;
      core.checkTail(row?.hash);
    }
    try {
      this.catchUp(core);
    } catch (err) {
      if (err instanceof ChainError)
        throw new StoreError(core.tampered(err.message), 'tampered', { cause: err });
      throw err;
    }
    core.resumed();
  }

  private checkpointRows(origin?: string): StoredCheckpoint[] {
    const sql = `SELECT origin, size, root, note, created_at FROM audit_checkpoints${origin ? ' WHERE origin = ?' : ''} ORDER BY origin, size`;
    return (origin ? this.db.prepare(sql).all(origin) : this.db.prepare(sql).all()) as StoredCheckpoint[];
  }

  private recordedKeysSync(): TrustedKey[] {
    const rows = this.db.prepare('SELECT jwk FROM audit_keys ORDER BY added_at').all() as { jwk: string }[];
    if (rows.length === 0) return [];
    return trustedKeysFromJwks(
      { keys: rows.map((r) => JSON.parse(r.jwk) as unknown) },
      `${this.location} audit_keys`,
    );
  }

  private writable(): LogWriterCore {
    if (this.readonly || !this.core)
      throw new StoreError(`store ${this.location}: opened read-only`, 'unwritable');
    if (this.closed) throw new StoreError(`store ${this.location}: closed`, 'unwritable');
    return this.core;
  }

  /** Turns SQLite's errors about a damaged or foreign file into a clear {@link StoreError}. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`store ${this.location}: ${describe(err)}`, 'unusable', { cause: err });
    }
  }
}

/** Runs `fn`, again while SQLite says the database is busy, for up to `ms`. */
function retryWhileBusy<T>(fn: () => T, ms: number): T {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= until) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  if (e?.code === 'SQLITE_NOTADB') return `not a SQLite database, or damaged (${e.code}: ${msg})`;
  if (e?.code === 'SQLITE_CORRUPT') return `database file is damaged (${e.code}: ${msg})`;
  return e?.code ? `${e.code}: ${msg}` : msg;
}
