// Verification in ranges on worker threads (verify-ranges.ts) against the sequential verifier on the
// same real SQLite files: intact stores of sizes around range boundaries, every tamper class of the
// adversarial suite at seqs on either side of a boundary, and workers that fail.
import { copyFileSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogState } from '../../src/log-format/chain.js';
import { type AuditEvent, EVENT_COLUMNS } from '../../src/pipeline/event.js';
import { StoreError } from '../../src/stores/audit-store.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { RANGE_TUNING, type RangeOptions, type RangeTuning } from '../../src/verify/verify-ranges.js';
import {
  type VerifyStoreOptions,
  type VerifyStoreResult,
  verifyAuditStore,
} from '../../src/verify/verify-store.js';
import {
  type AnchoredStore,
  allRows,
  anchoredStore,
  cli,
  ensureBuilt,
  eventOf,
  pinnedKeys,
  rechainFrom,
  scratchDir,
  tamper,
} from '../adversarial/support.js';
import { testSigningKey } from '../helpers/audit.js';

let dir: string;
let anchored: AnchoredStore;

beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('ranges');
  anchored = await anchoredStore('ranges-anchored');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  anchored?.remove();
});

function event(i: number): AuditEvent {
  return {
    event_id: `evt-${String(i).padStart(6, '0')}`,
    record_type: 'action',
    timestamp: new Date(Date.UTC(2026, 0, 14, 3, 14, 0, i * 13)).toISOString(),
    actor_type: 'agent',
    actor_id: 'nhi:agent-7f3',
    actor_name: 'inbox-agent',
    owner_id: 'dana',
    on_behalf_of: 'tom',
    trigger_type: 'email',
    trigger_id: `msg-${8821 + (i % 3)}`,
    intent: 'triage_inbox',
    session_id: `sess-${i % 4}`,
    delegation_chain: '["tom","nhi:agent-7f3"]',
    scopes: '["mail.read"]',
    action: 'read_inbox',
    target: `mailbox/tom/${i}`,
    risk_tier: i % 4,
    result: 'ok',
    policy_decision: 'allow',
    policy_rule: 'rule-read',
    approval_state: 'not_required',
    approved_by: null,
    provenance: 'local',
    tool_arguments: `{"n":${i},"note":"é ✓"}`,
    redactions: '[]',
    trace_id: i.toString(16).padStart(32, '0'),
    span_id: (i + 1).toString(16).padStart(16, '0'),
    parent_span_id: null,
    service_name: 'inbox-agent',
    duration_ms: (i % 50) / 4,
    attributes: '{}',
  };
}

/** A store of `rows` events in one append each, a checkpoint every `every` rows and one at close. */
async function storeOf(name: string, rows: number, every: number): Promise<string> {
  const path = join(dir, `${name}.db`);
  const store = new SqliteAuditStore(path, {
    signingKey: testSigningKey,
    checkpointEvery: every,
    checkpointIntervalMs: 0,
  });
  for (let i = 0; i < rows; i++) store.appendSync([event(i)]);
  await store.close();
  return path;
}

/** Verifies `path` read-only, on the calling thread or in ranges. */
async function verifyWith(
  path: string,
  options: VerifyStoreOptions & RangeOptions,
): Promise<VerifyStoreResult> {
  const store = new SqliteAuditStore(path, { readonly: true });
  try {
    return await verifyAuditStore(store, options);
  } finally {
    await store.close();
  }
}

/** Both ways, with `tuning`: they must agree on everything, verdict, faults and roots included. */
async function bothWays(path: string, options: VerifyStoreOptions, tuning: RangeTuning) {
  const sequential = await verifyWith(path, { ...options, workers: 0 });
  const parallel = await verifyWith(path, { ...options, workers: 2, [RANGE_TUNING]: tuning });
  expect(parallel).toEqual(sequential);
  if (!sequential.ok) expect(parallel.ok).toBe(false);
  return sequential;
}

describe('verification in ranges on worker threads', () => {
  it('agrees with the sequential verifier on intact stores around range boundaries, checkpoints at odd sizes', async () => {
    for (const rows of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33]) {
      const path = await storeOf(`intact-${rows}`, rows, 3);
      for (const rangeRows of [1, 4, 8]) {
        const result = await bothWays(path, {}, { rangeRows });
        expect(result.verdict, `${rows} rows in ranges of ${rangeRows}`).toBe('intact');
        expect(result.count).toBe(rows);
        expect(result.logs[0]!.checkpointsVerified).toBe(Math.floor(rows / 3) + (rows % 3 === 0 ? 0 : 1));
      }
    }
  }, 240_000);

  it('agrees on a store with no rows and on one of two logs', async () => {
    const empty = await storeOf('empty', 0, 3);
    expect((await bothWays(empty, {}, { rangeRows: 2 })).count).toBe(0);
    const two = await storeOf('two-logs', 9, 4);
    // A second writer's log in the same file, as a second host's would be.
    tamper(two, (db) => appendOther(db, 'onbehalf/other-host/1', allRows(db).slice(0, 5).map(eventOf)));
    const result = await bothWays(two, {}, { rangeRows: 2 });
    expect(
      result.logs.map((l) => [l.origin === 'onbehalf/other-host/1' ? 'other' : 'own', l.count]).sort(),
    ).toEqual([
      ['other', 5],
      ['own', 9],
    ]);
    // Its rows link, but no checkpoint covers them.
    expect(result.count).toBe(14);
  }, 60_000);

  const seqs = [1, 4, 5, 8, 9, 12];
  const classes: { name: string; at: (db: Database.Database, seq: number, a: AnchoredStore) => void }[] = [
    {
      name: 'a column edited',
      at: (db, s) => db.prepare("UPDATE audit_events SET target = 'x' WHERE seq = ?").run(s),
    },
    {
      name: 'a BLOB written into a column (table rebuilt without STRICT; SQLite cannot render the row)',
      at: (db, s) => {
        unkeyed(db);
        db.prepare('UPDATE audit_events SET target = ? WHERE seq = ?').run(Buffer.from('mailbox'), s);
      },
    },
    {
      name: 'the hash edited',
      at: (db, s) =>
        db.prepare('UPDATE audit_events SET hash = lower(hex(randomblob(32))) WHERE seq = ?').run(s),
    },
    {
      name: 'the prev_hash edited',
      at: (db, s) =>
        db.prepare('UPDATE audit_events SET prev_hash = lower(hex(randomblob(32))) WHERE seq = ?').run(s),
    },
    { name: 'a row deleted', at: (db, s) => db.prepare('DELETE FROM audit_events WHERE seq = ?').run(s) },
    {
      name: 'three rows deleted',
      at: (db, s) => db.prepare('DELETE FROM audit_events WHERE seq >= ? AND seq < ?').run(s, s + 3),
    },
    { name: 'the tail deleted', at: (db, s) => db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(s) },
    {
      name: 'a row moved far ahead',
      at: (db, s) => db.prepare('UPDATE audit_events SET seq = 1000000 WHERE seq = ?').run(s),
    },
    {
      name: 'a row moved to another origin',
      at: (db, s) =>
        db.prepare("UPDATE audit_events SET origin = 'onbehalf/elsewhere/1' WHERE seq = ?").run(s),
    },
    {
      name: 'two rows swapped',
      at: (db, s) => {
        const move = db.prepare('UPDATE audit_events SET seq = ? WHERE seq = ?');
        const t = s === 12 ? 11 : s + 1;
        move.run(-1, s);
        move.run(s, t);
        move.run(t, -1);
      },
    },
    {
      name: 'a row duplicated (table rebuilt without its key)',
      at: (db, s) => {
        unkeyed(db);
        db.exec(`INSERT INTO audit_events SELECT * FROM audit_events WHERE seq = ${s}`);
      },
    },
    {
      name: 'a seq made text (table rebuilt without types)',
      at: (db, s) => {
        unkeyed(db);
        db.prepare("UPDATE audit_events SET seq = 'n' || seq WHERE seq = ?").run(s);
      },
    },
    {
      name: 'a seq made fractional (table rebuilt without types)',
      at: (db, s) => {
        unkeyed(db);
        db.prepare('UPDATE audit_events SET seq = seq - 0.5 WHERE seq = ?').run(s);
      },
    },
    {
      name: 'history rewritten, chain recomputed',
      at: (db, s, a) => {
        const events = allRows(db).map(eventOf);
        events[s - 1] = { ...events[s - 1]!, target: 'attacker@evil.example' };
        rechainFrom(db, a.base.origin, events, s);
      },
    },
    {
      name: 'history rewritten and the checkpoints after it removed',
      at: (db, s, a) => {
        const events = allRows(db).map(eventOf);
        events[s - 1] = { ...events[s - 1]!, on_behalf_of: 'mallory' };
        rechainFrom(db, a.base.origin, events, s);
        db.prepare('DELETE FROM audit_checkpoints WHERE size >= ?').run(s);
      },
    },
    {
      name: 'truncated with its checkpoints',
      at: (db, s) => {
        db.prepare('DELETE FROM audit_events WHERE seq > ?').run(s - 1);
        db.prepare('DELETE FROM audit_checkpoints WHERE size > ?').run(s - 1);
      },
    },
    {
      name: 'a stored checkpoint note edited',
      at: (db, s) =>
        db.prepare("UPDATE audit_checkpoints SET note = replace(note, '\n', '\n\n') WHERE size >= ?").run(s),
    },
  ];

  it.each(classes)(
    'agrees with the sequential verifier when $name, on either side of range ends',
    async ({ at }) => {
      const anchor = readFileSync(anchored.anchor, 'utf8');
      for (const seq of seqs) {
        const path = anchored.freshCopy();
        tamper(path, (db) => at(db, seq, anchored));
        const pinned = await bothWays(
          path,
          { trustedKeys: pinnedKeys, externalCheckpoints: [anchor] },
          { rangeRows: 4 },
        );
        expect(pinned.ok, `seq ${seq}`).toBe(false);
        // With the store's own keys too, where a ranged path would have other checkpoint faults to get wrong.
        if (seq === 4 || seq === 5) await bothWays(path, {}, { rangeRows: 2 });
        rmSync(path, { force: true });
      }
    },
    120_000,
  );

  it('a row moved to a far seq lands in the last range: no empty ranges up to it', async () => {
    const path = anchored.freshCopy();
    tamper(path, (db) => db.prepare('UPDATE audit_events SET seq = ? WHERE seq = 7').run(2 ** 52));
    const sequential = await verifyWith(path, { workers: 0 });
    expect(await verifyWith(path, { workers: 2 })).toEqual(sequential);
    expect(sequential.firstBadSeq).toBe(7);
  });

  it('a worker that throws or whose thread ends is a verification error, never a verdict', async () => {
    const path = await storeOf('failing', 9, 4);
    for (const how of ['throw', 'exit'] as const) {
      for (const range of [0, 2]) {
        const run = verifyWith(path, { workers: 2, [RANGE_TUNING]: { rangeRows: 2, fail: { range, how } } });
        await expect(run).rejects.toThrow(StoreError);
        await expect(run).rejects.toThrow(/worker thread verifying .* failed, so the log was not verified/);
      }
    }
  }, 60_000);

  it('a fault found before a failing range is the verdict: the failure is past where verification stops', async () => {
    const path = anchored.freshCopy();
    tamper(path, (db) => db.prepare("UPDATE audit_events SET target = 'x' WHERE seq = 2").run());
    const sequential = await verifyWith(path, { workers: 0 });
    for (const range of [1, 3, 5]) {
      const parallel = await verifyWith(path, {
        workers: 2,
        [RANGE_TUNING]: { rangeRows: 2, fail: { range, how: 'throw' } },
      });
      expect(parallel).toEqual(sequential);
    }
    expect(sequential.firstBadSeq).toBe(2);
  });

  it('a later range failing first still waits for the earlier range that holds the fault', async () => {
    const path = anchored.freshCopy();
    tamper(path, (db) => db.prepare("UPDATE audit_events SET target = 'x' WHERE seq = 2").run());
    const sequential = await verifyWith(path, { workers: 0 });
    for (const how of ['throw', 'exit'] as const) {
      const parallel = await verifyWith(path, {
        workers: 2,
        // Range 0 (seq 1..2, the fault) is still being checked when range 1's worker fails.
        [RANGE_TUNING]: { rangeRows: 2, delay: { range: 0, ms: 400 }, fail: { range: 1, how } },
      });
      expect(parallel).toEqual(sequential);
    }
    // And without a fault before it, the failure is the outcome: an error, never a verdict.
    const intact = anchored.freshCopy();
    await expect(
      verifyWith(intact, {
        workers: 2,
        [RANGE_TUNING]: { rangeRows: 2, delay: { range: 0, ms: 400 }, fail: { range: 1, how: 'throw' } },
      }),
    ).rejects.toThrow(/worker thread verifying seq 3\.\.4 .* failed/);
  });

  it('a store file removed under the verifier is verified on the connection that still reads it', async () => {
    const path = await storeOf('removed', 9, 4);
    const store = new SqliteAuditStore(path, { readonly: true });
    try {
      // A worker could only open the name, which is gone: the rows are read where they still are.
      unlinkSync(path);
      const result = await verifyAuditStore(store, { workers: 2 });
      expect(result.verdict).toBe('intact');
      expect(result.count).toBe(9);
    } finally {
      await store.close();
    }
  });

  it("a clean copy swapped in under the store's name is not what gets verified: the store's own file is", async () => {
    const path = await storeOf('swapped', 12, 4);
    const clean = join(dir, 'swapped-clean.db');
    copyFileSync(path, clean);
    // The file the store opens hides rows behind a view; a clean copy takes its name afterwards.
    tamper(path, (db) => db.exec('CREATE VIEW hidden AS SELECT * FROM audit_events WHERE seq > 3'));
    const store = new SqliteAuditStore(path, { readonly: true });
    try {
      const sequential = await verifyAuditStore(store, { workers: 0 });
      renameSync(clean, path);
      const parallel = await verifyAuditStore(store, {
        workers: 2,
        [RANGE_TUNING]: { rangeRows: 4 },
      } as VerifyStoreOptions & RangeOptions);
      expect(sequential.verdict).toBe('tampered');
      expect(parallel).toEqual(sequential);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('the structure check on its own worker thread finds what the store finds on this thread', async () => {
    const path = await storeOf('structure', 12, 4);
    tamper(path, (db) => db.exec('CREATE VIEW hidden AS SELECT * FROM audit_events WHERE seq > 3'));
    const result = await bothWays(path, {}, { rangeRows: 4 });
    expect(result.verdict).toBe('tampered');
    expect(result.database.map((p) => p.code)).toContain('store.schema_changed');
  }, 60_000);

  it('a structure worker that throws or whose thread ends is a verification error, never a verdict', async () => {
    const path = await storeOf('structure-fails', 9, 4);
    for (const how of ['throw', 'exit'] as const) {
      await expect(
        verifyWith(path, { workers: 2, [RANGE_TUNING]: { rangeRows: 4, failStructure: how } }),
      ).rejects.toThrow(/worker thread checking the structure of .* failed, so the store was not verified/);
    }
  }, 60_000);

  it('refuses a workers count that is not a whole number', async () => {
    const path = await storeOf('count', 2, 4);
    await expect(verifyWith(path, { workers: -1 })).rejects.toThrow(/workers must be a whole number/);
    await expect(verifyWith(path, { workers: 1.5 })).rejects.toThrow(/workers must be a whole number/);
  });

  it('reports progress from every worker, never going back, ending at the count', async () => {
    const path = join(dir, 'progress.db');
    const store = new SqliteAuditStore(path, {
      signingKey: testSigningKey,
      checkpointEvery: 7919,
      checkpointIntervalMs: 0,
    });
    const events = Array.from({ length: 25_000 }, (_, i) => event(i));
    for (let i = 0; i < events.length; i += 5000) store.appendSync(events.slice(i, i + 5000));
    await store.close();
    const seen: number[] = [];
    const result = await verifyWith(path, {
      workers: 2,
      onProgress: (n) => seen.push(n),
      [RANGE_TUNING]: { rangeRows: 4096 },
    });
    expect(result.verdict).toBe('intact');
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((n, i) => i === 0 || n >= seen[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toBe(25_000);
  }, 120_000);

  it('onbehalf verify --workers N gives the same output and exit code as without workers', async () => {
    const intact = await storeOf('cli-intact', 9, 4);
    const broken = anchored.freshCopy();
    tamper(broken, (db) => db.prepare('DELETE FROM audit_events WHERE seq = 5').run());
    for (const path of [intact, broken]) {
      const sequential = await cli('verify', path, '--workers', '0', '--format', 'json');
      const parallel = await cli('verify', path, '--workers', '2', '--format', 'json');
      expect(parallel.code).toBe(sequential.code);
      expect(JSON.parse(parallel.stdout)).toEqual(JSON.parse(sequential.stdout));
    }
    const bad = await cli('verify', intact, '--workers', 'many');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--workers: expected a whole number, got many/);
  }, 60_000);

  it('the worker entries import the log format and the SQLite reader only: no SDK, exporter or pg', () => {
    const repo = resolve(import.meta.dirname, '../..');
    const seen = new Set<string>();
    const bare = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
        const spec = m[1] ?? m[2]!;
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
        else bare.add(spec);
      }
    };
    walk(join(repo, 'dist/verify/verify-worker.js'));
    walk(join(repo, 'dist/verify/structure-worker.js'));
    const files = [...seen].map((f) => f.slice(join(repo, 'dist/').length));
    expect(
      files.filter((f) => !/^(log-format|stores|pipeline|errors|verify\/(verify|structure)-worker)/.test(f)),
    ).toEqual([]);
    expect(files).not.toContain('stores/sqlite-store.js');
    // zod: the event schema the canonical column list is read from.
    expect([...bare].filter((b) => !b.startsWith('node:'))).toEqual(['zod']);
  });
});

/** The table as an attacker rebuilds it without its primary key, types or STRICT. */
function unkeyed(db: Database.Database): void {
  db.exec(
    'CREATE TABLE copy AS SELECT * FROM audit_events; DROP TABLE audit_events; ALTER TABLE copy RENAME TO audit_events;',
  );
}

/** Writes `events` as a second origin's log, chained as its writer would. */
function appendOther(db: Database.Database, origin: string, events: AuditEvent[]): void {
  const state = new LogState(origin);
  const insert = db.prepare(
    `INSERT INTO audit_events (seq, origin, prev_hash, hash, ${EVENT_COLUMNS.join(', ')}) VALUES (@seq, @origin, @prev_hash, @hash, ${EVENT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  for (const e of events) {
    const other = { ...e, event_id: `${e.event_id}-other` };
    insert.run({ ...other, ...state.append(other).integrity });
  }
}
