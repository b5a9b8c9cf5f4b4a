import { OnbehalfError } from '../errors/onbehalf-error.js';
import type { VerificationFaultCode } from '../errors/verification-fault.js';
import type { AuditEvent, IntegrityColumns } from '../pipeline/event.js';
import { canonicalJson, type EventRow } from './canonical.js';
import type { Checkpoint } from './checkpoint.js';
import { MerkleFrontier, type MerkleFrontierSnapshot, sha256, sha256Digest } from './merkle.js';

/**
 * The hash chain of one writer's log (docs/log-format.md, "Chain"). Each row's canonical bytes E are the RFC 8785 JSON of
 * `{origin, ...event columns}`; `leaf = SHA-256(0x00 ‖ E)` (also its RFC 6962 Merkle leaf) and
 * `hash = SHA-256(0x02 ‖ prev_hash ‖ leaf)`, with 32 zero bytes before the first row.
 */

/** The `prev_hash` of a log's first row: 32 zero bytes, as hex. */
export const GENESIS_HASH = '0'.repeat(64);

/** A stored row as read back: event columns plus the integrity columns (`seq` may arrive as a string or bigint). */
export type StoredRow = EventRow & {
  readonly seq: number | string | bigint;
  readonly prev_hash: string | Uint8Array;
  readonly hash: string | Uint8Array;
};

/**
 * A stored row whose canonical text the database rendered while reading it (see
 * `sqlite-prerendered.ts`): verification hashes that text instead of decoding every column. It is
 * an accelerator only: when the text is missing or does not hash to the stored chain, `full()`
 * reads the row itself and the exact path decides, so no row is judged on the database's rendering.
 */
export interface PrerenderedRow {
  readonly origin: string;
  readonly seq: number;
  readonly prev_hash: string;
  readonly hash: string;
  /** The row's canonical JSON as rendered by the database, or undefined when it could not be. */
  readonly canonical: string | undefined;
  /** The whole row, read again. */
  full(): StoredRow;
}

/** A row as verification reads it: whole, or prerendered. */
export type LogRow = StoredRow | PrerenderedRow;

function isPrerendered(row: LogRow): row is PrerenderedRow {
  return typeof (row as Partial<PrerenderedRow>).full === 'function';
}

/** Where and why a row fails to be the next link of a log. */
export interface ChainFault {
  /** What is wrong, as a verification fault code. */
  code: Extract<VerificationFaultCode, `row.${string}`>;
  /** The first seq that is wrong (for a deleted row, the missing seq). */
  seq: number;
  /** Human-readable, starting with `seq N:`. */
  reason: string;
}

/** Thrown when a log state cannot be restored or rebuilt; `seq` is set when a row is at fault. */
export class ChainError extends OnbehalfError {
  override name = 'ChainError';
  constructor(
    message: string,
    readonly seq?: number,
    options?: ErrorOptions,
  ) {
    super('chain.invalid', message, options);
  }
}

/** Merkle leaf and chain input of canonical bytes E: SHA-256(0x00 ‖ E). */
export function leafHash(bytes: Uint8Array): Buffer {
  return sha256(Buffer.concat([LEAF_PREFIX, bytes]));
}
const LEAF_PREFIX = Buffer.from([0x00]);

/** The leaf hash of a row: {@link leafHash} of its {@link canonicalEventBytes}, in one step. */
export function rowLeafHash(row: EventRow): Buffer {
  return Buffer.from(leafBinary(row, row.origin), 'latin1');
}

/** Leaf hash as a 32-character latin1 string (no Buffer on the hot path). */
function leafBinary(row: object, origin: string): string {
  // U+0000 encodes as the single byte 0x00, so this hashes exactly 0x00 ‖ E.
  return sha256Digest(`\u0000${canonicalJson(row, origin)}`, 'binary');
}

// Reused input block: SHA-256(0x02 ‖ prev ‖ leaf) on every row should not allocate.
const chainInput = Buffer.alloc(65);
chainInput[0] = 0x02;

/** Chain hash of a row: SHA-256(0x02 ‖ prev_hash (32 raw bytes) ‖ leaf). `prev` may be hex. */
export function chainHash(prev: string | Uint8Array, leaf: Uint8Array): Buffer {
  if (leaf.length !== 32) throw new RangeError('a leaf hash is 32 bytes');
  if (typeof prev === 'string') {
    if (!HEX32.test(prev)) throw new RangeError('prev_hash is not 64 lowercase hex digits');
    chainInput.write(prev, 1, 'hex');
  } else {
    if (prev.length !== 32) throw new RangeError('prev_hash is 32 bytes');
    chainInput.set(prev, 1);
  }
  chainInput.set(leaf, 33);
  return sha256(chainInput);
}

/** Chain hash from a hex prev_hash and a latin1 leaf, as hex: the hot path's form of {@link chainHash}. */
function chainHex(prevHex: string, leaf: string): string {
  chainInput.write(prevHex, 1, 'hex');
  chainInput.write(leaf, 33, 'latin1');
  return sha256Digest(chainInput, 'hex');
}

const HEX32 = /^[0-9a-f]{64}$/;

/** A hash column as hex (a BLOB as the hex of its bytes); undefined for anything else. @internal */
export function hexOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return undefined;
}

function seqOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^[0-9]+$/.test(value)) return Number(value);
  return Number.NaN;
}

/**
 * Why `row` cannot be the next link of `origin`'s log of `size` rows whose last hash is `lastHex`:
 * its seq, origin or prev_hash (not its contents). {@link LogState.appendStored} checks these first;
 * verification in ranges checks them on the first row of each range against the end of the one before.
 * @internal
 */
export function linkFault(
  origin: string,
  size: number,
  lastHex: string,
  row: Pick<StoredRow, 'seq' | 'origin' | 'prev_hash'>,
): ChainFault | undefined {
  const expected = size + 1;
  const seq = seqOf(row.seq);
  if (!Number.isSafeInteger(seq) || seq < 1) {
    return {
      code: 'row.seq_invalid',
      seq: expected,
      reason: `seq ${expected}: the next row has no valid seq (${String(row.seq)})`,
    };
  }
  if (row.origin !== origin) {
    return {
      code: 'row.origin_mismatch',
      seq,
      reason: `seq ${seq}: row belongs to origin ${JSON.stringify(row.origin)}, not ${JSON.stringify(origin)} (row moved or edited)`,
    };
  }
  if (seq > expected) {
    const what = seq === expected + 1 ? `seq ${expected}: missing` : `seq ${expected}..${seq - 1}: missing`;
    return {
      code: 'row.missing',
      seq: expected,
      reason: `${what} (row deleted); the next row is seq ${seq}`,
    };
  }
  if (seq < expected) {
    return { code: 'row.duplicate', seq, reason: `seq ${seq}: appears twice (row duplicated or inserted)` };
  }
  if (hexOf(row.prev_hash) !== lastHex) {
    const reason =
      seq === 1
        ? `seq 1: prev_hash is not the genesis hash (rows deleted or inserted before it)`
        : `seq ${seq}: prev_hash does not link to seq ${seq - 1} (row inserted, deleted, reordered or replaced)`;
    return { code: 'row.chain_broken', seq, reason };
  }
  return undefined;
}

/** The JSON form of a {@link LogState}, for a store's meta table. */
export interface LogStateSnapshot {
  origin: string;
  /** Rows in the log. */
  size: number;
  /** Hex hash of the last row ({@link GENESIS_HASH} when empty). */
  lastHash: string;
  /** Merkle compact range: hex subtree roots, largest first. */
  frontier: string[];
}

/** What {@link LogState.append} gives a store to write. */
export interface AppendResult {
  /** The row's leaf hash (also its Merkle leaf). */
  leaf: Buffer;
  /** The columns to store beside the event. */
  integrity: IntegrityColumns;
}

/**
 * A writer's view of its log: size, last chain hash and the Merkle frontier, enough to append
 * and to sign checkpoints without re-reading rows. Not thread-safe: one writer per origin.
 */
export class LogState {
  /** The log's origin, e.g. `onbehalf/host-1/3f9a`. */
  readonly origin: string;
  #merkle: MerkleFrontier;
  #size: number;
  #lastHex: string;

  /** An empty log. Origins may contain '/', but not newlines (they head checkpoint notes). */
  constructor(origin: string) {
    if (typeof origin !== 'string' || origin === '' || /[\n\r]/.test(origin)) {
      throw new ChainError(`origin ${JSON.stringify(origin)} must be a non-empty single line`);
    }
    this.origin = origin;
    this.#merkle = new MerkleFrontier();
    this.#size = 0;
    this.#lastHex = GENESIS_HASH;
  }

  /** RFC 6962 tree of all leaves so far (read it; appending to it directly would desynchronize the log). */
  get merkle(): MerkleFrontier {
    return this.#merkle;
  }

  /** Rows in the log; the next row gets seq `size + 1`. */
  get size(): number {
    return this.#size;
  }

  /** Hex hash of the last row ({@link GENESIS_HASH} when empty). */
  get lastHash(): string {
    return this.#lastHex;
  }

  /**
   * {@link append} of an event given as its canonical JSON text (from `canonicalColumns`, or
   * `canonicalJson` of the event with this log's origin), without the leaf as a Buffer: a store's
   * hot path needs the integrity columns only.
   */
  appendCanonical(canonical: string): IntegrityColumns {
    // U+0000 encodes as the single byte 0x00, so this hashes exactly 0x00 ‖ E.
    const leaf = sha256Digest(`\u0000${canonical}`, 'binary');
    const prev = this.#lastHex;
    const hash = chainHex(prev, leaf);
    this.#advance(leaf, hash);
    return { origin: this.origin, seq: this.#size, prev_hash: prev, hash };
  }

  /** Chains one event; the store writes the event with `integrity` and must not change either after. */
  append(event: AuditEvent): AppendResult {
    const leaf = leafBinary(event, this.origin);
    const integrity: IntegrityColumns = {
      origin: this.origin,
      seq: this.#size + 1,
      prev_hash: this.#lastHex,
      hash: chainHex(this.#lastHex, leaf),
    };
    this.#advance(leaf, integrity.hash);
    return { leaf: Buffer.from(leaf, 'latin1'), integrity };
  }

  /**
   * Checks that a stored row is this log's next link (origin, seq, prev_hash, and a hash that matches
   * its contents) and appends it if so; otherwise returns the fault and leaves the state unchanged.
   */
  appendStored(row: LogRow): ChainFault | undefined {
    const link = linkFault(this.origin, this.#size, this.#lastHex, row);
    if (link) return link;
    const seq = this.#size + 1;
    if (isPrerendered(row)) {
      if (row.canonical !== undefined) {
        const leaf = sha256Digest(`\u0000${row.canonical}`, 'binary');
        const hash = chainHex(this.#lastHex, leaf);
        if (row.hash === hash) {
          this.#advance(leaf, hash);
          return undefined;
        }
      }
      return this.appendStored(row.full());
    }
    let leaf: string;
    try {
      leaf = leafBinary(row, row.origin);
    } catch (err) {
      return {
        code: 'row.contents_invalid',
        seq,
        reason: `seq ${seq}: contents cannot be canonicalized (${(err as Error).message})`,
      };
    }
    const hash = chainHex(this.#lastHex, leaf);
    if (hexOf(row.hash) !== hash) {
      return {
        code: 'row.hash_mismatch',
        seq,
        reason: `seq ${seq}: hash does not match its contents (row edited)`,
      };
    }
    this.#advance(leaf, hash);
    return undefined;
  }

  #advance(leaf: string, hash: string): void {
    this.#merkle.appendBinary(leaf);
    this.#lastHex = hash;
    this.#size += 1;
  }

  /** The Merkle root of the log as it stands. */
  root(): Buffer {
    return this.#merkle.root();
  }

  /** The checkpoint body of the log as it stands, ready for `signCheckpoint`. */
  checkpoint(): Checkpoint {
    return { origin: this.origin, size: this.#size, root: this.#merkle.root() };
  }

  /**
   * An independent copy, for a writer to roll back to when a transaction fails: cheaper than a
   * {@link snapshot} round trip on every append.
   */
  clone(): LogState {
    const copy = new LogState(this.origin);
    copy.#merkle = this.#merkle.clone();
    copy.#size = this.#size;
    copy.#lastHex = this.#lastHex;
    return copy;
  }

  /** A JSON-serializable copy, for {@link LogState.restore}. */
  snapshot(): LogStateSnapshot {
    return {
      origin: this.origin,
      size: this.#size,
      lastHash: this.#lastHex,
      frontier: this.#merkle.snapshot().frontier,
    };
  }

  /** Reopens a log from {@link LogState.snapshot}; throws {@link ChainError} if the snapshot is inconsistent. */
  static restore(snapshot: LogStateSnapshot): LogState {
    const state = new LogState(snapshot.origin);
    const { size, lastHash, frontier } = snapshot;
    if (!Number.isSafeInteger(size) || size < 0) throw new ChainError(`log state: bad size ${size}`);
    if (typeof lastHash !== 'string' || !HEX32.test(lastHash)) {
      throw new ChainError('log state: lastHash is not 64 lowercase hex digits');
    }
    if (size === 0 && lastHash !== GENESIS_HASH)
      throw new ChainError('log state: empty log with a last hash');
    let merkle: MerkleFrontier;
    try {
      merkle = MerkleFrontier.restore({ size, frontier } satisfies MerkleFrontierSnapshot);
    } catch (err) {
      throw new ChainError(`log state: ${(err as Error).message}`);
    }
    state.#merkle = merkle;
    state.#size = size;
    state.#lastHex = lastHash;
    return state;
  }

  /**
   * A state for checking the rows after row `size` of a log, whose hash is `lastHash`, without the rows
   * before it: one range of a log verified in ranges (docs/log-format.md, "Verification"). Its Merkle
   * frontier holds only the rows appended to it, so `root()`, `checkpoint()` and `snapshot()` are the
   * range's subtrees, not the log's; the caller combines them.
   * @internal
   */
  static forRange(origin: string, size: number, lastHash: string): LogState {
    if (!Number.isSafeInteger(size) || size < 0) throw new ChainError(`log range: bad start ${size}`);
    if (!HEX32.test(lastHash)) throw new ChainError('log range: lastHash is not 64 lowercase hex digits');
    const state = new LogState(origin);
    state.#size = size;
    state.#lastHex = lastHash;
    return state;
  }

  /**
   * Rebuilds the state by checking every row of a log in seq order (e.g. when a store opens and
   * verifies itself). Throws {@link ChainError} naming the first bad seq.
   */
  static fromRows(origin: string, rows: Iterable<LogRow>): LogState {
    const state = new LogState(origin);
    for (const row of rows) {
      const fault = state.appendStored(row);
      if (fault) throw new ChainError(fault.reason, fault.seq);
    }
    return state;
  }
}
