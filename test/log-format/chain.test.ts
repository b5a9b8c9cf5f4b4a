import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEventBytes, FAST_CANONICAL_PATH } from '../../src/log-format/canonical.js';
import {
  ChainError,
  chainHash,
  GENESIS_HASH,
  LogState,
  leafHash,
  rowLeafHash,
  type StoredRow,
} from '../../src/log-format/chain.js';
import { merkleTreeHash } from '../../src/log-format/merkle-proofs.js';
import {
  type AuditEvent,
  auditEvent,
  EVENT_COLUMNS,
  type StoredAuditEvent,
} from '../../src/pipeline/event.js';

// The package's typings and its CommonJS export disagree; take whichever is the function.
const canonicalize = ((canonicalizeModule as unknown as { default?: unknown }).default ??
  canonicalizeModule) as (v: unknown) => string;

const ORIGIN = 'onbehalf/host-1/3f9a';
const sha = (...parts: Uint8Array[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

function seedEvent(i = 0): AuditEvent {
  return {
    event_id: `01J9ZK3Q${String(i).padStart(6, '0')}`,
    record_type: 'action',
    timestamp: new Date(Date.UTC(2026, 0, 14, 3, 14, 0, i)).toISOString(),
    actor_type: 'agent',
    actor_id: 'nhi:agent-7f3',
    actor_name: 'inbox-agent',
    owner_id: 'dana',
    on_behalf_of: 'tom',
    trigger_type: 'email',
    trigger_id: 'msg-8821',
    intent: 'triage_inbox',
    session_id: null,
    delegation_chain: '["tom","nhi:agent-7f3"]',
    scopes: '["mail.send"]',
    action: 'send_mail',
    target: 'stranger@evil.example',
    risk_tier: 2,
    result: 'ok',
    policy_decision: 'allow',
    policy_rule: 'mail.send',
    approval_state: 'not_required',
    approved_by: null,
    provenance: 'local',
    tool_arguments: '{"subject":"Fwd: invoice \\"Q3\\" ✓","to":"[REDACTED:email]"}',
    redactions: '["email"]',
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    span_id: '00f067aa0ba902b7',
    parent_span_id: null,
    service_name: 'inbox-agent',
    duration_ms: 41.25,
    attributes: '{}',
  };
}

/** What RFC 8785 says E is, computed the slow, obvious way. */
function referenceE(row: Record<string, unknown>, origin: string): string {
  const obj: Record<string, unknown> = { origin };
  for (const c of EVENT_COLUMNS) obj[c] = row[c] ?? null;
  // The documented normalization: a number's exact JSON text in the number columns is that number.
  for (const c of ['risk_tier', 'duration_ms']) {
    const v = obj[c];
    if (typeof v === 'string') obj[c] = Number(v);
  }
  return canonicalize(obj);
}

const NUMERIC = new Set(['risk_tier', 'duration_ms']);
const text = fc.oneof(
  fc.constant(null),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string(),
);
const whole = fc.oneof(fc.constant(null), fc.integer(), fc.integer().map(String));
const real = fc.oneof(
  whole,
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);
/** Rows of values of each column's own type, with extra and missing columns. */
const anyRow = fc
  .dictionary(fc.constantFrom(...EVENT_COLUMNS, 'extra_column', 'seq', 'hash'), fc.constant(null))
  .chain((shape) =>
    fc.record(
      Object.fromEntries(
        Object.keys(shape).map((k) => [k, k === 'risk_tier' ? whole : k === 'duration_ms' ? real : text]),
      ),
    ),
  );

describe('canonicalEventBytes', () => {
  it('is the RFC 8785 JSON of {origin, ...event columns}', () => {
    const event = seedEvent();
    const E = canonicalEventBytes({ ...event, origin: ORIGIN }).toString('utf8');
    expect(E).toBe(referenceE(event, ORIGIN));
    expect(E.startsWith('{"action":"send_mail","actor_id":"nhi:agent-7f3"')).toBe(true);
    expect(FAST_CANONICAL_PATH).toBe(true);
  });

  it('equals the reference for arbitrary column values, extra and missing columns', () => {
    fc.assert(
      fc.property(anyRow, fc.string({ minLength: 1 }), (row, origin) => {
        const E = canonicalEventBytes({ ...row, origin }).toString('utf8');
        expect(E).toBe(referenceE({ ...row, seq: undefined, hash: undefined }, origin));
      }),
      { numRuns: 500 },
    );
  });

  it('gives a row read back from a database the bytes of the event written', () => {
    const event = seedEvent();
    const written = canonicalEventBytes({ ...event, origin: ORIGIN });
    const fromPostgres = {
      ...event,
      origin: ORIGIN,
      risk_tier: '2',
      duration_ms: '41.25',
      seq: '1',
      prev_hash: GENESIS_HASH,
      hash: 'x',
      created_at: new Date(),
    };
    expect(canonicalEventBytes(fromPostgres).equals(written)).toBe(true);
    expect(canonicalEventBytes({ ...event, origin: ORIGIN, risk_tier: 2n }).equals(written)).toBe(true);
    const { session_id: _, ...withoutNullColumn } = event;
    expect(canonicalEventBytes({ ...withoutNullColumn, origin: ORIGIN }).equals(written)).toBe(true);
    // A real change of value is a change of bytes.
    expect(canonicalEventBytes({ ...event, origin: ORIGIN, risk_tier: 3 }).equals(written)).toBe(false);
    expect(canonicalEventBytes({ ...event, origin: ORIGIN, target: 'x' }).equals(written)).toBe(false);
  });

  it('refuses a value whose type or text is not its column’s canonical one, naming the column', () => {
    const row = (over: Record<string, unknown>) => ({ ...seedEvent(), origin: ORIGIN, ...over });
    // Each of these hashed like 3 before, while `WHERE risk_tier = 3` does not match it.
    for (const v of ['0x3', '3.0', ' 3 ', '0b11', '03', '3e0', 2.5, true, Buffer.from('3')]) {
      expect(() => canonicalEventBytes(row({ risk_tier: v })), String(v)).toThrow(/^risk_tier: /);
    }
    for (const v of ['41.250', ' 41.25', '0x29', '']) {
      expect(() => canonicalEventBytes(row({ duration_ms: v })), v).toThrow(/^duration_ms: /);
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_COLUMNS.filter((c) => !NUMERIC.has(c))),
        fc.oneof(
          fc.integer(),
          fc.double(),
          fc.boolean(),
          fc.uint8Array().map((b) => Buffer.from(b)),
        ),
        (column, value) => {
          expect(() => canonicalEventBytes(row({ [column]: value }))).toThrow(
            new RegExp(`^${column}: .* where text belongs$`),
          );
        },
      ),
    );
  });

  it('refuses numbers JSON cannot carry', () => {
    expect(() => canonicalEventBytes({ ...seedEvent(), origin: ORIGIN, duration_ms: Number.NaN })).toThrow();
    expect(() => canonicalEventBytes({ ...seedEvent(), origin: ORIGIN, target: Infinity })).toThrow();
  });
});

describe('leaf and chain hashes', () => {
  it('are SHA-256(0x00 ‖ E) and SHA-256(0x02 ‖ prev ‖ leaf)', () => {
    const row = { ...seedEvent(), origin: ORIGIN };
    const E = canonicalEventBytes(row);
    const leaf = leafHash(E);
    expect(leaf.equals(sha(Buffer.from([0]), E))).toBe(true);
    expect(rowLeafHash(row).equals(leaf)).toBe(true);
    const prev = sha(Buffer.from('prev'));
    const expected = sha(Buffer.from([2]), prev, leaf);
    expect(chainHash(prev, leaf).equals(expected)).toBe(true);
    expect(chainHash(prev.toString('hex'), leaf).equals(expected)).toBe(true);
    expect(() => chainHash('ABC', leaf)).toThrow(RangeError);
  });

  it('are pinned for the seed event, so the stored format cannot drift unnoticed', () => {
    const state = new LogState(ORIGIN);
    const { integrity } = state.append(seedEvent());
    expect(integrity.prev_hash).toBe(GENESIS_HASH);
    expect(integrity.hash).toBe(
      chainHash(GENESIS_HASH, leafHash(Buffer.from(referenceE(seedEvent(), ORIGIN)))).toString('hex'),
    );
    expect(integrity.hash).toMatchInlineSnapshot(
      `"330588de3231c985ffae8ffe5e99f6a422ed2932181b41e23947c2460d81528e"`,
    );
  });
});

function buildLog(
  n: number,
  origin = ORIGIN,
): { state: LogState; rows: StoredAuditEvent[]; leaves: Buffer[] } {
  const state = new LogState(origin);
  const rows: StoredAuditEvent[] = [];
  const leaves: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const event = seedEvent(i);
    const { leaf, integrity } = state.append(event);
    rows.push({ ...event, ...integrity });
    leaves.push(leaf);
  }
  return { state, rows, leaves };
}

describe('LogState', () => {
  it('numbers rows from 1 and links each to the one before', () => {
    const { state, rows, leaves } = buildLog(20);
    expect(state.size).toBe(20);
    rows.forEach((r, i) => {
      expect(r.seq).toBe(i + 1);
      expect(r.origin).toBe(ORIGIN);
      expect(r.prev_hash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1]!.hash);
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(rowLeafHash(r).equals(leaves[i]!)).toBe(true);
      expect(r.hash).toBe(chainHash(r.prev_hash, leaves[i]!).toString('hex'));
    });
    expect(state.lastHash).toBe(rows[19]!.hash);
    expect(state.root().equals(merkleTreeHash(leaves))).toBe(true);
    expect(state.checkpoint()).toEqual({ origin: ORIGIN, size: 20, root: merkleTreeHash(leaves) });
  });

  it('reopens from a JSON snapshot exactly where it left off', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 20 }), (n, more) => {
        const whole = buildLog(n + more);
        const first = buildLog(n);
        const reopened = LogState.restore(JSON.parse(JSON.stringify(first.state.snapshot())));
        for (let i = n; i < n + more; i++) {
          expect(reopened.append(seedEvent(i)).integrity).toEqual({
            origin: ORIGIN,
            seq: i + 1,
            prev_hash: whole.rows[i]!.prev_hash,
            hash: whole.rows[i]!.hash,
          });
        }
        expect(reopened.snapshot()).toEqual(whole.state.snapshot());
      }),
      { numRuns: 40 },
    );
  });

  it('refuses an inconsistent snapshot', () => {
    const snap = buildLog(3).state.snapshot();
    expect(() => LogState.restore({ ...snap, size: 4 })).toThrow(ChainError);
    expect(() => LogState.restore({ ...snap, lastHash: 'nope' })).toThrow(/lastHash/);
    expect(() => LogState.restore({ ...snap, size: 0, frontier: [] })).toThrow(/empty log/);
    expect(() => LogState.restore({ ...snap, origin: 'a\nb' })).toThrow(/single line/);
  });

  it('rebuilds from stored rows, as driver types come back', () => {
    const { state, rows } = buildLog(37);
    const asRead: StoredRow[] = rows.map((r) => ({
      ...r,
      seq: String(r.seq),
      risk_tier: String(r.risk_tier),
    }));
    expect(LogState.fromRows(ORIGIN, asRead).snapshot()).toEqual(state.snapshot());
    const bytea: StoredRow[] = rows.map((r) => ({
      ...r,
      seq: BigInt(r.seq),
      prev_hash: Buffer.from(r.prev_hash, 'hex'),
      hash: Buffer.from(r.hash, 'hex'),
    }));
    expect(LogState.fromRows(ORIGIN, bytea).snapshot()).toEqual(state.snapshot());
  });

  it('names the first bad seq when rebuilding from tampered rows, and does not advance past it', () => {
    const { rows } = buildLog(10);
    rows[6] = { ...rows[6]!, target: 'dana@acme.example' };
    let thrown: unknown;
    try {
      LogState.fromRows(ORIGIN, rows);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ChainError);
    expect((thrown as ChainError).seq).toBe(7);
    expect((thrown as ChainError).message).toBe('seq 7: hash does not match its contents (row edited)');

    const state = new LogState(ORIGIN);
    for (const r of rows.slice(0, 6)) expect(state.appendStored(r)).toBeUndefined();
    const before = state.snapshot();
    expect(state.appendStored(rows[6]!)?.seq).toBe(7);
    expect(state.snapshot()).toEqual(before);
  });
});

describe('LogState.clone', () => {
  it('is independent of the original: appending to one leaves the other where it was', () => {
    const a = new LogState('onbehalf/test/clone');
    for (let i = 0; i < 5; i++)
      a.append(
        auditEvent({
          event_id: `e${i}`,
          record_type: 'action',
          timestamp: '2026-01-01T03:14:00.000Z',
          action: 'a',
        }),
      );
    const b = a.clone();
    const rootBefore = a.root();
    b.append(
      auditEvent({
        event_id: 'e5',
        record_type: 'action',
        timestamp: '2026-01-01T03:14:00.000Z',
        action: 'a',
      }),
    );
    expect(a.size).toBe(5);
    expect(a.root().equals(rootBefore)).toBe(true);
    expect(b.size).toBe(6);
    expect(b.snapshot().frontier).not.toEqual(a.snapshot().frontier);
    expect(LogState.restore(a.snapshot()).lastHash).toBe(a.lastHash);
  });
});
