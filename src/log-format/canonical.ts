import { createRequire } from 'node:module';
import { type AuditEvent, EVENT_COLUMNS } from '../pipeline/event.js';

/**
 * The canonical bytes E of an audit row (docs/log-format.md, "Canonical bytes"): RFC 8785 JSON of `{origin, ...event columns}`,
 * the same whichever driver read the row back. What the hash chain and the Merkle tree hash.
 */

// canonicalize is CommonJS whose typings declare an ES default export; require() sidesteps the mismatch.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string | undefined;

/**
 * An event's columns as a caller or a database driver hands them over: any value type the driver
 * returns, extra columns allowed (they are not hashed), a missing column counts as null.
 */
export type EventRow = { readonly [K in keyof AuditEvent]?: unknown } & { readonly origin: string };

/** The hashed columns, in RFC 8785 key order (UTF-16 code units, which is what `sort()` compares). */
export const CANONICAL_KEYS: readonly string[] = ['origin', ...EVENT_COLUMNS].sort();
const KEY_PREFIXES = CANONICAL_KEYS.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`);
// Drivers may hand numeric columns back as strings or bigints; these columns are numbers in the event.
const NUMERIC_COLUMNS: ReadonlySet<string> = new Set(['risk_tier', 'duration_ms']);
const NUMERIC_FLAGS = CANONICAL_KEYS.map((k) => NUMERIC_COLUMNS.has(k));
/** Numeric columns whose values are whole numbers. */
const INTEGER_COLUMNS: ReadonlySet<string> = new Set(['risk_tier']);

/**
 * A numeric column's value as a number (or null), or undefined when it is not one in canonical form.
 * A string counts only when it is exactly the number's JSON text: `'0x3'`, `'3.0'` or `' 3 '` would
 * hash like 3 while `WHERE risk_tier = 3` does not match them, so the row would verify and hide.
 */
function asNumber(value: unknown, integer: boolean): number | null | undefined {
  if (value === null || value === undefined) return null;
  let n: number | undefined;
  if (typeof value === 'number') n = Number.isFinite(value) ? value : undefined;
  else if (typeof value === 'string') {
    const parsed = Number(value);
    n = Number.isFinite(parsed) && JSON.stringify(parsed) === value ? parsed : undefined;
  } else if (
    typeof value === 'bigint' &&
    value <= BigInt(Number.MAX_SAFE_INTEGER) &&
    value >= -BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    n = Number(value);
  }
  if (n !== undefined && integer && !Number.isInteger(n)) return undefined;
  return n;
}

/** What a value that is not its column's type is, for the message that refuses it. */
function describeValue(value: unknown): string {
  if (value instanceof Uint8Array) return `a ${value.length}-byte blob`;
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 39)}…` : text}`;
}

/** A column's canonical JSON; a value whose type or text is not the column's canonical one is refused. */
function canonicalValue(value: unknown, key: string, numeric: boolean): string {
  if (numeric) {
    const integer = INTEGER_COLUMNS.has(key);
    const n = asNumber(value, integer);
    if (n === undefined) {
      throw new RangeError(
        `${key}: ${describeValue(value)} is not ${integer ? 'a whole number' : 'a number'} in canonical form`,
      );
    }
    return JSON.stringify(n);
  }
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'string') throw new RangeError(`${key}: ${describeValue(value)} where text belongs`);
  // canonicalize is RFC 8785 itself.
  return canonicalize(value) ?? 'null';
}

/** The general path: any value types, one column at a time. */
function canonicalJsonSlow(r: Record<string, unknown>, origin: string): string {
  let out = '';
  for (let i = 0; i < CANONICAL_KEYS.length; i++) {
    const key = CANONICAL_KEYS[i]!;
    out +=
      KEY_PREFIXES[i]! +
      (key === 'origin' ? JSON.stringify(origin) : canonicalValue(r[key], key, NUMERIC_FLAGS[i]!));
  }
  return `${out}}`;
}

/** Thrown inside the fast path when a value needs the general one. */
const SLOW = Symbol('slow');

function plain(value: unknown): unknown {
  if (typeof value === 'string' || value === null) return value;
  if (value === undefined) return null;
  throw SLOW;
}

function numeric(value: unknown, integer = false): number | null {
  if (typeof value === 'number' && (integer ? Number.isInteger(value) : Number.isFinite(value))) return value;
  const n = asNumber(value, integer);
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
    risk_tier: numeric(r.risk_tier, true),
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
export function canonicalJson(row: object, origin: string): string {
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
 * Integrity and unknown columns are left out, a missing column is null, and bigints or a number's
 * exact JSON text in `risk_tier`/`duration_ms` are read as numbers, so a row read back from SQLite or
 * PostgreSQL gives the same bytes as the event that was written. Throws a RangeError naming the column
 * for a value of another type or in another form (text where a number belongs, `'0x3'`, a fraction in
 * `risk_tier`, a number or blob where text belongs) and for NaN or Infinity, which JSON cannot carry.
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
  return replaceInStringColumns(event, LONE_SURROGATE, LONE_SURROGATES);
}

/**
 * The event with every match of `all` in its string columns replaced by U+FFFD, copied only when
 * `any` matches a column: what a store appends must read back byte for byte.
 */
export function replaceInStringColumns<E extends AuditEvent>(event: E, any: RegExp, all: RegExp): E {
  let copy: Record<string, unknown> | undefined;
  for (const key of EVENT_COLUMNS) {
    const value = event[key];
    if (typeof value === 'string' && any.test(value)) {
      copy ??= { ...event };
      copy[key] = value.replace(all, '\ufffd');
    }
  }
  return (copy as E | undefined) ?? event;
}
