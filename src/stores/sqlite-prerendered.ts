import { CANONICAL_KEYS } from '../log-format/canonical.js';
import type { LogRow, PrerenderedRow, StoredRow } from '../log-format/chain.js';
import { TABLE_COLUMNS } from './query-sql.js';
import type { SqliteDatabase } from './sqlite-driver.js';

/**
 * Verification reads every row of a log, and decoding ~35 columns per row into JavaScript strings
 * costs more than hashing them. SQLite can render a row's canonical JSON itself: `json_object` escapes
 * strings exactly as `JSON.stringify` does and keeps the key order it is given. Its numbers differ
 * for floats (`%!.15g`, not the shortest round trip), so the one real column, `duration_ms`, is read
 * as a value and written by JavaScript. The text is only an accelerator: a row whose text does not
 * hash to its stored chain is read again whole and judged by the exact path (`LogState.appendStored`).
 */

const JS_RENDERED = 'duration_ms';
const split = CANONICAL_KEYS.indexOf(JS_RENDERED);
const HEAD = CANONICAL_KEYS.slice(0, split);
const TAIL = CANONICAL_KEYS.slice(split + 1);
const KEY = `,${JSON.stringify(JS_RENDERED)}:`;

/** Whether the schema still has the one real column between two runs of rendered ones. */
export const PRERENDER_MATCHES_SCHEMA = split > 0 && split < CANONICAL_KEYS.length - 1;

const pairs = (keys: readonly string[]) => keys.map((k) => `'${k}', ${k}`).join(', ');

/** The columns a prerendered read selects: `seq, origin, prev_hash, hash, head, num, tail`. */
const PRERENDERED_COLUMNS = `seq, origin, prev_hash, hash, json_object(${pairs(HEAD)}) AS head, ${JS_RENDERED} AS num, json_object(${pairs(TAIL)}) AS tail`;

/**
 * A raw row of {@link PRERENDERED_COLUMNS}. A class, so a 100k-row verify does not make a closure
 * per row for the rarely called `full()`.
 */
class SqlitePrerenderedRow implements PrerenderedRow {
  readonly seq: number;
  readonly origin: string;
  readonly prev_hash: string;
  readonly hash: string;
  readonly canonical: string | undefined;

  constructor(
    a: readonly unknown[],
    private readonly read: (seq: number) => StoredRow,
  ) {
    this.seq = a[0] as number;
    this.origin = a[1] as string;
    this.prev_hash = a[2] as string;
    this.hash = a[3] as string;
    this.canonical = canonicalText(a[4], a[5], a[6]);
  }

  full(): StoredRow {
    return this.read(this.seq);
  }
}

function canonicalText(head: unknown, num: unknown, tail: unknown): string | undefined {
  if (typeof head !== 'string' || typeof tail !== 'string') return undefined;
  if (num !== null && (typeof num !== 'number' || !Number.isFinite(num))) return undefined;
  return `${head.slice(0, -1)}${KEY}${JSON.stringify(num)},${tail.slice(1)}`;
}

/** The seqs a read covers: after `after`, up to `upTo` when given (else to the end of the log). */
export interface SeqRange {
  after: number;
  upTo?: number;
}

/**
 * One origin's rows in seq order, in batches, prerendered: all of them, or those of `range`. Where
 * SQLite cannot render a row (a BLOB written into a column makes `json_object` fail), the rest comes
 * from `wholeRows`, which must keep to the same range.
 */
export function* readPrerendered(
  db: SqliteDatabase,
  origin: string,
  batchSize: number,
  store: {
    wholeRows: (afterSeq: number) => Iterable<StoredRow[]>;
    guard: <T>(fn: () => T) => T;
  },
  range: SeqRange = { after: 0 },
): Generator<LogRow[]> {
  if (!PRERENDER_MATCHES_SCHEMA) {
    yield* store.wholeRows(range.after);
    return;
  }
  const upTo = range.upTo === undefined ? '' : ` AND seq <= ${rangeBound(range.upTo)}`;
  const batch = db.prepare(
    `SELECT ${PRERENDERED_COLUMNS} FROM audit_events WHERE origin = ? AND seq > ?${upTo} ORDER BY seq LIMIT ?`,
  );
  batch.raw(true);
  const one = db.prepare(`SELECT ${TABLE_COLUMNS.join(', ')} FROM audit_events WHERE origin = ? AND seq = ?`);
  // A row gone since it was read is judged as a row with no contents.
  const gone = (seq: number): StoredRow => ({ origin, seq, prev_hash: '', hash: '' });
  const full = (seq: number): StoredRow =>
    store.guard(() => one.get(origin, seq) as StoredRow | undefined) ?? gone(seq);
  let after = range.after;
  for (;;) {
    let raw: unknown[][];
    try {
      raw = batch.all(origin, after, batchSize) as unknown[][];
    } catch {
      yield* store.wholeRows(after);
      return;
    }
    if (raw.length === 0) return;
    yield raw.map((a) => new SqlitePrerenderedRow(a, full));
    after = raw[raw.length - 1]![0] as number;
    if (raw.length < batchSize) return;
  }
}

/** A range bound, written into the SQL text: a whole number, so nothing else can be. */
export function rangeBound(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`seq range bound ${n} is not a whole number`);
  return String(n);
}
