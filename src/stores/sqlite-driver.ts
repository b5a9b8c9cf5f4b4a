// The SQLite driver under the SQLite store. Node ≥ 22.13 ships SQLite (`node:sqlite`), so installing
// onbehalf there compiles nothing; better-sqlite3 (an optional peer dependency, a native addon the
// application installs itself: npm would build an optional dependency on every Node) is used only
// where `node:sqlite` is missing, or when `ONBEHALF_SQLITE_DRIVER=better-sqlite3` asks for it.
// Both are driven through the small synchronous surface below, better-sqlite3's own shape.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

/** A prepared statement. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Rows as arrays of column values, in the statement's column order. */
  raw(on: boolean): this;
  /** Whether the statement returns rows. */
  readonly reader: boolean;
  /** Whether the statement writes nothing; undefined where the driver cannot tell (`node:sqlite`). */
  readonly readonly?: boolean;
}

/** A function run in a transaction: deferred, or `immediate` (takes the write lock at once). */
export type Transaction<F extends (...args: never[]) => unknown> = F & { immediate: F };

/** An open SQLite connection. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  /** Runs `PRAGMA <text>` and returns its rows. */
  pragma(text: string): unknown[];
  /** `fn` in a transaction (a savepoint when one is already open): committed, or rolled back on a throw. */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): Transaction<(...args: A) => R>;
  readonly open: boolean;
  close(): void;
}

/** Which driver runs the store. */
export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

/** Options of {@link openSqlite}. */
export interface OpenSqliteOptions {
  readonly?: boolean;
  /** Default: the environment's `ONBEHALF_SQLITE_DRIVER`, else `node:sqlite` where Node has it. */
  driver?: SqliteDriverName;
}

const requireHere = createRequire(import.meta.url);

interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { readOnly?: boolean }) => NodeDatabase;
}
interface NodeDatabase {
  prepare(sql: string): NodeStatement;
  exec(sql: string): void;
  close(): void;
  readonly isOpen?: boolean;
}
interface NodeStatement {
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  setAllowUnknownNamedParameters?(on: boolean): void;
  setReturnArrays?(on: boolean): void;
  columns?(): unknown[];
  readonly sourceSQL?: string;
}

/** Opcodes only a statement that changes the database runs. */
const WRITE_OPCODES = new Set(['OpenWrite', 'CreateBtree', 'Destroy', 'Clear', 'VUpdate', 'ParseSchema']);

/** Primary SQLite result codes, by number, as better-sqlite3 names them in `code`. */
const RESULT_CODES: Record<number, string> = {
  1: 'SQLITE_ERROR',
  2: 'SQLITE_INTERNAL',
  3: 'SQLITE_PERM',
  4: 'SQLITE_ABORT',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  9: 'SQLITE_INTERRUPT',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  15: 'SQLITE_PROTOCOL',
  17: 'SQLITE_SCHEMA',
  18: 'SQLITE_TOOBIG',
  19: 'SQLITE_CONSTRAINT',
  20: 'SQLITE_MISMATCH',
  21: 'SQLITE_MISUSE',
  23: 'SQLITE_AUTH',
  25: 'SQLITE_RANGE',
  26: 'SQLITE_NOTADB',
};

/**
 * Runs a node:sqlite call; an SQLite error leaves with better-sqlite3's `code` (`SQLITE_BUSY`, …),
 * so callers judge errors the same way on both drivers.
 */
function sqliteCall<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    const e = err as { code?: string; errcode?: number };
    if (e && e.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number') {
      e.code = RESULT_CODES[e.errcode & 0xff] ?? `SQLITE_${e.errcode}`;
    }
    throw err;
  }
}

function nodeSqlite(): NodeSqliteModule | undefined {
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  try {
    return getBuiltin?.('node:sqlite') as NodeSqliteModule | undefined;
  } catch {
    return undefined;
  }
}

/** The driver {@link openSqlite} uses by default here. */
export function defaultSqliteDriver(env: Record<string, string | undefined> = process.env): SqliteDriverName {
  const asked = env.ONBEHALF_SQLITE_DRIVER?.trim();
  if (asked === 'node:sqlite' || asked === 'better-sqlite3') return asked;
  if (asked)
    throw new Error(
      `ONBEHALF_SQLITE_DRIVER must be node:sqlite or better-sqlite3, got ${JSON.stringify(asked)}`,
    );
  return nodeSqlite() ? 'node:sqlite' : 'better-sqlite3';
}

/** Opens `path` (created unless `readonly`; a read-only open of a missing file fails). */
export function openSqlite(path: string, options: OpenSqliteOptions = {}): SqliteDatabase {
  const driver = options.driver ?? defaultSqliteDriver();
  const readonly = options.readonly ?? false;
  if (driver === 'better-sqlite3') {
    let Database: new (path: string, options: object) => SqliteDatabase;
    try {
      Database = requireHere('better-sqlite3');
    } catch (err) {
      throw new Error(
        `better-sqlite3 is not installed (Node ${process.versions.node} has no node:sqlite; it needs Node >= 22.13): npm install better-sqlite3`,
        { cause: err },
      );
    }
    return new Database(path, { readonly, fileMustExist: readonly });
  }
  const sqlite = nodeSqlite();
  if (!sqlite)
    throw new Error(`node:sqlite is not available in Node ${process.versions.node} (it needs >= 22.13)`);
  // The cause SQLite's own "unable to open database file" leaves out, worded as better-sqlite3 words it.
  if (path !== ':memory:' && !path.startsWith('file:') && !existsSync(dirname(resolve(path)))) {
    throw new TypeError('Cannot open database because the directory does not exist');
  }
  return new NodeSqliteDatabase(sqliteCall(() => new sqlite.DatabaseSync(path, { readOnly: readonly })));
}

/** `node:sqlite` behind better-sqlite3's shape. */
class NodeSqliteDatabase implements SqliteDatabase {
  private depth = 0;
  private closed = false;

  constructor(private readonly db: NodeDatabase) {}

  prepare(sql: string): SqliteStatement {
    const stmt = sqliteCall(() => this.db.prepare(sql));
    // node:sqlite prepares the first statement and drops the rest; better-sqlite3 refuses such text,
    // and so does this, or `SELECT 1; DELETE …` would read as if it were the SELECT alone.
    const rest = stmt.sourceSQL === undefined ? '' : sql.slice(stmt.sourceSQL.length);
    if (rest.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|[\s;]/g, '') !== '') {
      throw new RangeError('The supplied SQL string contains more than one statement');
    }
    return new NodeSqliteStatement(stmt, this.db);
  }

  exec(sql: string): void {
    sqliteCall(() => this.db.exec(sql));
  }

  pragma(text: string): unknown[] {
    return sqliteCall(() => this.db.prepare(`PRAGMA ${text}`).all());
  }

  transaction<A extends unknown[], R>(fn: (...args: A) => R): Transaction<(...args: A) => R> {
    const run =
      (begin: string) =>
      (...args: A): R => {
        const outermost = this.depth === 0;
        const savepoint = `onbehalf_${this.depth}`;
        sqliteCall(() => this.db.exec(outermost ? begin : `SAVEPOINT ${savepoint}`));
        this.depth++;
        try {
          const result = fn(...args);
          sqliteCall(() => this.db.exec(outermost ? 'COMMIT' : `RELEASE ${savepoint}`));
          return result;
        } catch (err) {
          try {
            this.db.exec(outermost ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
          } catch {
            // SQLite already rolled back (e.g. after SQLITE_FULL); the original error is what matters.
          }
          throw err;
        } finally {
          this.depth--;
        }
      };
    return Object.assign(run('BEGIN'), { immediate: run('BEGIN IMMEDIATE') });
  }

  get open(): boolean {
    return this.db.isOpen ?? !this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

class NodeSqliteStatement implements SqliteStatement {
  private arrays = false;
  private writes: boolean | undefined;

  constructor(
    private readonly stmt: NodeStatement,
    private readonly db: NodeDatabase,
  ) {
    // better-sqlite3 ignores object keys the statement does not name; rows carry such keys.
    stmt.setAllowUnknownNamedParameters?.(true);
  }

  run(...params: unknown[]) {
    return sqliteCall(() => this.stmt.run(...params.map(bindable)));
  }

  get(...params: unknown[]): unknown {
    const row = sqliteCall(() => this.stmt.get(...params.map(bindable)));
    return this.arrays && row && !this.stmt.setReturnArrays ? Object.values(row) : row;
  }

  all(...params: unknown[]): unknown[] {
    const rows = sqliteCall(() => this.stmt.all(...params.map(bindable)));
    return this.arrays && !this.stmt.setReturnArrays ? rows.map((r) => Object.values(r as object)) : rows;
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return sqliteCall(() => this.stmt.iterate(...params.map(bindable)));
  }

  get reader(): boolean {
    return this.stmt.columns ? this.stmt.columns().length > 0 : true;
  }

  /**
   * node:sqlite does not expose `sqlite3_stmt_readonly`; its bytecode tells the same: a statement that
   * writes opens a write transaction (`Transaction` with p2 ≠ 0) or a table for writing.
   */
  get readonly(): boolean | undefined {
    if (this.writes === undefined) {
      const sql = this.stmt.sourceSQL;
      if (sql === undefined) return undefined;
      const program = sqliteCall(() => this.db.prepare(`EXPLAIN ${sql}`).all()) as {
        opcode: string;
        p2: number;
      }[];
      this.writes = program.some(
        (op) => (op.opcode === 'Transaction' && op.p2 !== 0) || WRITE_OPCODES.has(op.opcode),
      );
    }
    return !this.writes;
  }

  raw(on: boolean): this {
    this.arrays = on;
    this.stmt.setReturnArrays?.(on);
    return this;
  }
}

/** better-sqlite3 binds `undefined` as NULL, node:sqlite refuses it: bind it as NULL here too. */
function bindable(param: unknown): unknown {
  if (param === undefined) return null;
  if (param === null || typeof param !== 'object' || ArrayBuffer.isView(param)) return param;
  let copy: Record<string, unknown> | undefined;
  for (const key in param as Record<string, unknown>) {
    if ((param as Record<string, unknown>)[key] === undefined) {
      copy ??= { ...(param as Record<string, unknown>) };
      copy[key] = null;
    }
  }
  return copy ?? param;
}
