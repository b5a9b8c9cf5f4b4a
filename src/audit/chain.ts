import { createRequire } from 'node:module';
import type { Checkpoint } from './checkpoint.js';
import { type AuditEvent, EVENT_COLUMNS, type IntegrityColumns } from './event.js';
import { MerkleFrontier, type MerkleFrontierSnapshot, sha256, sha256Digest } from './merkle.js';

/**
 * The hash chain of one writer's log (DESIGN §8). Each row's canonical bytes E are the RFC 8785 JSON of
 * `{origin, ...event columns}`; `leaf = SHA-256(0x00 ‖ E)` (also its RFC 6962 Merkle leaf) and
 * `hash = SHA-256(0x02 ‖ prev_hash ‖ leaf)`, with 32 zero bytes before the first row.
 */

// canonicalize is CommonJS whose typings declare an ES default export; require() sidesteps the mismatch.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string | undefined;

/** The `prev_hash` of a log's first row: 32 zero bytes, as hex. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * An event's columns as a caller or a database driver hands them over: any value type the driver
 * returns, extra columns allowed (they are not hashed), a missing column counts as null.
 */
export type EventRow = { readonly [K in keyof AuditEvent]?: unknown } & { readonly origin: string };

/** A stored row as read back: event columns plus the integrity columns (`seq` may arrive as a string or bigint). */
export type StoredRow = EventRow & {
  readonly seq: number | string | bigint;
  readonly prev_hash: string | Uint8Array;
  readonly hash: string | Uint8Array;
};

/** Where and why a row fails to be the next link of a log. */
export interface ChainFault {
  /** The first seq that is wrong (for a deleted row, the missing seq). */
  seq: number;
  /** Human-readable, starting with `seq N:`. */
  reason: string;
}

/** Thrown when a log state cannot be restored or rebuilt; `seq` is set when a row is at fault. */
export class ChainError extends Error {
  override name = 'ChainError';
  constructor(
    message: string,
    readonly seq?: number,
  ) {
    super(message);
  }
}

// RFC 8785 orders keys by UTF-16 code units, which is what Array.prototype.sort does for strings.
const CANONICAL_KEYS = ['origin', ...EVENT_COLUMNS].sort();
const KEY_PREFIXES = CANONICAL_KEYS.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`);
// Drivers hand bigint/numeric columns back as strings; these columns are numbers in the event.
const NUMERIC_COLUMNS: ReadonlySet<string> = new Set(['risk_tier', 'duration_ms']);
const NUMERIC_FLAGS = CANONICAL_KEYS.map((k) => NUMERIC_COLUMNS.has(k));

/** A numeric column's value as a number (or null), or undefined when it is not one. */
function asNumber(value: unknown): number | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  if (
    typeof value === 'bigint' &&
    value <= BigInt(Number.MAX_SAFE_INTEGER) &&
    value >= -BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    return Number(value);
  }
  return undefined;
}

function canonicalValue(value: unknown, numeric: boolean): string {
  if (numeric) {
    const n = asNumber(value);
    if (n !== undefined) return JSON.stringify(n);
  }
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') {
    const n = asNumber(value);
    if (n === undefined) throw new RangeError(`${value} is beyond JSON's exact integers`);
    return JSON.stringify(n);
  }
  // canonicalize is RFC 8785 itself; it rejects NaN and Infinity, which have no JSON form.
  return canonicalize(value) ?? 'null';
}

/** The general path: any value types, one column at a time. */
function canonicalJsonSlow(r: Record<string, unknown>, origin: string): string {
  let out = '';
  for (let i = 0; i < CANONICAL_KEYS.length; i++) {
    const key = CANONICAL_KEYS[i]!;
    out +=
      KEY_PREFIXES[i]! +
      (key === 'origin' ? JSON.stringify(origin) : canonicalValue(r[key], NUMERIC_FLAGS[i]!));
  }
  return `${out}}`;
}

/** Thrown inside the fast path when a value needs the general one. */
const SLOW = Symbol('slow');

function plain(value: unknown): unknown {
  if (typeof value === 'string' || value === null) return value;
  if (value === undefined) return null;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return value;
  throw SLOW;
}

function numeric(value: unknown): number | null {
  const n = asNumber(value);
  if (n === undefined) throw SLOW;
  return n;
}

/**
 * The row's hashed columns as an object whose keys are written in RFC 8785 order, so a single native
 * JSON.stringify yields the canonical text: about twice as fast as serializing column by column, and
 * serialization, not SHA-256, is what a verifier spends most of its time on. The literal must list
 * exactly CANONICAL_KEYS; that is checked when this module loads, and the general path used otherwise.
 */
function orderedColumns(r: Record<string, unknown>, origin: string): object {
  return {
    action: plain(r.action),
    actor_id: plain(r.actor_id),
    actor_name: plain(r.actor_name),
    actor_type: plain(r.actor_type),
    approval_state: plain(r.approval_state),
    approved_by: plain(r.approved_by),
    attributes: plain(r.attributes),
    delegation_chain: plain(r.delegation_chain),
    duration_ms: numeric(r.duration_ms),
    event_id: plain(r.event_id),
    intent: plain(r.intent),
    on_behalf_of: plain(r.on_behalf_of),
    origin,
    owner_id: plain(r.owner_id),
    parent_span_id: plain(r.parent_span_id),
    policy_decision: plain(r.policy_decision),
    policy_rule: plain(r.policy_rule),
    provenance: plain(r.provenance),
    record_type: plain(r.record_type),
    redactions: plain(r.redactions),
    result: plain(r.result),
    risk_tier: numeric(r.risk_tier),
    scopes: plain(r.scopes),
    service_name: plain(r.service_name),
    session_id: plain(r.session_id),
    span_id: plain(r.span_id),
    target: plain(r.target),
    timestamp: plain(r.timestamp),
    tool_arguments: plain(r.tool_arguments),
    trace_id: plain(r.trace_id),
    trigger_id: plain(r.trigger_id),
    trigger_type: plain(r.trigger_type),
  };
}

/** Whether {@link orderedColumns} lists exactly the canonical keys in order (false once the schema grows). */
export const FAST_CANONICAL_PATH =
  Object.keys(orderedColumns({}, 'o')).join(',') === CANONICAL_KEYS.join(',');

/** RFC 8785 JSON text of a row's hashed columns; `origin` overrides the row's own. */
function canonicalJson(row: object, origin: string): string {
  const r = row as Record<string, unknown>;
  if (FAST_CANONICAL_PATH) {
    try {
      return JSON.stringify(orderedColumns(r, origin));
    } catch (err) {
      if (err !== SLOW) throw err;
    }
  }
  return canonicalJsonSlow(r, origin);
}

/**
 * The canonical bytes E of a row: RFC 8785 JSON (UTF-8) of `{origin, ...every EVENT_COLUMNS column}`.
 * Integrity and unknown columns are left out, a missing column is null, and numeric strings or bigints
 * in `risk_tier`/`duration_ms` are read as numbers, so a row read back from SQLite or PostgreSQL gives
 * the same bytes as the event that was written. Throws for NaN or Infinity, which JSON cannot carry.
 */
export function canonicalEventBytes(row: EventRow): Buffer {
  return Buffer.from(canonicalJson(row, row.origin), 'utf8');
}

// In `u` mode a surrogate class matches only unpaired surrogates (a pair is one code point).
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const LONE_SURROGATES = /[\ud800-\udfff]/gu;

/**
 * The event with every unpaired UTF-16 surrogate replaced by U+FFFD, or the event itself when it has
 * none. A store must append this form: UTF-8 cannot carry a lone surrogate, so a driver stores some
 * substitute (better-sqlite3 three U+FFFD, node-postgres one), the row read back differs from what
 * was hashed, and an untouched row would verify as edited.
 */
export function wellFormedEvent<E extends AuditEvent>(event: E): E {
  let copy: Record<string, unknown> | undefined;
  for (const key of EVENT_COLUMNS) {
    const value = event[key];
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) {
      copy ??= { ...event };
      copy[key] = value.replace(LONE_SURROGATES, '\ufffd');
    }
  }
  return (copy as E | undefined) ?? event;
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

function hexOf(value: unknown): string | undefined {
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
  appendStored(row: StoredRow): ChainFault | undefined {
    const expected = this.#size + 1;
    const seq = seqOf(row.seq);
    if (!Number.isSafeInteger(seq) || seq < 1) {
      return { seq: expected, reason: `seq ${expected}: the next row has no valid seq (${String(row.seq)})` };
    }
    if (row.origin !== this.origin) {
      return {
        seq,
        reason: `seq ${seq}: row belongs to origin ${JSON.stringify(row.origin)}, not ${JSON.stringify(this.origin)} (row moved or edited)`,
      };
    }
    if (seq > expected) {
      const what = seq === expected + 1 ? `seq ${expected}: missing` : `seq ${expected}..${seq - 1}: missing`;
      return { seq: expected, reason: `${what} (row deleted); the next row is seq ${seq}` };
    }
    if (seq < expected) {
      return { seq, reason: `seq ${seq}: appears twice (row duplicated or inserted)` };
    }
    if (hexOf(row.prev_hash) !== this.#lastHex) {
      const reason =
        seq === 1
          ? `seq 1: prev_hash is not the genesis hash (rows deleted or inserted before it)`
          : `seq ${seq}: prev_hash does not link to seq ${seq - 1} (row inserted, deleted, reordered or replaced)`;
      return { seq, reason };
    }
    let leaf: string;
    try {
      leaf = leafBinary(row, row.origin);
    } catch (err) {
      return { seq, reason: `seq ${seq}: contents cannot be canonicalized (${(err as Error).message})` };
    }
    const hash = chainHex(this.#lastHex, leaf);
    if (hexOf(row.hash) !== hash) {
      return { seq, reason: `seq ${seq}: hash does not match its contents (row edited)` };
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
   * Rebuilds the state by checking every row of a log in seq order (e.g. when a store opens and
   * verifies itself). Throws {@link ChainError} naming the first bad seq.
   */
  static fromRows(origin: string, rows: Iterable<StoredRow>): LogState {
    const state = new LogState(origin);
    for (const row of rows) {
      const fault = state.appendStored(row);
      if (fault) throw new ChainError(fault.reason, fault.seq);
    }
    return state;
  }
}
