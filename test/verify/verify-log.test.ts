import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFault, type VerificationFaultCode } from '../../src/errors/verification-fault.js';
import { generateSigningKey, type SigningKey, trustedKeysFromJwks } from '../../src/keys/keys.js';
import { canonicalEventBytes } from '../../src/log-format/canonical.js';
import { LogState } from '../../src/log-format/chain.js';
import { signCheckpoint } from '../../src/log-format/checkpoint.js';
import { type AuditEvent, EVENT_COLUMNS, type StoredAuditEvent } from '../../src/pipeline/event.js';
import { type VerifyLogInput, type VerifyLogResult, verifyLog } from '../../src/verify/verify-log.js';

const ORIGIN = 'onbehalf/host-1/3f9a';
const key = generateSigningKey();
const trustedKeys = trustedKeysFromJwks({ keys: [key.publicJwk] });

/** The deciding fault: its code, where, and the sentence users see (`reason` is it formatted). */
function expectFault(
  r: VerifyLogResult,
  code: VerificationFaultCode,
  message: string | RegExp,
  seq?: number,
): void {
  const first = r.problems[0]!;
  expect(first.code).toBe(code);
  expect(first.origin).toBe(ORIGIN);
  expect(first.seq).toBe(seq);
  if (typeof message === 'string') expect(first.message).toBe(message);
  else expect(first.message).toMatch(message);
  expect(r.reason).toBe(formatFault(first));
}

const ACTIONS = ['read_inbox', 'summarize', 'send_mail', 'delete_mail', 'pay_invoice'] as const;

/** The seed scenario and its neighbours: realistic rows, varied enough that no two are alike. */
function event(i: number): AuditEvent {
  const action = ACTIONS[i % ACTIONS.length]!;
  return {
    event_id: `01J9ZK3Q${String(i).padStart(6, '0')}`,
    record_type: i % 7 === 3 ? 'started' : 'action',
    timestamp: new Date(Date.UTC(2026, 0, 14, 3, 14, 0, i * 13)).toISOString(),
    actor_type: i % 11 === 0 ? 'human' : 'agent',
    actor_id: i % 11 === 0 ? 'tom' : 'nhi:agent-7f3',
    actor_name: i % 11 === 0 ? null : 'inbox-agent',
    owner_id: 'dana',
    on_behalf_of: 'tom',
    trigger_type: 'email',
    trigger_id: `msg-${8821 + (i % 3)}`,
    intent: 'triage_inbox',
    session_id: `sess-${i % 4}`,
    delegation_chain: '["tom","nhi:agent-7f3"]',
    scopes: '["mail.read","mail.send"]',
    action,
    target: action === 'send_mail' ? 'stranger@evil.example' : `mailbox/tom/${i}`,
    risk_tier: action === 'send_mail' ? 2 : i % 4,
    result: i % 7 === 3 ? 'started' : 'ok',
    policy_decision: 'allow',
    policy_rule: `rule-${action}`,
    approval_state: 'not_required',
    approved_by: null,
    provenance: 'local',
    tool_arguments: `{"to":"[REDACTED:email]","n":${i}}`,
    redactions: '["email"]',
    trace_id: i.toString(16).padStart(32, '0'),
    span_id: (i + 1).toString(16).padStart(16, '0'),
    parent_span_id: null,
    service_name: 'inbox-agent',
    duration_ms: 12 + (i % 50) / 4,
    attributes: '{}',
  };
}

interface Log {
  rows: StoredAuditEvent[];
  checkpoints: { note: string }[];
}

/** A log of n rows with a signed checkpoint every `every` rows (and none if every is 0). */
function buildLog(n: number, every: number, signer: SigningKey = key, origin = ORIGIN): Log {
  const state = new LogState(origin);
  const rows: StoredAuditEvent[] = [];
  const checkpoints: { note: string }[] = [];
  for (let i = 0; i < n; i++) {
    const e = event(i);
    rows.push({ ...e, ...state.append(e).integrity });
    if (every > 0 && state.size % every === 0)
      checkpoints.push({ note: signCheckpoint(state.checkpoint(), signer) });
  }
  return { rows, checkpoints };
}

/** Recomputes every integrity column, as someone with write access would after editing a row. */
function rechain(rows: readonly StoredAuditEvent[]): StoredAuditEvent[] {
  const state = new LogState(ORIGIN);
  return rows.map((r) => {
    const { origin: _o, seq: _s, prev_hash: _p, hash: _h, ...e } = r;
    return { ...e, ...state.append(e).integrity };
  });
}

const verify = (log: Log, extra: Partial<VerifyLogInput> = {}) =>
  verifyLog({ origin: ORIGIN, rows: log.rows, checkpoints: log.checkpoints, trustedKeys, ...extra });

/** A size and a 1-based seq inside it. */
const sizeAndSeq = (min = 2) =>
  fc.integer({ min, max: 120 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n })));

describe('verifyLog on untouched logs', () => {
  it('finds nothing wrong, whatever the size and checkpoint interval', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 150 }),
        fc.integer({ min: 0, max: 40 }),
        async (n, every) => {
          const log = buildLog(n, every);
          const r = await verify(log);
          expect(r).toMatchObject({ ok: true, origin: ORIGIN, count: n, problems: [] });
          expect(r.checkpointsVerified).toBe(log.checkpoints.length);
          expect(r.firstBadSeq).toBeUndefined();
          expect(r.reason).toBeUndefined();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads rows one by one or in batches, synchronously or not, and reports progress', async () => {
    const log = buildLog(95, 10);
    async function* batches() {
      for (let i = 0; i < log.rows.length; i += 7) yield log.rows.slice(i, i + 7);
    }
    const seen: number[] = [];
    const results = [
      await verify(log, { rows: batches(), onProgress: (c) => seen.push(c) }),
      await verify(log, { rows: [log.rows.slice(0, 50), ...log.rows.slice(50)] }),
      await verify(log, { checkpoints: [...log.checkpoints].reverse() }),
    ];
    for (const r of results) expect(r).toMatchObject({ ok: true, count: 95, checkpointsVerified: 9 });
    expect(seen.at(-1)).toBe(95);
  });
});

describe('verifyLog on tampered rows', () => {
  it('names the seq of any edited column', async () => {
    const log = buildLog(120, 0);
    const column = fc.constantFrom(...EVENT_COLUMNS);
    const value = fc.oneof(fc.constant(null), fc.string(), fc.integer({ min: 0, max: 3 }));
    await fc.assert(
      fc.asyncProperty(sizeAndSeq(), column, value, async ([n, seq], col, v) => {
        // A value of the column's own type: one of another type is refused before hashing (below).
        fc.pre((typeof v === 'number') === (col === 'risk_tier' || col === 'duration_ms') || v === null);
        const original = log.rows[seq - 1]!;
        const edited = { ...original, [col]: v };
        fc.pre(!canonicalEventBytes(edited).equals(canonicalEventBytes(original)));
        const rows = log.rows.slice(0, n);
        rows[seq - 1] = edited;
        const r = await verify({ rows, checkpoints: [] });
        expect(r).toMatchObject({ ok: false, firstBadSeq: seq, count: seq - 1 });
        expectFault(r, 'row.hash_mismatch', `seq ${seq}: hash does not match its contents (row edited)`, seq);
      }),
      { numRuns: 150 },
    );
  });

  it('names a deleted row', async () => {
    const log = buildLog(120, 0);
    await fc.assert(
      fc.asyncProperty(sizeAndSeq(), async ([n, seq]) => {
        fc.pre(seq < n); // the last row of a log with no checkpoint past it leaves no trace in the chain
        const rows = log.rows.slice(0, n).filter((r) => r.seq !== seq);
        const r = await verify({ rows, checkpoints: [] });
        expect(r).toMatchObject({ ok: false, firstBadSeq: seq });
        expectFault(
          r,
          'row.missing',
          `seq ${seq}: missing (row deleted); the next row is seq ${seq + 1}`,
          seq,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('names a duplicated row', async () => {
    const log = buildLog(120, 0);
    await fc.assert(
      fc.asyncProperty(sizeAndSeq(1), async ([n, seq]) => {
        const rows = log.rows.slice(0, n);
        rows.splice(seq, 0, rows[seq - 1]!);
        const r = await verify({ rows, checkpoints: [] });
        expect(r).toMatchObject({ ok: false, firstBadSeq: seq });
        expectFault(r, 'row.duplicate', `seq ${seq}: appears twice (row duplicated or inserted)`, seq);
      }),
      { numRuns: 100 },
    );
  });

  it('names two swapped rows', async () => {
    const log = buildLog(120, 0);
    await fc.assert(
      fc.asyncProperty(sizeAndSeq(), fc.boolean(), async ([n, seq], keepIntegrity) => {
        fc.pre(seq < n);
        const rows = log.rows.slice(0, n);
        const [a, b] = [rows[seq - 1]!, rows[seq]!];
        const pick = (r: StoredAuditEvent) => ({ seq: r.seq, prev_hash: r.prev_hash, hash: r.hash });
        // Either whole rows trade places (seq renumbered), or only their contents do.
        rows[seq - 1] = keepIntegrity ? { ...b, ...pick(a) } : { ...b, seq: a.seq };
        rows[seq] = keepIntegrity ? { ...a, ...pick(b) } : { ...a, seq: b.seq };
        const r = await verify({ rows, checkpoints: [] });
        expect(r).toMatchObject({ ok: false, firstBadSeq: seq });
        expectFault(
          r,
          keepIntegrity ? 'row.hash_mismatch' : 'row.chain_broken',
          keepIntegrity
            ? `seq ${seq}: hash does not match its contents (row edited)`
            : seq === 1
              ? 'seq 1: prev_hash is not the genesis hash (rows deleted or inserted before it)'
              : `seq ${seq}: prev_hash does not link to seq ${seq - 1} (row inserted, deleted, reordered or replaced)`,
          seq,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('names a row inserted with a forged link, at the first row after it that cannot link', async () => {
    const log = buildLog(30, 0);
    const rows = log.rows.slice(0, 12);
    const state = LogState.fromRows(ORIGIN, rows);
    const forged = { ...event(999), ...state.append(event(999)).integrity };
    const renumbered = log.rows.slice(12).map((r) => ({ ...r, seq: r.seq + 1 }));
    const r = await verify({ rows: [...rows, forged, ...renumbered], checkpoints: [] });
    expect(r).toMatchObject({ ok: false, firstBadSeq: 14 });
    expectFault(r, 'row.chain_broken', /^seq 14: prev_hash does not link to seq 13/, 14);
  });

  it("names a row whose origin was changed, or that came from another writer's log", async () => {
    const log = buildLog(20, 5);
    const rows = log.rows.slice();
    rows[8] = { ...rows[8]!, origin: 'onbehalf/host-2/aa01' };
    const r = await verify({ ...log, rows });
    expect(r).toMatchObject({ ok: false, firstBadSeq: 9 });
    expectFault(
      r,
      'row.origin_mismatch',
      'seq 9: row belongs to origin "onbehalf/host-2/aa01", not "onbehalf/host-1/3f9a" (row moved or edited)',
      9,
    );
  });
});

describe('verifyLog against checkpoints', () => {
  it('catches a chain recomputed after an edit, between the last matching checkpoint and the first that differs', async () => {
    const log = buildLog(120, 25);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 100 }), async (seq) => {
        const edited = log.rows.slice();
        edited[seq - 1] = { ...edited[seq - 1]!, target: 'dana@acme.example', risk_tier: 0 };
        const r = await verify({ rows: rechain(edited), checkpoints: log.checkpoints });
        const size = Math.ceil(seq / 25) * 25;
        const from = size - 24;
        expect(r).toMatchObject({ ok: false, firstBadSeq: from, checkpointsVerified: (from - 1) / 25 });
        expectFault(
          r,
          'checkpoint.root_mismatch',
          `seq ${from}..${size}: the Merkle root of the first ${size} rows does not match the signed checkpoint at size ${size} (rows in this range were rewritten and the chain recomputed after it was signed)`,
          from,
        );
      }),
      { numRuns: 40 },
    );
  });

  it('catches truncation below a checkpoint', async () => {
    const log = buildLog(60, 20);
    const r = await verify({ ...log, rows: log.rows.slice(0, 47) });
    expect(r).toMatchObject({ ok: false, firstBadSeq: 48, count: 47, checkpointsVerified: 2 });
    expectFault(
      r,
      'checkpoint.beyond_log',
      'seq 48..60: missing: the log has 47 rows but the signed checkpoint at size 60 covers 60 (log truncated)',
      48,
    );
  });

  it('catches an edited checkpoint', async () => {
    const log = buildLog(40, 10);
    const checkpoints = log.checkpoints.slice();
    checkpoints[2] = { note: checkpoints[2]!.note.replace('\n30\n', '\n31\n') };
    const r = await verify({ ...log, checkpoints });
    expect(r.ok).toBe(false);
    expect(r.firstBadSeq).toBeUndefined();
    expect(r.checkpointsVerified).toBe(3);
    expectFault(
      r,
      'checkpoint.signature_invalid',
      /^checkpoint at size 31: signature by trusted key .* does not verify \(checkpoint edited\)$/,
    );
  });

  it('catches a checkpoint signed by an untrusted key, and says when no keys were given', async () => {
    const mallory = generateSigningKey();
    const log = buildLog(30, 10, mallory);
    const r = await verify(log);
    expect(r).toMatchObject({ ok: false, checkpointsVerified: 0 });
    expect(r.problems.map((p) => p.code)).toEqual(Array(3).fill('checkpoint.untrusted'));
    expect(r.untrustedCheckpoints).toBe(3);
    expectFault(
      r,
      'checkpoint.untrusted',
      /^checkpoint at size 10: not signed by a trusted key for onbehalf\/host-1\/3f9a/,
    );
    const none = await verify(buildLog(30, 10), { trustedKeys: [] });
    expectFault(
      none,
      'checkpoint.untrusted',
      'checkpoint at size 10: no trusted keys were given to verify its signature',
    );
  });

  it('catches a checkpoint of another origin, and a malformed one', async () => {
    const log = buildLog(30, 10);
    const foreign = buildLog(30, 10, key, 'onbehalf/host-2/aa01').checkpoints[0]!;
    const r = await verify({ ...log, checkpoints: [...log.checkpoints, foreign, { note: 'garbage\n' }] });
    expect(r).toMatchObject({ ok: false, checkpointsVerified: 3 });
    expect(r.problems).toEqual([
      {
        code: 'checkpoint.origin_mismatch',
        origin: ORIGIN,
        message:
          'checkpoint at size 10: is for origin "onbehalf/host-2/aa01", not this log "onbehalf/host-1/3f9a"',
      },
      {
        code: 'checkpoint.malformed',
        origin: ORIGIN,
        message: 'checkpoint #5: malformed: no blank line between the body and the signatures',
      },
    ]);
  });

  it('reports a row fault before a checkpoint fault, and lists both', async () => {
    const log = buildLog(30, 10);
    const rows = log.rows.slice();
    rows[4] = { ...rows[4]!, result: 'denied' };
    const r = await verify({ rows, checkpoints: [...log.checkpoints, { note: 'garbage\n' }] });
    expect(r).toMatchObject({ ok: false, firstBadSeq: 5 });
    expectFault(r, 'row.hash_mismatch', 'seq 5: hash does not match its contents (row edited)', 5);
    expect(r.problems.map((p) => p.code)).toEqual(['row.hash_mismatch', 'checkpoint.malformed']);
  });

  it('catches a rollback past an external checkpoint', async () => {
    const log = buildLog(80, 20);
    const exported = log.checkpoints[2]!; // size 60, shipped off-host
    const rolledBack = { rows: log.rows.slice(0, 45), checkpoints: log.checkpoints.slice(0, 2) };
    expect((await verify(rolledBack)).ok).toBe(true);
    const r = await verify(rolledBack, { externalCheckpoints: [exported] });
    expect(r).toMatchObject({ ok: false, firstBadSeq: 46, checkpointsVerified: 2 });
    expectFault(
      r,
      'checkpoint.rollback',
      'seq 46..60: missing: the log has 45 rows but the signed external checkpoint at size 60 covers 60 (log truncated or rolled back)',
      46,
    );
  });

  it('catches a fork from an external checkpoint', async () => {
    const log = buildLog(80, 20);
    const exported = log.checkpoints[2]!;
    // History rewritten at seq 50 and re-signed with the writer's own key: consistent on its own.
    const forkedRows = log.rows.slice();
    forkedRows[49] = { ...forkedRows[49]!, approved_by: 'dana' };
    const state = new LogState(ORIGIN);
    const checkpoints: { note: string }[] = [];
    const rows = rechain(forkedRows).map((r) => {
      const { origin: _o, seq: _s, prev_hash: _p, hash: _h, ...e } = r;
      const row = { ...e, ...state.append(e).integrity };
      if (state.size % 20 === 0) checkpoints.push({ note: signCheckpoint(state.checkpoint(), key) });
      return row;
    });
    expect((await verify({ rows, checkpoints })).ok).toBe(true);
    const r = await verify({ rows, checkpoints }, { externalCheckpoints: [exported] });
    expect(r).toMatchObject({ ok: false, firstBadSeq: 41, checkpointsVerified: 3 });
    expectFault(
      r,
      'checkpoint.forked',
      /^seq 41\.\.60: the Merkle root of the first 60 rows does not match the signed external checkpoint at size 60 \(this log has forked/,
      41,
    );
  });

  it('accepts a matching external checkpoint, even from before the latest stored one', async () => {
    const log = buildLog(80, 20);
    const r = await verify(log, { externalCheckpoints: [log.checkpoints[1]!] });
    expect(r).toMatchObject({ ok: true, checkpointsVerified: 5 });
  });
});
